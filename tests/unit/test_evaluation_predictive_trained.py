"""End to end on the CLI: `leadscore train` on one world, `leadscore evaluate --predictive` on another."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from leadscore.models.model_files import load_model_file
from leadscore_cli import evaluate, train
from leadscore_cli.evaluation.pipeline import replay_into
from tests.unit.test_predictive_training import a_converting_world

ROOT = Path(__file__).resolve().parents[2]
MODEL = load_model_file(ROOT / "scoring" / "default.yaml")
DEMO_ASKERS = {"demo-request"}


def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """leadscore (test harness: train and evaluate)."""

    train.register(app)
    evaluate.register(app)
    return app


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli(), list(args))
    return result.exit_code, result.stdout if result.exit_code == 0 else result.output


@pytest.fixture(scope="module")
def artefact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Given `leadscore train` run on the ledger of a 600-lead world (seed 9)
    root = tmp_path_factory.mktemp("train")
    ledger = replay_into(a_converting_world(600, seed=9), MODEL, root / "state")
    out = root / "predictive" / "default-likelihood.json"
    code, output = invoke("train", "--model", "default", "--ledger", str(ledger), "--models-dir",
                          str(ROOT / "scoring"), "--out", str(out))  # fmt: skip
    assert code == 0, output
    return out


def _evaluate(ledger: Path, artefact: Path, report: Path) -> str:
    code, output = invoke("evaluate", "--ledger", str(ledger), "--models-dir", str(ROOT / "scoring"), "--out",
                          str(report), "--half-life-rules", "0", "--predictive", str(artefact))  # fmt: skip
    assert code == 0, output
    return output


def _row(output: str, label: str) -> list[str]:
    """The predictive block's row (the last line starting with `label`: the rules' headline comes first)."""
    line = [line for line in output.splitlines() if line.strip().startswith(label)][-1]
    return line.split()


def test_a_trained_artefact_is_evaluated_beside_the_rules_on_another_world(artefact: Path, tmp_path: Path) -> None:
    # Given another world of the same kind (seed 10), as a ledger
    ledger = replay_into(a_converting_world(400, seed=10), MODEL, tmp_path / "state")
    # When it is evaluated with the trained artefact
    output = _evaluate(ledger, artefact, tmp_path / "report.html")
    # Then: an AUC for each model on the same leads, the predictive one well above chance
    rules_auc, predictive_auc = (float(value) for value in _row(output, "ROC AUC (accepted)")[-2:])
    assert 0.5 < rules_auc <= 1.0
    assert predictive_auc > 0.6
    assert _row(output, "Calibration error (ECE)")[-1] != "n/a"
    # and drift figures against the trainer's reference, with every feature it stored
    assert "Score drift (PSI of the probability)" in output
    stored = json.loads(artefact.read_text(encoding="utf-8"))["drift_reference"]["features"]
    assert "features moved ≥ 0.1" in output
    assert f"of {len(stored)} features" in output
    assert "<h2 id='predictive'>Predictive model</h2>" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_a_population_that_moved_brings_the_retrain_advice(artefact: Path, tmp_path: Path) -> None:
    # Given a world where only the leads who asked for a demo remain (the others' events are gone): the
    # probabilities the model gives are much higher than those it was trained on
    events = a_converting_world(400, seed=10)
    askers = {event.email for event in events if event.properties.get("form_id") in DEMO_ASKERS}
    ledger = replay_into([event for event in events if event.email in askers], MODEL, tmp_path / "state")
    # When it is evaluated with the trained artefact
    output = _evaluate(ledger, artefact, tmp_path / "report.html")
    # Then the probability's PSI is above 0.25 and the advice says to retrain
    psi = float(output.split("Score drift (PSI of the probability): ")[1].split(",")[0])
    assert psi > 0.25
    assert "Advice: retrain default-likelihood" in output
