"""`leadscore evaluate` at scale on the embedded engine, and how the default model compares with the oracle.

1. A simulated population (local/population.py) is replayed through the pure core under
   scoring/default.yaml: the ledger the scorer would have written. On it: the default model's AUC next to
   the oracle AUC (the generator's true probabilities: the best any model could do on these leads).
2. That ledger is tiled into a big one: each copy gets its own lead ids and event ids (a prefix), so
   100,000 leads and about 5.7 million records are real core output without replaying millions of events
   (replay runs at a few thousand events a second; the copies are written directly, as the brief allows).
3. The evaluation (DuckDB reads the files once, three queries, metrics in Python, the HTML report) is timed
   on the big ledger. Nothing is asserted: figures are printed.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from leadscore.models.model_files import load_model_file
from leadscore_cli.evaluation.engines import DuckDBEngine, Scope
from leadscore_cli.evaluation.pipeline import local_ledger_files, read_oracle
from leadscore_cli.evaluation.report import render_html
from leadscore_cli.evaluation.results import evaluate
from local.evaluation_demo import MODEL_FILE, build_population_ledger


def tile_ledger(source: Path, target: Path, copies: int) -> tuple[int, int]:
    """Write `copies` copies of the ledger under `source` into `target`, each with its own ids; (records, bytes)."""
    records = written = 0
    for path in local_ledger_files(source):
        lines = path.read_bytes().splitlines(keepends=True)
        folder = target / "ledger" / path.parent.name
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "part-0.jsonl").open("wb") as stream:
            for copy in range(copies):
                tag = b"t%03d" % copy
                block = b"".join(lines)
                block = block.replace(b'"lead_id":"', b'"lead_id":"' + tag).replace(
                    b'"event_id":"', b'"event_id":"' + tag
                )
                stream.write(block)
                records += len(lines)
                written += len(block)
    return records, written


def main(*, quick: bool = False) -> None:
    model = load_model_file(MODEL_FILE)
    base_leads, copies = (400, 10) if quick else (2000, 50)
    with tempfile.TemporaryDirectory(prefix="leadscore-bench-eval-") as scratch:
        root = Path(scratch)
        started = time.perf_counter()
        population, base = build_population_ledger(base_leads, 7, root / "base")
        built = time.perf_counter() - started
        engine = DuckDBEngine(base, Scope(model.id))
        small = evaluate(engine, model, oracle=read_oracle(base / "truth.csv"))
        engine.close()
        rate = len(population.events) / built
        print(f"  population: {base_leads:,} simulated leads, {len(population.events):,} events, simulated and "
              f"replayed under default.yaml in {built:.1f} s ({rate:,.0f} events/s)")  # fmt: skip
        print(f"  default model AUC {small.auc:.3f} vs oracle AUC {small.oracle_auc:.3f} (accepted: "
              f"{small.accepted} of {len(small.leads):,} leads, {small.base_rate:.1%}); top-decile lift "
              f"{small.top_decile_lift:.1f}x")  # fmt: skip

        started = time.perf_counter()
        records, size = tile_ledger(base, root / "big", copies)
        print(f"  big ledger: {base_leads * copies:,} leads, {records:,} records, {size / 1e9:.2f} GB of JSON lines "
              f"({size / records:.0f} bytes a record), written in {time.perf_counter() - started:.1f} s")  # fmt: skip

        started, cpu_started = time.perf_counter(), time.process_time()
        engine = DuckDBEngine(root / "big", Scope(model.id))
        loaded = time.perf_counter() - started
        timings: dict[str, float] = {}

        class Timed:
            name = engine.name

            def query(self, name: str) -> list[dict[str, object]]:
                began = time.perf_counter()
                rows = engine.query(name)
                timings[name] = time.perf_counter() - began
                return rows

        began = time.perf_counter()
        big = evaluate(Timed(), model)
        computed = time.perf_counter() - began
        began = time.perf_counter()
        html = render_html(big)
        rendered = time.perf_counter() - began
        engine.close()
        total = loaded + computed + rendered
        cpu = time.process_time() - cpu_started
        queries = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
        metrics = computed - sum(timings.values())
        print(f"  evaluation on DuckDB: {total:.1f} s in all = read the files {loaded:.1f} s + queries ({queries}) "
              f"+ metrics {metrics:.1f} s + report {rendered:.2f} s ({len(html) / 1e3:.0f} kB)")  # fmt: skip
        print(f"  CPU time {cpu:.1f} s (DuckDB uses both cores; wall time grows when others share them)")
        print(f"  → {records / total:,.0f} records/s; {len(big.leads):,} leads evaluated, AUC {big.auc:.3f} "
              f"(the same as the base population's: the copies are identical)")  # fmt: skip
