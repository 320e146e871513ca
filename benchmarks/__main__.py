"""`make bench`: print every figure; never fail on a number (wall time is measured, not asserted).

python -m benchmarks            full runs (about 15 minutes: moto serves every DynamoDB request in Python)
python -m benchmarks --quick    smaller inputs (about 3 minutes)
python -m benchmarks --deployed only the deployed cold starts and the cost table (about 5 minutes)
"""

from __future__ import annotations

import argparse
import os
import platform

from benchmarks import (
    bench_cold_start,
    bench_core,
    bench_cost,
    bench_decay,
    bench_dedup,
    bench_dynamodb,
    bench_evaluate,
    bench_leads,
    bench_ledger,
    bench_predictive,
    bench_predictive_evaluate,
    bench_predictive_serving,
    bench_predictive_worlds,
    bench_snapstart,
    bench_track,
)
from local.cfn import Template


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs, for a first look")
    parser.add_argument("--deployed", action="store_true", help="only the deployed cold starts and the cost table")
    options = parser.parse_args()
    quick = options.quick
    # Nothing here talks to AWS; keep the handlers' Powertools quiet and local.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    print(f"leadscore benchmarks on Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores")
    dynamodb = None
    if not options.deployed:
        print("\n== scoring core (pure Python, no I/O)")
        bench_core.main(quick=quick)
        print("\n== DynamoDB requests and request units per scored event (moto, priced by AWS's size rule)")
        dynamodb = bench_dynamodb.main(quick=quick)
        print("\n== webhook delivery dedup: DynamoDB requests per webhook request and its exact retry (moto)")
        bench_dedup.main(quick=quick)
        print("\n== decay job: a table of leads, 10 % with something to decay (moto in-process)")
        bench_decay.main(quick=quick)
        print("\n== website: /track and stitching (moto in-process, priced by AWS's size rule)")
        bench_track.main(quick=quick)
        print("\n== ledger: bytes, Firehose records and requests per event; ALL_NEW; rescore writes")
        bench_ledger.main(quick=quick)
        print("\n== leadscore evaluate: 100,000 leads on DuckDB; default model vs oracle AUC (simulated population)")
        bench_evaluate.main(quick=quick)
        print("\n== predictive scoring: trained on one simulated population, judged on another (AUC, ECE, oracle)")
        bench_predictive.main(quick=quick)
        print("\n== predictive scoring per world (true drivers unlike the default rules): seed A -> B, 95 % intervals")
        bench_predictive_worlds.main(quick=quick, worlds=("regulated", "product-led"))
        print("\n== leadscore evaluate --predictive: one replay pass beside the SQL part (20,000 leads; CPU, RSS)")
        bench_predictive_evaluate.main(quick=quick)
        print("\n== leads API reads (moto in-process, Query priced by AWS's size rule)")
        bench_leads.main(quick=quick)
        print("\n== predictive serving: a predictive block's cost per scored event (core µs; requests, moto)")
        bench_predictive_serving.main(quick=quick)
    print("\n== cold start of each handler: import + first event of the deployed artefact (bench_cold_start.py)")
    cold = bench_cold_start.main(quick=quick)
    print("\n== SnapStart: after-restore hooks + first event of the deployed artefact, restores (bench_snapstart.py)")
    snapstart = bench_snapstart.main(quick=quick, classic=cold["figures"])
    print("\n== cost per million events (bench_cost.py)")
    template = Template(bench_cold_start.ROOT / "template.yaml")
    memory = {name: function.memory for name, function in template.functions().items()}
    bench_cost.main(cold["figures"], template.document, memory, dynamodb)
    print("\n== SnapStart's cost: restores instead of billed INITs, and the snapshot cache (bench_cost.py)")
    snapstart_functions = [name for name, body in template.of_type("AWS::Serverless::Function").items()
                           if "SnapStart" in body["Properties"]]  # fmt: skip
    bench_cost.snapstart_main(cold["figures"], snapstart["snapstart"], memory, snapstart_functions)


if __name__ == "__main__":
    main()
