"""Predictive scoring across populations: trained on one seed's simulated leads, judged on another seed's.

1. Seed A (local/population.py) is turned into point-in-time examples (weekly reference times; each open
   lead's features as the scorer knew them then; label: accepted by sales within 28 days) and trained by
   `leadscore train`'s own code (leadscore_cli/training), which also holds out seed A's newest weeks.
2. Seed B, a population the model never saw, is turned into examples the same way and scored by the
   served code path (`Predictor.predict_features`, pure Python). Printed: AUC of the predictive model, of
   the default rule model's total and of the oracle (the generator's true probability of each lead, which
   knows who converts but not when), the paired bootstrap over seed B's leads of AUC(predictive) -
   AUC(rules) with its 95 % interval and the share of the rules-to-oracle gap closed
   (leadscore_cli/evaluation/auc_compare.py), and calibration error (ECE) of the predictive model and of
   the rule total made a probability (Platt-scaled on seed A). Other worlds (true drivers unlike the
   default rules) and other seed pairs: bench_predictive_worlds.py.

Nothing is asserted: figures are printed. What serving costs (inference µs per event, the cold import of the
predictive modules) is measured once, by bench_predictive_serving.py, which `make bench` runs after this.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from leadscore.core.identity import lead_id_for
from leadscore.core.rules import CompiledModel, compile_model
from leadscore.ledger.records import LedgerEvent
from leadscore.models.model_files import load_model_file
from leadscore.predictive.inference import Predictor
from leadscore_cli.evaluation.auc_compare import compare_auc
from leadscore_cli.training.examples import Example, build_examples, reference_times
from leadscore_cli.training.learn import NotEnoughData, TrainingOptions, expected_calibration_error, labels, train_model
from local.population import Population, simulate_population

ROOT = Path(__file__).resolve().parents[1]
MODEL_FILE = ROOT / "scoring" / "default.yaml"
PEPPER = b"leadscore-bench-predictive"
TRAIN_SEED, TEST_SEED = 7, 11
HORIZON_DAYS, EVERY_DAYS = 28, 7


def ledger_events(population: Population) -> list[LedgerEvent]:
    return [LedgerEvent.of(event, lead_id_for(event.email, PEPPER)) for event in population.events]


def population_examples(
    leads: int, seed: int, model: CompiledModel, *, world: str = "default"
) -> tuple[Population, list[LedgerEvent], list[int], list[Example]]:
    population = simulate_population(leads, seed=seed, world=world)
    events = ledger_events(population)
    first, last = (int(moment.timestamp()) for moment in (population.start, population.end))
    times = reference_times(first, last, every_days=EVERY_DAYS, horizon_days=HORIZON_DAYS)
    return population, events, times, build_examples(events, model, times, horizon_days=HORIZON_DAYS)


def main(*, quick: bool = False) -> None:
    leads = 2500 if quick else 4000
    model = compile_model(load_model_file(MODEL_FILE))
    started = time.perf_counter()
    _, events_a, times_a, examples_a = population_examples(leads, TRAIN_SEED, model)
    built = time.perf_counter() - started
    started = time.perf_counter()
    first, last = times_a[0], times_a[-1]
    try:
        with threadpool_limits(limits=1):  # as `leadscore train` does: small fits, shared cores
            trained = train_model(
                examples_a, times_a, model, TrainingOptions(name="bench-likelihood", test_share=0.2),
                window=(first, last),
            )  # fmt: skip
    except NotEnoughData as refusal:  # a smaller population than the minimums: say so, do not stop make bench
        print(f"  seed {TRAIN_SEED}: {leads:,} leads: training refused: {refusal}")
        return
    learned = time.perf_counter() - started
    report = trained.report
    print(f"  seed {TRAIN_SEED}: {leads:,} leads, {len(events_a):,} events → {len(examples_a):,} weekly examples "
          f"({report['train']['converting_leads']} converting leads in training) in {built:.1f} s; trained in "
          f"{learned:.1f} s ({report['features_used']} features, C={report['regularisation']['C']})")  # fmt: skip
    held = report["held_out"]
    print(f"  held-out weeks of seed {TRAIN_SEED}: AUC predictive {held['auc']['predictive']:.3f} vs rules "
          f"{held['auc']['rules']:.3f}; ECE {held['ece']['predictive']:.3f}")  # fmt: skip

    population_b, _, _, examples_b = population_examples(leads, TEST_SEED, model)
    predictor = Predictor(trained.artefact)
    served = np.array([predictor.predict_features(example.features).probability for example in examples_b])
    outcome = labels(examples_b)
    totals = np.array([[example.rule_total] for example in examples_b])
    rules_platt = LogisticRegression(C=1e6, max_iter=1000).fit(
        np.array([[example.rule_total] for example in trained.split.train]), labels(trained.split.train)
    )
    p_rules = rules_platt.predict_proba(totals)[:, 1]
    truth = {lead_id_for(row.email, PEPPER): row.true_probability for row in population_b.truth}
    oracle = np.array([truth[example.lead_id] for example in examples_b])
    converting = len({example.lead_id for example in examples_b if example.label})
    auc = {name: float(roc_auc_score(outcome, scores)) for name, scores in
           (("predictive", served), ("rules", totals[:, 0]), ("oracle", oracle))}  # fmt: skip
    print(f"  seed {TEST_SEED} (never seen): {len(examples_b):,} examples, {converting} converting leads, base rate "
          f"{outcome.mean():.3f}")  # fmt: skip
    print(f"    AUC  predictive {auc['predictive']:.3f} | default rules {auc['rules']:.3f} | oracle "
          f"{auc['oracle']:.3f} (margin over the rules {auc['predictive'] - auc['rules']:+.3f})")  # fmt: skip
    comparison = compare_auc(served, totals[:, 0], outcome, [example.lead_id for example in examples_b], oracle=oracle)
    print(f"    {comparison.summary()}")
    print(f"    ECE  predictive {expected_calibration_error(served, outcome):.3f} | rules Platt-scaled on seed "
          f"{TRAIN_SEED} {expected_calibration_error(p_rules, outcome):.3f} (bar: <= 0.05)")  # fmt: skip
    print("  inference µs per event and the cold import of the predictive modules: one measurement, printed under "
          "\"predictive serving\" (bench_predictive_serving.py)")  # fmt: skip


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
