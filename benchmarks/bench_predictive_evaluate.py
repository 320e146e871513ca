"""`leadscore evaluate --predictive` at scale: the predictive part beside the SQL part, on the same ledger.

The ledger is bench_evaluate's: a simulated population (local/population.py, seed 7) replayed under
scoring/default.yaml, tiled into copies with their own lead and event ids. The predictive model is trained
as `make demo` trains it (seed 11, the trainer's code). Each measurement runs in a process of its own, so
its peak RSS is its own:

- sql: the rule evaluation (DuckDB reads the files, three queries, metrics), what the README's 100,000-lead
  row measures;
- one-pass: the same, then the predictive evaluation as `leadscore evaluate` now runs it (DuckDB streams
  the events lead by lead; one replay gives the cutoff states and the drift snapshots);
- two-pass: the same, then the code it replaced (every line parsed into pydantic records in Python, then
  `replay` to the cutoffs, then `build_examples` for the drift snapshots), kept in
  tests/unit/test_predictive_one_pass.py as the test's reference.

Wall and CPU time (all threads of the process: DuckDB uses every core) and peak RSS are printed; nothing is
asserted.

python -m benchmarks.bench_predictive_evaluate [--copies 10] [--base-leads 2000] [--two-pass] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.bench_evaluate import tile_ledger
from leadscore.core.rules import compile_model
from leadscore.models.model_files import load_model_file
from leadscore_cli.evaluation.engines import DuckDBEngine, Scope
from leadscore_cli.evaluation.metrics import LeadRow
from leadscore_cli.evaluation.predictive import evaluate_predictive, load_spec
from leadscore_cli.evaluation.results import evaluate
from local.evaluation_demo import MODEL_FILE, TRAIN_LEADS, TRAIN_SEED, build_population_ledger, train_on_population

ROOT = Path(__file__).resolve().parents[1]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(work: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _load() -> float:
    """The 1-minute load average (the box is shared: figures move with it)."""
    return float(Path("/proc/loadavg").read_text(encoding="ascii").split()[0])


def measure(ledger: Path, artefact: Path, mode: str) -> dict[str, Any]:
    """One measurement (run in a process of its own): the SQL part, then the predictive part by `mode`."""
    model = load_model_file(MODEL_FILE)
    figures: dict[str, Any] = {"mode": mode, "load_before": _load()}

    def rules() -> list[LeadRow]:
        engine = DuckDBEngine(ledger, Scope(model.id))
        try:
            return evaluate(engine, model).leads
        finally:
            engine.close()

    leads, figures["sql_wall"], figures["sql_cpu"] = _timed(rules)
    figures["leads"] = len(leads)
    figures["sql_rss_mb"] = _peak_rss_mb()
    spec = load_spec(artefact)
    if mode == "one-pass":
        from leadscore_cli.evaluation.ledger_stream import LedgerStream  # noqa: PLC0415

        def predictive() -> Any:
            opened = _timed(lambda: LedgerStream(ledger, sequence_of=model.id))
            stream, figures["load_wall"], figures["load_cpu"] = opened
            try:
                return evaluate_predictive(spec, model, leads, stream)
            finally:
                stream.close()

    elif mode == "two-pass":
        from leadscore.ledger.replay import events_from_ledger  # noqa: PLC0415
        from leadscore_cli.ledger_source import read_ledger  # noqa: PLC0415
        from tests.unit.test_predictive_one_pass import reference_drift, reference_states  # noqa: PLC0415

        def predictive() -> Any:
            events = events_from_ledger(read_ledger(str(ledger)))
            compiled = compile_model(model)
            states = reference_states(events, compiled, leads, None)
            probabilities = [
                spec.predictor.predict(point.state, compiled, point.at).probability for point in states.values()
            ]
            return probabilities, reference_drift(spec, compiled, events, None, None)

    else:
        return figures
    result, figures["predictive_wall"], figures["predictive_cpu"] = _timed(predictive)
    figures["peak_rss_mb"] = _peak_rss_mb()
    figures["load_after"] = _load()
    if mode == "one-pass":
        figures["auc"] = result.auc
        figures["snapshots"] = result.drift.snapshots if result.drift else 0
    else:
        figures["snapshots"] = result[1].snapshots if result[1] else 0
    return figures


def _run_measure(ledger: Path, artefact: Path, mode: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.bench_predictive_evaluate", "--measure", mode,
               "--ledger", str(ledger), "--artefact", str(artefact)]  # fmt: skip
    output = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout  # noqa: S603
    return dict(json.loads(output.strip().splitlines()[-1]))


def _line(figures: dict[str, Any]) -> str:
    text = (
        f"  {figures['mode']}: {figures['leads']:,} leads; SQL part {figures['sql_wall']:.1f} s wall, "
        f"{figures['sql_cpu']:.1f} s CPU"
    )
    if "predictive_wall" in figures:
        ratio = figures["predictive_cpu"] / figures["sql_cpu"]
        text += (
            f"; predictive part {figures['predictive_wall']:.1f} s wall, {figures['predictive_cpu']:.1f} s CPU "
            f"({ratio:.1f}x the SQL part's CPU), {figures['snapshots']:,} drift snapshots"
        )
        if "load_cpu" in figures:
            text += (
                f" (of which DuckDB loading the events: {figures['load_wall']:.1f} s wall, "
                f"{figures['load_cpu']:.1f} s CPU)"
            )
    return text + (
        f"; peak RSS {figures.get('peak_rss_mb', figures['sql_rss_mb']):,.0f} MB "
        f"(load average {figures['load_before']:.1f} → {figures.get('load_after', figures['load_before']):.1f})"
    )


def main(*, quick: bool = False, copies: int | None = None, base_leads: int | None = None,
         two_pass: bool = False, keep: Path | None = None) -> None:  # fmt: skip
    base_leads = base_leads or (400 if quick else 2000)
    copies = copies or (2 if quick else 10)
    with tempfile.TemporaryDirectory(prefix="leadscore-bench-peval-") as scratch:
        root = keep or Path(scratch)
        artefact = root / "predictive" / "default-likelihood.json"
        if not artefact.exists():
            train_on_population(TRAIN_LEADS, TRAIN_SEED, artefact)
        big = root / f"big-{base_leads}x{copies}"
        if not (big / "ledger").is_dir():
            started = time.perf_counter()
            _, base = build_population_ledger(base_leads, 7, root / f"base-{base_leads}")
            records, size = tile_ledger(base, big, copies)
            print(f"  ledger: {base_leads * copies:,} leads, {records:,} records, {size / 1e9:.2f} GB of JSON lines "
                  f"(built in {time.perf_counter() - started:.0f} s)")  # fmt: skip
        for mode in ("one-pass", "two-pass") if two_pass else ("one-pass",):
            print(_line(_run_measure(big, artefact, mode)), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", choices=("sql", "one-pass", "two-pass"))
    parser.add_argument("--ledger", type=Path)
    parser.add_argument("--artefact", type=Path)
    parser.add_argument("--copies", type=int)
    parser.add_argument("--base-leads", type=int)
    parser.add_argument("--two-pass", action="store_true", help="also measure the two-pass code it replaced")
    parser.add_argument("--keep", type=Path, help="build (or reuse) the ledger and artefact in this directory")
    parser.add_argument("--quick", action="store_true")
    arguments = parser.parse_args()
    if arguments.measure:
        print(json.dumps(measure(arguments.ledger, arguments.artefact, arguments.measure)))
    else:
        main(quick=arguments.quick, copies=arguments.copies, base_leads=arguments.base_leads,
             two_pass=arguments.two_pass, keep=arguments.keep)  # fmt: skip
