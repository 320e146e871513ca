"""The end of `make demo`: "is my model any good?" on a simulated population with known outcomes.

Simulates a few hundred leads over 26 weeks (local/population.py), replays their events through the pure
core under scoring/default.yaml (the ledger the scorer would have written, in `.local-state/population/`),
evaluates it exactly as `leadscore evaluate --ledger .local-state/population` does, prints the summary
and writes the HTML report to `.local-state/evaluation/report.html`.
"""

from __future__ import annotations

import csv
import shutil
import time
from pathlib import Path

from leadscore.core.identity import lead_id_for
from leadscore.models.model_files import load_model_file
from leadscore_cli.evaluation.pipeline import EvaluationRequest, read_oracle, replay_into, run
from local.population import Population, simulate_population

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / ".local-state"
MODEL_FILE = ROOT / "scoring" / "default.yaml"
DEMO_PEPPER = b"leadscore-demo-population"  # a demo pepper: these lead ids are for this population only


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


def evaluate_population(leads: int = 250, seed: int = 7, state: Path = STATE, half_life_rules: int = 1) -> str:
    """Build the population's ledger, evaluate the default model on it, write the report; the summary."""
    started = time.perf_counter()
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
    )
    result = run(request, step=lambda message: print(f"  … {message}"))
    report = state / "evaluation" / "report.html"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(result.html(), encoding="utf-8")
    text = result.summary()
    print(text)
    print(f"  Report: {report.relative_to(ROOT) if report.is_relative_to(ROOT) else report} "
          f"({time.perf_counter() - started:.1f}s in all)")  # fmt: skip
    return text


if __name__ == "__main__":
    evaluate_population()
