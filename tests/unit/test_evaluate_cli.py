"""`leadscore evaluate` end to end on local ledgers: deployed model, candidate replay, engine choice, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from leadscore.models.model_files import load_model_file
from leadscore_cli.evaluate import register
from leadscore_cli.evaluation.engines import AthenaEngine, DuckDBEngine, Scope
from leadscore_cli.evaluation.pipeline import AthenaOptions, EvaluationRequest, open_engine, run
from local.evaluation_demo import build_population_ledger
from tests.unit.ledger_sample import write_ledger

ROOT = Path(__file__).resolve().parents[2]
MODEL_FILE = ROOT / "scoring" / "default.yaml"


def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """leadscore (test harness: only the evaluate command)."""

    register(app)
    return app


def invoke(*args: str) -> tuple[int, str]:
    """Exit code, and the summary (stdout) when it worked or the error (stderr: progress and messages)."""
    result = CliRunner().invoke(cli(), ["evaluate", *args])
    return result.exit_code, result.stdout if result.exit_code == 0 else result.output


@pytest.fixture(scope="module")
def population_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _, root = build_population_ledger(60, 21, tmp_path_factory.mktemp("population"))
    return root


def _headline(output: str) -> list[str]:
    return [line for line in output.splitlines() if "ROC AUC" in line or line.strip().startswith("At ")]


def test_evaluate_a_deployed_model_writes_the_report(tmp_path: Path) -> None:
    # Given the hand-checked ledger
    ledger = write_ledger(tmp_path / "state")
    report = tmp_path / "out" / "report.html"
    # When
    code, output = invoke("--ledger", str(ledger), "--out", str(report), "--models-dir", str(ROOT / "scoring"),
                          "--half-life-rules", "0", "--target-acceptance", "0.5")  # fmt: skip
    # Then: headline first, AUC 0.75 as computed by hand, the report on disk
    assert code == 0, output
    assert output.splitlines()[0].startswith("Evaluation of model default")
    assert "0.75" in _headline(output)[0]
    assert "SQL threshold" in output
    assert report.read_text(encoding="utf-8").startswith("<!doctype html>")


def test_a_candidate_equal_to_the_deployed_model_gives_the_ledgers_numbers(population_ledger: Path) -> None:
    # Given a ledger written by the scorer's replay under default.yaml, and the same file as a candidate
    deployed = invoke("--ledger", str(population_ledger), "--models-dir", str(ROOT / "scoring"),
                      "--half-life-rules", "0", "--out", str(population_ledger / "a.html"))  # fmt: skip
    candidate = invoke("--ledger", str(population_ledger), "--candidate", str(MODEL_FILE),
                       "--half-life-rules", "0", "--out", str(population_ledger / "b.html"))  # fmt: skip
    # Then: replaying the ledger's events reproduces the stored scores, so every headline number is the same
    assert deployed[0] == candidate[0] == 0, deployed[1] + candidate[1]
    assert _headline(deployed[1]) == _headline(candidate[1])
    assert len(_headline(deployed[1])) == 4


def test_a_candidate_with_a_lower_mql_threshold_flags_more_leads(population_ledger: Path, tmp_path: Path) -> None:
    # Given the default model with MQL at 20 instead of 40
    document = yaml.safe_load(MODEL_FILE.read_text(encoding="utf-8"))
    document["thresholds"]["mql"] = 20
    document["version"] = "candidate-mql-20"
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(yaml.safe_dump(document), encoding="utf-8")
    # When
    _, deployed = invoke("--ledger", str(population_ledger), "--half-life-rules", "0", "--models-dir",
                         str(ROOT / "scoring"), "--out", str(tmp_path / "a.html"))  # fmt: skip
    code, output = invoke("--ledger", str(population_ledger), "--candidate", str(candidate), "--half-life-rules", "0",
                          "--out", str(tmp_path / "b.html"))  # fmt: skip
    # Then: more leads reach MQL, the ranking (AUC) is the same
    assert code == 0, output
    assert "candidate-mql-20" in output.splitlines()[0]

    def flagged(text: str) -> int:
        line = next(line for line in text.splitlines() if line.strip().startswith("At MQL"))
        return int(line.rsplit("(", 1)[1].split()[0].replace(",", ""))

    assert flagged(output) > flagged(deployed)
    assert _headline(output)[0] == _headline(deployed)[0]


def test_half_life_search_replays_the_ledger(population_ledger: Path) -> None:
    # Given one rule and one other half-life to try
    request = EvaluationRequest(ledger=str(population_ledger), model=load_model_file(MODEL_FILE), half_life_rules=1,
                                half_life_grid=(7,))  # fmt: skip
    steps: list[str] = []
    # When
    result = run(request, step=steps.append)
    # Then: the current and the tried half-life both have an AUC from a replay
    assert result.half_lives is not None
    [(_rule, tried)] = result.half_lives.tried.items()
    assert len(tried) == 2
    assert all(auc is not None for auc in tried.values())
    assert any("half-life 7 days" in step for step in steps)


def test_errors_are_clear(tmp_path: Path) -> None:
    code, output = invoke("--model", "default", "--candidate", str(MODEL_FILE), "--ledger", str(tmp_path))
    assert code == 2
    assert "not both" in output
    code, output = invoke("--model", "nope", "--models-dir", str(ROOT / "scoring"), "--ledger", str(tmp_path))
    assert code == 2
    assert "no model 'nope'" in output
    code, output = invoke("--models-dir", str(ROOT / "scoring"), "--ledger", str(tmp_path / "empty"))
    assert code == 2
    assert "no ledger files" in output


def test_the_engine_follows_the_ledger_location(tmp_path: Path) -> None:
    scope = Scope("default")
    assert isinstance(open_engine(str(write_ledger(tmp_path)), scope, AthenaOptions()), DuckDBEngine)
    athena = open_engine("s3://ledger-bucket/ledger/", scope, AthenaOptions(database="leadscore_dev"),
                         athena_client=object())  # fmt: skip
    assert isinstance(athena, AthenaEngine)
