"""What each change gained: cold starts of several source trees (or .pyc modes), interleaved run by run.

    python -m benchmarks.compare_cold_start --runs 15 before=/tmp/tree-a:none after=.:unchecked-hash

Each variant is `label=<source tree>[:<pyc mode>]` (modes as in the Makefiles' PYC_MODE). Runs alternate
between the variants, so a busy machine slows every variant alike; the medians are printed side by side.
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path

from benchmarks import bench_cold_start as bench
from benchmarks.lambda_artefact import built_artefact

HANDLERS = ("IngestWebhookFunction", "ScoreEventsFunction", "DecayScoresFunction")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compare_cold_start", description=__doc__)
    parser.add_argument("variants", nargs="+", help="label=source[:pyc-mode]")
    parser.add_argument("--runs", type=int, default=bench.RUNS)
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count each run's instructions under valgrind (deterministic whatever the load; ~40x slower)",
    )
    options = parser.parse_args()
    variants = {}
    for spec in options.variants:
        label, _, rest = spec.partition("=")
        source, _, mode = rest.partition(":")
        variants[label] = built_artefact(Path(source).resolve(), say=print, pyc_mode=mode or "unchecked-hash")
    samples: dict[tuple[str, str], list[bench.ColdRun]] = {}
    log = bench.RequestLog()
    with bench.emulated_stack(log) as stack:
        for round_number in range(options.runs):
            for function in HANDLERS:
                for label, artefact in variants.items():
                    if function == "IngestWebhookFunction":
                        events = [bench.form_webhook(stack, round_number)]
                    elif function == "ScoreEventsFunction":
                        bench.run_once(stack, artefact, log, "IngestWebhookFunction", [bench.form_webhook(stack, 7)])
                        events = [bench.sqs_event(bench.queued_records(stack, 1))]
                    else:
                        events = [bench.sqs_event([bench.decay_segment_record(stack)])]
                    counting = options.instructions
                    run = bench.run_once(stack, artefact, log, function, events, count_instructions=counting)
                    samples.setdefault((label, function), []).append(run)
    print(f"median of {options.runs} interleaved runs, CPU ms: import + first event (import | first event) "
          "<the fastest run: contention only ever adds time> [wall ms], files compiled")  # fmt: skip
    for function in HANDLERS:
        cells = []
        for label in variants:
            runs = samples[(label, function)]
            total = statistics.median(run.cold_cpu_ms for run in runs)
            fastest = min(run.cold_cpu_ms for run in runs)
            imported = statistics.median(run.import_cpu_ms for run in runs)
            first = statistics.median(run.invocations[0].cpu_ms for run in runs)
            wall = statistics.median(run.cold_ms for run in runs)
            compiled = statistics.median(len(run.compiled) for run in runs)
            instructions = statistics.median(run.instructions for run in runs) / 1e6
            counted = f" {instructions:,.0f}M instr" if instructions else ""
            cells.append(
                f"{label} {total:5.0f} ({imported:4.0f} | {first:4.0f}) <{fastest:4.0f}> [{wall:5.0f}] c={compiled:.0f}"
                f"{counted}"
            )
        print(f"  {function:<22} " + "   ".join(cells), flush=True)
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
