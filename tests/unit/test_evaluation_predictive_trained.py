"""End to end: a predictive model trained by the project's trainer on one seed, evaluated on another seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from leadscore.models.model_files import load_model_file
from leadscore_cli.evaluation.pipeline import EvaluationRequest, EvaluationRun, read_oracle, run
from leadscore_cli.evaluation.predictive import load_spec
from local.evaluation_demo import build_population_ledger, train_on_population

ROOT = Path(__file__).resolve().parents[2]
MODEL = load_model_file(ROOT / "scoring" / "default.yaml")
SMALL = (100, 8, 3)  # trainer minimums for a test-sized population: leads, conversions to learn, to measure


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    artefact = train_on_population(500, 11, tmp_path_factory.mktemp("trained") / "m.json", minimums=SMALL)
    assert artefact is not None, "the trainer refused the test population"
    return artefact


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory, trained: Path) -> EvaluationRun:
    _, root = build_population_ledger(120, 23, tmp_path_factory.mktemp("other-seed"))
    request = EvaluationRequest(
        ledger=str(root), model=MODEL, oracle=read_oracle(root / "truth.csv"), half_life_rules=0,
        predictive=load_spec(trained),
    )  # fmt: skip
    return run(request)


def test_the_trained_artefact_is_evaluated_beside_the_rules_on_another_seed(
    evaluated: EvaluationRun, trained: Path
) -> None:
    # Given a model trained on seed 11, evaluated on seed 23's ledger
    p = evaluated.predictive
    assert p is not None
    # Then both models are measured on the same leads, with the oracle beside them
    assert p.lead_ids == [row.lead_id for row in evaluated.evaluation.leads]
    assert evaluated.evaluation.oracle_auc is not None
    assert p.auc is not None
    assert 0.5 < p.auc <= 1.0  # it learned something that carries over to another population
    assert p.ece is not None
    # and the drift covers exactly the features the trainer stored a reference for
    artefact = json.loads(trained.read_text(encoding="utf-8"))
    assert p.drift is not None
    assert {shift.name for shift in p.drift.features} == set(artefact["drift_reference"]["features"])
    assert p.drift.probability is not None
    assert p.drift.probability.edges == tuple(artefact["drift_reference"]["probability"]["edges"])
    assert p.drift.snapshots > 0


def test_the_trainers_probability_reference_is_a_distribution_over_the_whole_range(trained: Path) -> None:
    # Given the trainer's reference shares of the probability
    artefact = json.loads(trained.read_text(encoding="utf-8"))
    reference = artefact["drift_reference"]["probability"]
    # Then they sum to 1 over increasing edges from 0 to 1 (every probability falls in a bin, as PSI needs)
    assert sum(reference["shares"]) == pytest.approx(1.0, abs=1e-4)
    assert reference["edges"][0] == 0.0
    assert reference["edges"][-1] == 1.0
    assert reference["edges"] == sorted(reference["edges"])
    assert artefact["base_model"] == MODEL.id
