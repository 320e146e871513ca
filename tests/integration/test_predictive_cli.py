"""`leadscore replay` and `leadscore rescore` with a model's predictive block, against emulated AWS: replay's
ledger lines carry the probability the real scorer wrote; rescore --apply writes the probability on leads
scored before the block was deployed, once (a second apply writes nothing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from leadscore_cli.main import app
from local.predictive_demo import ARTEFACT, predictive_block, served_models_dir
from local.stack import EmulatedStack
from tests.integration.conftest import a_submission, post_signed
from tests.integration.faults import DYNAMODB_WRITES, Faults
from tests.integration.test_ledger_cli import three_leads
from tests.unit.predictive_artefacts import write_artefact

runner = CliRunner()
FEATURES = {
    "eng:demo_request:hits": ("eng:demo_request", "Requested a demo", 2.5),
    "eng:pricing_interest:hits": ("eng:pricing_interest", "Viewed pricing", 0.8),
    "fit:exec_title": ("fit:exec_title", "Executive title", 0.6),
}


pytestmark = pytest.mark.usefixtures("real_clock")


@pytest.fixture
def block_models(tmp_path: Path) -> Path:
    artefact = write_artefact(tmp_path / "trained", ARTEFACT, base_model="default", features=FEATURES)
    return served_models_dir(artefact, tmp_path / "scoring", block=predictive_block({"mql": 0.1, "sql": 0.3}))


def ledger_args(stack: EmulatedStack) -> list[str]:
    return ["--ledger", f"s3://{stack.physical('LedgerBucket')}"]


def stored(stack: EmulatedStack) -> dict[str, Any]:
    return {item["pk"]: (item["v"], item.get("probability"), item.get("p_version")) for item in stack.score_items()}


def test_replay_with_the_block_gives_each_line_the_probability_the_scorer_wrote(
    session_stack: EmulatedStack, block_models: Path, tmp_path: Path
) -> None:
    # Given leads scored by the real scorer serving the block (three form submissions, then pricing views)
    session_stack.models_dir = block_models
    session_stack.reset()
    try:
        three_leads(session_stack)
        for index in range(2):
            body = a_submission(submission_id=f"p{index}", form_id="pricing-calculator")
            post_signed(session_stack, body)
        session_stack.drain()
        written = {
            (line["event_id"], line["model_id"]): line["probability"]
            for line in map(json.loads, session_stack.ledger_lines())
        }
        assert any(probability is not None for probability in written.values())

        # When `leadscore replay` replays the S3 ledger under the model file with the block
        out = tmp_path / "replayed.jsonl"
        model_file = block_models / "default.yaml"
        result = runner.invoke(
            app, ["replay", "--model", str(model_file), *ledger_args(session_stack), "--out", str(out)]
        )

        # Then it reports the probability beside the stage counts, and each line has the scorer's probability
        assert result.exit_code == 0, result.output
        assert "probability (test-likelihood 20261201-test) on 4 leads" in result.output
        replayed = {
            (line["event_id"], line["model_id"]): line["probability"]
            for line in map(json.loads, out.read_text().splitlines())
        }
        assert replayed == written
    finally:
        session_stack.models_dir = None
        session_stack.reset()


def writes(faults: Faults) -> int:
    """DynamoDB writes counted since the faults' calls were last cleared."""
    return sum(n for operation, n in faults.made("dynamodb").items() if operation in DYNAMODB_WRITES)


def test_rescore_apply_writes_the_probability_once_with_conditional_writes(
    stack: EmulatedStack, block_models: Path, tmp_path: Path, aws_faults: Faults
) -> None:
    # Given three leads scored under the rules alone (no probability stored), their ledger in S3
    three_leads(stack)
    before = stored(stack)
    assert all(probability is None for _, probability, _ in before.values())
    table = stack.physical("LeadsTable")
    model_file = block_models / "default.yaml"
    arguments = ["rescore", "--model", str(model_file), *ledger_args(stack), "--table", table]
    arguments += ["--checkpoint", str(tmp_path / "cp")]

    # When the model with the block is applied, and applied again (every DynamoDB write counted)
    aws_faults.calls.clear()
    first = runner.invoke(app, [*arguments, "--apply"])
    first_writes = writes(aws_faults)
    after_first = stored(stack)
    second = runner.invoke(app, [*arguments, "--apply"])

    # Then the first wrote each lead once (one conditional write each), with the probability; the second nothing
    assert first.exit_code == 0, first.output
    assert "written 3, unchanged 0" in first.output
    assert first_writes == 3
    for pk, (version, probability, p_version) in after_first.items():
        assert version == before[pk][0] + 1
        assert probability is not None
        assert p_version == "20261201-test"
    assert second.exit_code == 0, second.output
    assert "written 0, unchanged 3" in second.output
    assert writes(aws_faults) == first_writes
    assert stored(stack) == after_first


def test_a_model_file_naming_a_missing_artefact_is_refused_with_the_reason(
    stack: EmulatedStack, block_models: Path
) -> None:
    # Given the model file with the block, its artefact gone
    (block_models / "predictive" / ARTEFACT).unlink()

    # When replay is asked to use it
    result = runner.invoke(app, ["replay", "--model", str(block_models / "default.yaml"), *ledger_args(stack)])

    # Then it refuses, naming the model, the artefact and what to do
    assert result.exit_code == 2
    said = " ".join(result.output.replace("│", " ").split())  # the error box wraps long lines
    assert "model 'default': predictive.artefact" in said
    assert "no such file" in said
    assert "leadscore train" in said
