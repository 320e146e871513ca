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
3. Inference cost per event (features + prediction) and the cold import of `leadscore.predictive` in a
   fresh interpreter. Nothing is asserted: figures are printed.
"""

from __future__ import annotations

import compileall
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from leadscore.core.identity import lead_id_for
from leadscore.core.rules import CompiledModel, compile_model
from leadscore.core.scoring import score_event
from leadscore.core.state import ScoreState
from leadscore.ledger.records import LedgerEvent
from leadscore.models.model_files import load_model_file
from leadscore.predictive.features import lead_features
from leadscore.predictive.inference import Predictor
from leadscore_cli.evaluation.auc_compare import compare_auc
from leadscore_cli.training.examples import Example, build_examples, reference_times, snapshots
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


def inference_cost(
    predictor: Predictor, events: list[LedgerEvent], times: list[int], model: CompiledModel
) -> tuple[float, float, float]:
    """CPU µs per event for lead_features, for predict (features included) and, for scale, for scoring
    one page view with `score_event`, over real states of seed B. CPU time (best of 5), so the other
    engineers' load on a shared machine inflates the figures less than wall time would (it still does)."""
    by_lead: dict[str, list[LedgerEvent]] = {}
    for event in events:
        if event.type not in {"sales_accepted", "sales_rejected", "deal_won", "deal_lost"}:
            by_lead.setdefault(event.lead_id, []).append(event)
    states: list[tuple[ScoreState, int]] = []
    for history in list(by_lead.values())[:200]:
        history.sort(key=lambda event: event.occurred_at)
        states.extend((state, moment) for moment, state in snapshots(history, model, times[-1:]))
    rounds = max(1, 20_000 // len(states))

    def per_event(call: Callable[[ScoreState, CompiledModel, int], object]) -> float:
        best = float("inf")
        for _ in range(5):
            began = time.process_time()
            for _ in range(rounds):
                for state, moment in states:
                    call(state, model, moment)
            best = min(best, time.process_time() - began)
        return best / (rounds * len(states)) * 1e6

    page = LedgerEvent(
        lead_id="", email_domain="example.com", event_id="bench", source="bench", type="page_viewed",
        occurred_at=datetime.fromtimestamp(times[-1], UTC), attributes={}, properties={"page_url": "/pricing"},
    ).facts()  # fmt: skip

    def score_page_view(state: ScoreState, model: CompiledModel, moment: int) -> object:
        return score_event(page, model, state, now=moment, alert_lease_seconds=60)

    return per_event(lead_features), per_event(predictor.predict), per_event(score_page_view)


def cold_import_ms() -> tuple[float, float]:
    """Median CPU ms to import leadscore.predictive in a fresh interpreter (bytecode compiled, as in the
    deployed layer): alone, and after the scorer's core (what the scorer pays for it)."""
    layer = str(ROOT / "layers" / "leadscore")
    probe = (
        "import time{pre}; t = time.process_time(); import leadscore.predictive.inference, "
        "leadscore.predictive.artefact; print((time.process_time() - t) * 1000)"
    )
    compileall.compile_dir(str(ROOT / "layers" / "leadscore" / "leadscore" / "predictive"), quiet=1)
    figures = []
    for pre in ("", "; import leadscore.core.scoring"):
        runs = [
            float(subprocess.run(  # noqa: S603 - our own interpreter
                [sys.executable, "-c", probe.format(pre=pre)], capture_output=True, text=True, check=True,
                env={"PYTHONPATH": layer},  # PYTHONDONTWRITEBYTECODE unset: the compiled .pyc is used
            ).stdout)
            for _ in range(7)
        ]  # fmt: skip
        figures.append(statistics.median(runs))
    return figures[0], figures[1]


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

    population_b, events_b, times_b, examples_b = population_examples(leads, TEST_SEED, model)
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
    features_us, predict_us, score_us = inference_cost(predictor, events_b, times_b, model)
    print(f"  inference (CPU time): predict {predict_us:.1f} µs per event (features {features_us:.1f} µs + probability "
          f"and {len(trained.artefact.features)}-feature factors in words; target < 20 µs); for scale, score_event of "
          f"one page view on the same states {score_us:.1f} µs")  # fmt: skip
    alone, on_core = cold_import_ms()
    print(f"  cold import of leadscore.predictive: {on_core:.1f} ms on top of the scorer's core, {alone:.1f} ms "
          f"alone (CPU, median of 7 fresh interpreters; target < 5 ms)")  # fmt: skip


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
