"""SnapStart's cold start of the DEPLOYED artefact: after-restore hooks + the first event, per handler.

The same artefact and Lambda-like environment as bench_cold_start.py, run as a SnapStart function: one
interpreter does INIT (the import) and the before-snapshot hooks (what Lambda runs once when it publishes
a version), then forks one child per cold start (a copy of the initialised memory, as a restore from the
microVM snapshot is); each child runs the after-restore hooks and its first event (snapstart_probe.py).
Median of RUNS children, CPU time (the child's own) and elapsed, AWS being moto's server on loopback.

What this cannot measure: the restore itself (Lambda fetching the snapshot's pages into a new microVM and
resuming it). AWS reports it as "Restore Duration" ("the time it takes for Lambda to restore a snapshot,
load the runtime, and run any after-restore runtime hooks"), documents no figure for it, and bills only the
runtime loading and the hooks ("Billed Restore Duration"). A fork shares pages copy-on-write; a restored
microVM loads them on first touch from the snapshot cache: that work is AWS's, outside these figures.

The environment differs from the classic one as AWS documents for SnapStart: AWS_LAMBDA_INITIALIZATION_TYPE
is "snap-start", and AWS_LAMBDA_LOG_GROUP_NAME / AWS_LAMBDA_LOG_STREAM_NAME are not set. Credentials stay
in the environment here (moto); on Lambda they come from the container credentials provider.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import bench_cold_start as cold
from benchmarks.lambda_artefact import Artefact, built_artefact

PROBE = (Path(__file__).parent / "snapstart_probe.py").read_text()
HANDLERS = ("IngestWebhookFunction", "ScoreEventsFunction", "DecayScoresFunction")


@dataclass
class Restore:
    restore_cpu_ms: float  # after-restore hooks
    event_cpu_ms: float  # the first event
    restore_ms: float
    event_ms: float
    log_bytes: int
    response: dict[str, Any] | None

    @property
    def cpu_ms(self) -> float:
        return self.restore_cpu_ms + self.event_cpu_ms

    @property
    def elapsed_ms(self) -> float:
        return self.restore_ms + self.event_ms


@dataclass
class SnapStartFigures:
    function: str
    import_cpu_ms: float  # INIT at publish time
    hooks_cpu_ms: float  # the before-snapshot hooks (priming), at publish time
    hooks: tuple[int, int]  # hooks registered: before snapshot, after restore
    restores: list[Restore] = field(default_factory=list)

    def median(self, pick: Callable[[Restore], float]) -> float:
        return statistics.median(pick(restore) for restore in self.restores)


@contextmanager
def runtime_directory() -> Iterator[Path]:
    """Lambda's runtime directory, as far as the hooks go: snapshot_restore_py and nothing else."""
    spec = importlib.util.find_spec("snapshot_restore_py")
    if spec is None or spec.origin is None:
        raise RuntimeError("snapshot-restore-py is missing: `make install` installs the dev extra")
    directory = Path(tempfile.mkdtemp(prefix="lambda-runtime-"))
    try:
        shutil.copy(spec.origin, directory / "snapshot_restore_py.py")
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def snapstart_environment(stack: Any, artefact: Artefact, function: str, runtime: Path) -> dict[str, str]:
    environment = cold.lambda_environment(stack, artefact, function)
    for name in ("AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME"):  # not set on SnapStart (AWS)
        environment.pop(name, None)
    environment |= {
        "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start",
        "AWS_LAMBDA_FUNCTION_VERSION": "1",
        "PYTHONPATH": environment["PYTHONPATH"] + os.pathsep + str(runtime),
    }
    return environment


def run_snapstart(
    stack: Any, artefact: Artefact, runtime: Path, function: str, events: list[dict[str, Any]]
) -> SnapStartFigures:
    environment = snapstart_environment(stack, artefact, function, runtime)
    output = subprocess.run(  # noqa: S603 - our own interpreter and probe
        [sys.executable, "-S", "-c", PROBE],
        input=json.dumps({"handler": environment["_HANDLER"], "events": events}),
        env=environment, capture_output=True, text=True, check=False, cwd=environment["LAMBDA_TASK_ROOT"],
    )  # fmt: skip
    lines = [json.loads(line) for line in output.stdout.splitlines() if line.startswith("{")]
    if output.returncode != 0 or not lines or "import_ms" not in lines[-1]:
        raise RuntimeError(f"{function} SnapStart probe failed:\n{output.stderr[-3000:]}")
    parent, children = lines[-1], lines[:-1]
    if len(children) != len(events):
        raise RuntimeError(f"{function}: {len(children)} of {len(events)} restores reported:\n{output.stderr[-3000:]}")
    figures = SnapStartFigures(
        function, parent["import_cpu_ms"], parent["hooks_cpu_ms"], (parent["hooks_before"], parent["hooks_after"])
    )
    for child in children:
        figures.restores.append(
            Restore(child["restore_cpu_ms"], child["event_cpu_ms"], child["restore_ms"], child["event_ms"],
                    child["log_bytes"], child["response"])
        )  # fmt: skip
    return figures


def measure(runs: int = cold.RUNS, say: Callable[[str], None] = print, source: Path = cold.ROOT) -> dict[str, Any]:
    artefact = built_artefact(source, say=say)
    log = cold.RequestLog()
    # moto's backends are this process's: a stack built before (bench_cold_start's) left its resources there.
    from moto.moto_api._internal.models import moto_api_backend  # noqa: PLC0415

    moto_api_backend.reset()
    figures: dict[str, SnapStartFigures] = {}
    with runtime_directory() as runtime, cold.emulated_stack(log) as stack:
        ingest = "IngestWebhookFunction"
        figures[ingest] = run_snapstart(
            stack, artefact, runtime, ingest, [cold.form_webhook(stack, 5000 + n) for n in range(runs)]
        )
        statuses = [(restore.response or {}).get("statusCode") for restore in figures[ingest].restores]
        if any(status != 202 for status in statuses):
            raise RuntimeError(f"the restored webhooks were not all accepted: {statuses}")
        scorer = "ScoreEventsFunction"  # each restore's first batch: one new lead's form submission
        figures[scorer] = run_snapstart(
            stack, artefact, runtime, scorer, [cold.sqs_event([record]) for record in cold.queued_records(stack, runs)]
        )
        decay = "DecayScoresFunction"
        figures[decay] = run_snapstart(
            stack, artefact, runtime, decay, [cold.sqs_event([cold.decay_segment_record(stack)]) for _ in range(runs)]
        )
        for name in (scorer, decay):
            failed = [r.response for r in figures[name].restores if (r.response or {}).get("batchItemFailures")]
            if failed:
                raise RuntimeError(f"{name}: restored runs failed records: {failed[:3]}")
    return figures


def main(
    quick: bool = False, say: Callable[[str], None] = print, classic: dict[str, cold.HandlerFigures] | None = None
) -> dict[str, Any]:
    runs = 7 if quick else cold.RUNS
    load_before = os.getloadavg()[0]
    figures = measure(runs, say)
    load_after = os.getloadavg()[0]
    say(f"  SnapStart: INIT + before-snapshot hooks once, then {runs} forked restores, each: after-restore hooks + "
        f"first event; median; load average {load_before:.1f} -> {load_after:.1f}")  # fmt: skip
    say("  CPU ms of this box (the handler process alone; AWS's answers are moto's, in another process)")
    say(f"  {'function':<22} {'classic cold':>12} | {'publish: INIT':>13} {'+ priming':>9} | "
        f"{'restore hooks':>13} {'+ 1st event':>11} {'= cold':>7} {'elapsed':>8}  target")  # fmt: skip
    results: dict[str, Any] = {"snapstart": figures}
    for name, handler in figures.items():
        classic_cpu = statistics.median(run.cold_cpu_ms for run in classic[name].runs) if classic else float("nan")
        hooks = handler.median(lambda r: r.restore_cpu_ms)
        first = handler.median(lambda r: r.event_cpu_ms)
        total = handler.median(lambda r: r.cpu_ms)
        elapsed = handler.median(lambda r: r.elapsed_ms)
        verdict = "meets" if total <= cold.TARGET_MS else "ABOVE"
        say(f"  {name:<22} {classic_cpu:9.0f} ms | {handler.import_cpu_ms:10.0f} ms {handler.hooks_cpu_ms:6.0f} ms | "
            f"{hooks:10.1f} ms {first:8.0f} ms {total:4.0f} ms {elapsed:5.0f} ms  {verdict} {cold.TARGET_MS} ms "
            f"(+ Lambda's restore, not measurable here)")  # fmt: skip
        results[f"snapstart cold start {name} (CPU ms)"] = total
        results[f"snapstart publish priming {name} (CPU ms)"] = handler.hooks_cpu_ms
    return results


if __name__ == "__main__":
    main()
