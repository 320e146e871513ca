"""The leadscore CLI against emulated AWS: outcomes imported through the real queue and scorer; rescore
reading the S3 ledger and writing DynamoDB (dry run: nothing; apply twice: the second writes nothing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from leadscore_cli.main import app
from local.stack import ROOT, EmulatedStack
from tests.integration.conftest import a_submission, post_signed

runner = CliRunner()


def three_leads(stack: EmulatedStack) -> None:
    for index, (title, form) in enumerate(
        [("VP Sales", "demo-request"), ("CTO", "webinar-registration"), ("Manager", "newsletter-signup")]
    ):
        body = a_submission(
            submission_id=f"s{index}", email=f"lead{index}@analytical-engines.example", job_title=title, form_id=form
        )
        status, _ = post_signed(stack, body)
        assert status == 202
    stack.drain()


def a_candidate_model(tmp_path: Path) -> Path:
    """The default model with webinars worth 40 and SQL at 90."""
    document = yaml.safe_load((ROOT / "scoring" / "default.yaml").read_text())
    document["version"] = "2026.12.1"
    document["thresholds"] = {"mql": 40, "sql": 90}
    for rule in document["engagement_rules"]:
        if rule["id"] == "webinar":
            rule["points"] = 40
    path = tmp_path / "candidate.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def versions(stack: EmulatedStack) -> dict[str, Any]:
    return {item["pk"]: (item["v"], item["total"], item["stage"], item["mv"]) for item in stack.score_items()}


def rescore(stack: EmulatedStack, model: Path, *flags: str, checkpoint: Path) -> Any:
    bucket = stack.physical("LedgerBucket")
    table = stack.physical("LeadsTable")
    arguments = ["rescore", "--model", str(model), *flags, "--table", table, "--ledger", f"s3://{bucket}"]
    return runner.invoke(app, [*arguments, "--checkpoint", str(checkpoint)])


def test_rescore_dry_run_writes_nothing_and_apply_twice_writes_once(stack: EmulatedStack, tmp_path: Path) -> None:
    # Given three scored leads, their ledger in S3, and a candidate model
    three_leads(stack)
    model = a_candidate_model(tmp_path)
    stored = versions(stack)

    # When a dry run is made
    dry = rescore(stack, model, "--dry-run", checkpoint=tmp_path / "cp")

    # Then it reports the move and nothing was written
    assert dry.exit_code == 0, dry.output
    assert "MQL" in dry.output
    assert "1 lead(s) would change" in dry.output
    assert versions(stack) == stored

    # When it is applied, then applied again
    first = rescore(stack, model, "--apply", checkpoint=tmp_path / "cp")
    after_first = versions(stack)
    second = rescore(stack, model, "--apply", checkpoint=tmp_path / "cp")

    # Then the first wrote the one changed lead (the CTO: fit 55 + webinar 40 = 95, MQL -> SQL), the second nothing
    assert first.exit_code == 0, first.output
    assert "written 1, unchanged 2" in first.output
    changed = [pk for pk in stored if stored[pk] != after_first[pk]]
    assert len(changed) == 1
    assert after_first[changed[0]][3] == "2026.12.1"
    assert second.exit_code == 0, second.output
    assert "written 0, unchanged 3" in second.output
    assert versions(stack) == after_first
    # and the CTO's historic crossing raised no alert (none waits in any outbox)
    assert all(not item.get("pending") for item in stack.score_items())


def test_outcomes_import_reaches_the_lead_and_the_ledger_and_reports_bad_rows(
    stack: EmulatedStack, tmp_path: Path
) -> None:
    # Given a scored lead and a CSV with one good outcome and one bad row
    three_leads(stack)
    csv = tmp_path / "outcomes.csv"
    csv.write_text(
        "email,outcome,date,amount,currency\n"
        "lead0@analytical-engines.example,deal_won,2026-11-30,25000,EUR\n"
        "lead1@analytical-engines.example,deal_won,2026-11-30,lots,EUR\n"
    )
    arguments = ["outcomes", "import", str(csv), "--queue-url", stack.physical("LeadEventsQueue")]
    arguments += ["--table", stack.physical("LeadsTable")]

    # When it is imported, twice, and the scorer runs
    first = runner.invoke(app, arguments)
    second = runner.invoke(app, arguments)
    stack.drain()

    # Then the bad row is reported by its line (and fails the exit code), the good one is on the lead
    assert first.exit_code == 1
    assert "amount 'lots' is not a number" in first.output
    assert " 3 " in first.output
    assert second.exit_code == 1
    outcomes = [p["outcome"] for p in stack.profiles().values() if "outcome" in p]
    assert [(o["type"], o["amount"], o["currency"]) for o in outcomes] == [("deal_won", 25000, "EUR")]
    # and in the ledger, one event after dedup although imported twice
    lines = [json.loads(line) for line in stack.ledger_lines()]
    won = {(line["event_id"], line["model_id"]) for line in lines if line["type"] == "deal_won"}
    assert len(won) == 1
    assert {line["outcome"]["amount"] for line in lines if line["type"] == "deal_won"} == {25000.0}
