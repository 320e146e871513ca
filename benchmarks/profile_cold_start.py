"""Where one handler's deployed cold start goes: `python -X importtime` of its import, cProfile of its first event.

    python -m benchmarks.profile_cold_start IngestWebhookFunction [--top 40]

Same artefact, environment and first event as bench_cold_start (the deployed package, Lambda's variables,
moto on loopback). Prints the imports with the largest cumulative times (self time beside them) and the
functions of the first event with the largest cumulative times. Times under -X importtime and cProfile are
inflated by the instrumentation: read them for where the time goes, not as the cold start itself.
"""

from __future__ import annotations

import argparse
import json
import pstats
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import bench_cold_start as bench
from benchmarks.lambda_artefact import built_artefact


def first_events(stack: Any, artefact: Any, log: bench.RequestLog, function: str) -> list[dict[str, Any]]:
    if function == "IngestWebhookFunction":
        return [bench.form_webhook(stack, 1)]
    if function == "ScoreEventsFunction":
        bench.run_once(stack, artefact, log, "IngestWebhookFunction", [bench.form_webhook(stack, 2)])
        return [bench.sqs_event(bench.queued_records(stack, 1))]
    return [bench.sqs_event([bench.decay_segment_record(stack)])]


def import_times(stderr: str, top: int) -> list[tuple[int, int, str]]:
    """(cumulative us, self us, module) of `-X importtime`'s lines, the largest cumulative first."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|", 2)
        rows.append((int(cumulative), int(own), name.rstrip()))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_cold_start", description=__doc__)
    parser.add_argument("function", choices=["IngestWebhookFunction", "ScoreEventsFunction", "DecayScoresFunction"])
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--source", type=Path, default=bench.ROOT)
    parser.add_argument("--warm-batch", action="store_true", help="scorer: profile a warm batch of 25 instead")
    options = parser.parse_args()
    artefact = built_artefact(options.source.resolve(), say=print)
    log = bench.RequestLog()
    with bench.emulated_stack(log) as stack, tempfile.TemporaryDirectory() as scratch:
        events = first_events(stack, artefact, log, options.function)
        environment = bench.lambda_environment(stack, artefact, options.function)
        environment["PROBE_PROFILE"] = str(Path(scratch) / "first-event.prof")
        if options.warm_batch and options.function == "ScoreEventsFunction":
            webhooks = [bench.form_webhook(stack, 100 + number) for number in range(25)]
            bench.run_once(stack, artefact, log, "IngestWebhookFunction", webhooks)
            events.append(bench.sqs_event(bench.queued_records(stack, 25)))
            environment["PROBE_PROFILE_EVENT"] = "1"
        output = subprocess.run(  # noqa: S603 - our own interpreter and probe
            [sys.executable, "-S", "-X", "importtime", "-c", bench.PROBE],
            input=json.dumps({"handler": environment["_HANDLER"], "events": events}),
            env=environment, capture_output=True, text=True, check=False, cwd=environment["LAMBDA_TASK_ROOT"],
        )  # fmt: skip
        if output.returncode != 0:
            raise SystemExit(output.stderr[-3000:])
        report = json.loads(output.stdout.strip().splitlines()[-1])
        print(f"{options.function}: import {report['import_cpu_ms']:.0f} ms CPU, first event "
              f"{report['invocations'][0]['cpu_ms']:.0f} ms CPU (both inflated by the profilers), "
              f"{report['modules']} modules from the artefact")  # fmt: skip
        print("\nimports, largest cumulative first (us, -X importtime): cumulative | self | module")
        for cumulative, own, name in import_times(output.stderr, options.top):
            print(f"  {cumulative:9d} | {own:8d} | {name}")
        warm = report["invocations"][-1]
        print(f"last invocation: {warm['cpu_ms']:.0f} ms CPU")
        print("\nprofiled event, largest cumulative first (cProfile):")
        stats = pstats.Stats(environment["PROBE_PROFILE"])
        stats.sort_stats("cumulative").print_stats(options.top)


if __name__ == "__main__":
    main()
