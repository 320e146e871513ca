"""The end of `make demo`: "is my model any good?" on a simulated population with known outcomes.

Simulates a few hundred leads over 26 weeks (local/population.py), replays their events through the pure
core under scoring/default.yaml (the ledger the scorer would have written, in `.local-state/population/`),
evaluates it exactly as `leadscore evaluate --ledger .local-state/population` does, prints the summary
and writes the HTML report to `.local-state/evaluation/report.html`.

Before that, a predictive model is trained on ANOTHER seed's population (the training examples and learner
of `leadscore train`, on the events directly: no ledger to write) and evaluated beside the rules on this
one (`--predictive`): AUC and calibration error of both against the oracle, and its drift since training.
"""

from __future__ import annotations

import csv
import shutil
import time
from pathlib import Path

from leadscore.core.identity import lead_id_for
from leadscore.core.rules import compile_model
from leadscore.ledger.records import LedgerEvent
from leadscore.models.model_files import load_model_file
from leadscore_cli.evaluation.drift import STABLE
from leadscore_cli.evaluation.pipeline import EvaluationRequest, EvaluationRun, read_oracle, replay_into, run
from leadscore_cli.evaluation.predictive import PredictiveSpec, load_spec
from leadscore_cli.evaluation.report import num
from local.population import Population, simulate_population

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / ".local-state"
MODEL_FILE = ROOT / "scoring" / "default.yaml"
DEMO_PEPPER = b"leadscore-demo-population"  # a demo pepper: these lead ids are for this population only
TRAIN_SEED, TRAIN_LEADS = 11, 1200  # the predictive model learns from another population than it is judged on
# A demo-sized population has about 25 converting leads in its training period: below the trainer's minimums
# (50 and 15), which guard real ledgers. The demo lowers them to stay short; its figures are the noisier for
# it (benchmarks/bench_predictive.py trains at full size).
DEMO_MINIMUMS = (200, 20, 8)  # leads, converting leads in the training period, in the held-out period


def write_truth(population: Population, path: Path, pepper: bytes) -> Path:
    """The population's truth table keyed by lead id (no email next to the ledger)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["lead_id", "persona", "fit_latent", "intent", "true_probability", "accepted", "won"])
        for row in population.truth:
            writer.writerow([lead_id_for(row.email, pepper), row.persona, row.fit_latent, row.intent,
                             f"{row.true_probability:.6f}", int(row.accepted), int(row.won)])  # fmt: skip
    return path


def build_population_ledger(leads: int, seed: int, root: Path) -> tuple[Population, Path]:
    """Simulate, replay under the default model, write the ledger and the truth table under `root`."""
    shutil.rmtree(root, ignore_errors=True)
    population = simulate_population(leads, seed=seed)
    replay_into(population.events, load_model_file(MODEL_FILE), root, pepper=DEMO_PEPPER)
    write_truth(population, root / "truth.csv", DEMO_PEPPER)
    return population, root


def train_on_population(
    leads: int, seed: int, artefact: Path, *, minimums: tuple[int, int, int] = DEMO_MINIMUMS
) -> Path | None:
    """Train the default model's predictive model on a simulated population (as `leadscore train` does,
    from its events) and write the artefact; None, with the trainer's reason printed, if it refuses."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # noqa: PLC0415 - sklearn dependency

    from leadscore_cli.training.examples import build_examples, reference_times  # noqa: PLC0415 - train extra
    from leadscore_cli.training.learn import NotEnoughData, TrainingOptions, train_model  # noqa: PLC0415

    started = time.perf_counter()
    population = simulate_population(leads, seed=seed)
    events = [LedgerEvent.of(event, lead_id_for(event.email, DEMO_PEPPER)) for event in population.events]
    model = compile_model(load_model_file(MODEL_FILE))
    first = int(min(event.occurred_at for event in events).timestamp())
    last = int(max(event.occurred_at for event in events).timestamp())
    least_leads, least_conversions, least_test_conversions = minimums
    options = TrainingOptions(
        name="default-likelihood",
        min_leads=least_leads,
        min_conversions=least_conversions,
        min_test_conversions=least_test_conversions,
    )
    times = reference_times(first, last, every_days=options.every_days, horizon_days=options.horizon_days)
    examples = build_examples(events, model, times, horizon_days=options.horizon_days)
    try:
        # One BLAS thread: on a small, shared box the threads only fight (measured: 1.7 s of CPU instead of 12)
        with threadpool_limits(limits=1):
            trained = train_model(examples, times, model, options, window=(first, last))
    except NotEnoughData as exc:
        print(f"  predictive model not trained: {exc}")
        return None
    artefact.parent.mkdir(parents=True, exist_ok=True)
    artefact.write_text(trained.artefact.to_json(), encoding="utf-8")
    print(f"  predictive model trained on seed {seed}'s population ({leads:,} leads, {len(events):,} events, "
          f"{len(examples):,} examples) in {time.perf_counter() - started:.1f}s → {artefact}")  # fmt: skip
    return artefact


def cross_seed_lines(result: EvaluationRun, *, train_seed: int, seed: int) -> list[str]:
    """Predictive against rules against oracle on a population the predictive model never saw."""
    e, p = result.evaluation, result.predictive
    if p is None:
        return []
    lines = [
        f"Predictive model trained on seed {train_seed}, judged on seed {seed} ({len(p.lead_ids):,} leads):",
        f"  AUC  predictive {num(p.auc)}, rules {num(e.auc)}, oracle {num(e.oracle_auc)}",
    ]
    d = p.drift
    own = ""
    if d is not None and d.ece is not None:
        own = f"; on its own target (converted within {p.horizon_days} days) {num(d.ece, 3)}"
    lines.append(f"  ECE  predictive {num(p.ece, 3)} at each lead's evaluation moment{own}")
    if d is not None and d.probability is not None:
        lines.append(
            f"  Drift since training: probability PSI {d.probability.psi:.3f} ({d.probability.reading}), "
            f"{len(d.shifted_features(STABLE))} of {len(d.features)} features moved by {STABLE:g} or more"
        )
    return lines


def evaluate_population(
    leads: int = 250,
    seed: int = 7,
    state: Path = STATE,
    half_life_rules: int = 1,
    *,
    predictive: bool = True,
    artefact: Path | None = None,
) -> str:
    """Build the population's ledger, evaluate the default model on it (and a predictive model trained on
    another seed, if `predictive`: `artefact` when the demo trained it already), write the report; the summary."""
    started = time.perf_counter()
    spec: PredictiveSpec | None = None
    if predictive:
        if artefact is None:
            artefact = train_on_population(TRAIN_LEADS, TRAIN_SEED, state / "predictive" / "default-likelihood.json")
        spec = load_spec(artefact) if artefact else None
    population, root = build_population_ledger(leads, seed, state / "population")
    print(f"  {leads} simulated leads, {len(population.events):,} events over 26 weeks, replayed under "
          f"scoring/default.yaml in {time.perf_counter() - started:.1f}s → {root / 'ledger'}")  # fmt: skip
    request = EvaluationRequest(
        ledger=str(root),
        model=load_model_file(MODEL_FILE),
        oracle=read_oracle(root / "truth.csv"),
        target_mql_per_week=3,
        target_acceptance=0.5,
        half_life_rules=half_life_rules,
        half_life_grid=(7, 60),  # one rule, two other half-lives: the demo stays short
        predictive=spec,
    )
    result = run(request, step=lambda message: print(f"  … {message}"))
    report = state / "evaluation" / "report.html"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(result.html(), encoding="utf-8")
    text = "\n".join([result.summary(), *cross_seed_lines(result, train_seed=TRAIN_SEED, seed=seed)])
    print(text)
    print(f"  Report: {report.relative_to(ROOT) if report.is_relative_to(ROOT) else report} "
          f"({time.perf_counter() - started:.1f}s in all)")  # fmt: skip
    return text


if __name__ == "__main__":
    evaluate_population()
