"""`leadscore rescore --apply --alerts` and a model opted in to predictive alerts, against emulated AWS: a lead
the rescore puts in the SQL p stage gets one predictive alert through the same outbox as the scorer's
(delivered by the stranded-alert sweep), once; a lead the live scorer already alerted is not alerted again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from leadscore_cli.main import app
from local.predictive_demo import ARTEFACT, predictive_block, served_models_dir
from local.stack import EmulatedStack
from tests.integration.test_ledger_cli import three_leads
from tests.unit.predictive_artefacts import write_artefact

runner = CliRunner()
CTO = "lead1@analytical-engines.example"
# Webinars make a lead likely: the CTO who registered for one sits at p = sigmoid(-3 + 3 ln 2) = 0.28, in the
# SQL p stage (0.25) while her rule stage stays MQL; the other two leads stay at p = 0.047 (LEAD).
FEATURES = {"eng:webinar:hits": ("eng:webinar", "Registered for a webinar", 3.0)}
STAGES = {"mql": 0.1, "sql": 0.25}

pytestmark = pytest.mark.usefixtures("real_clock")


def models_with_the_block(tmp_path: Path, *, version: str, alerts: bool = True) -> Path:
    trained = tmp_path / f"trained-{version}"
    artefact = write_artefact(trained, ARTEFACT, base_model="default", features=FEATURES, version=version)
    return served_models_dir(artefact, tmp_path / f"scoring-{version}", block=predictive_block(STAGES, alerts=alerts))


def rescore(stack: EmulatedStack, models: Path, tmp_path: Path, *flags: str) -> Any:
    arguments = ["rescore", "--model", str(models / "default.yaml"), "--apply", *flags]
    arguments += ["--table", stack.physical("LeadsTable"), "--ledger", f"s3://{stack.physical('LedgerBucket')}"]
    result = runner.invoke(app, [*arguments, "--checkpoint", str(tmp_path / "cp")])
    assert result.exit_code == 0, result.output
    return result


def sweep(stack: EmulatedStack) -> list[dict[str, Any]]:
    """The stranded-alert sweep (every 5 minutes on AWS) hands the outboxes over; what sales then received."""
    stack.run_schedule("AlertSweepSchedule")
    return stack.alerts()


def the_cto(stack: EmulatedStack) -> dict[str, Any]:
    [item] = [item for item in stack.score_items() if item.get("p_stage") == "SQL"]
    return item


def predictive(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [alert for alert in alerts if alert["attributes"].get("kind") == "predictive"]


@pytest.mark.parametrize("flags", [("--alerts",), ()], ids=["--alerts", "no --alerts"])
def test_rescore_alerts_a_lead_newly_in_the_sql_p_stage_once_like_the_scorer(
    stack: EmulatedStack, tmp_path: Path, flags: tuple[str, ...]
) -> None:
    # Given three leads scored under the rules alone (no probability yet), what they alerted already delivered
    three_leads(stack)
    stack.alerts()
    models = models_with_the_block(tmp_path, version="20261201-a")

    # When the model with a block opted in to predictive alerts is applied, the sweep runs, and all of it again
    first = rescore(stack, models, tmp_path, *flags)
    delivered = sweep(stack)
    item = the_cto(stack)
    second = rescore(stack, models, tmp_path, *flags)
    again = sweep(stack)

    # Then with --alerts the CTO (p 0.28, rule stage MQL) got one predictive alert, through the outbox and the
    # sender like the scorer's, and she is disarmed; without it, none (the crossing is history), disarmed too
    assert "written 3, unchanged 0" in first.output
    assert item["stage"] == "MQL"
    assert item.get("p_armed") is False
    if flags:
        [alert] = delivered
        assert alert["attributes"]["kind"] == "predictive"
        assert alert["subject"].startswith("Likely to convert (28%)")
        assert "+ Registered for a webinar: today" in alert["message"]
        assert "alerts queued 1" in first.output
        assert item["alerts"] == 1
        assert not item.get("pending")
    else:
        assert delivered == []
        assert "alerts queued 0" in first.output
    # ... and the second apply wrote nothing and alerted nobody
    assert "written 0, unchanged 3" in second.output
    assert again == []


def test_rescore_alerts_does_not_alert_again_a_lead_the_scorer_alerted(
    stack: EmulatedStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the live scorer serving the block with predictive alerts: the CTO's webinar alerted sales once
    live = models_with_the_block(tmp_path, version="20261201-a")
    monkeypatch.setenv("SCORING_MODELS_DIR", str(live))
    stack.reset_handler_caches()
    three_leads(stack)
    assert [alert["attributes"].get("kind") for alert in predictive(stack.alerts())] == ["predictive"]
    before = the_cto(stack)

    # When a retrained artefact (another version: every lead is written) is rescored with --alerts, and swept
    retrained = models_with_the_block(tmp_path, version="20261208-b")
    result = rescore(stack, retrained, tmp_path, "--alerts")
    delivered = sweep(stack)

    # Then every lead was written with the new version, and the CTO, still in the SQL p stage, got no second alert
    assert "written 3, unchanged 0" in result.output
    assert "alerts queued 0" in result.output
    assert predictive(delivered) == []
    after = the_cto(stack)
    assert after["p_version"] == "20261208-b"
    assert (after["alerts"], after.get("p_armed")) == (before["alerts"], False) == (1, False)
