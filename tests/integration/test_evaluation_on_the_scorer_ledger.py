"""`leadscore evaluate` reads what the real scorer writes: the local stack's file ledger (LEDGER_DIR)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest

from leadscore import clock
from leadscore.adapters import ledger_files
from leadscore.models.model_files import load_model_file
from leadscore_cli.evaluation.engines import DuckDBEngine, Scope
from leadscore_cli.evaluation.pipeline import EvaluationRequest, run
from leadscore_cli.evaluation.results import evaluate
from local.stack import ROOT, EmulatedStack
from tests.integration.conftest import FORMS, a_submission, sign
from tests.integration.test_ledger_pipeline import a_lead_event, post_form, queue

MODEL = load_model_file(ROOT / "scoring" / "default.yaml")


@pytest.fixture
def ledger_dir(stack: EmulatedStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("LEDGER_DIR", str(tmp_path))
    stack.reset_handler_caches()
    yield tmp_path
    monkeypatch.undo()
    stack.reset_handler_caches()
    clock.reset()


def test_the_evaluation_reads_the_scorers_ledger(stack: EmulatedStack, ledger_dir: Path) -> None:
    # Given two leads scored by the real scorer: Ada asks for a demo and sales accepts her; Bob, a student,
    # downloads a white paper, opens an email, and sales rejects him
    post_form(stack, submission_id="ada-1", form_id="demo-request")
    post_form(stack, submission_id="bob-1", email="bob@gmail.com", job_title="Student", company_size=1)
    queue(
        stack,
        a_lead_event("bob-open-1", "email_opened", "bob@gmail.com"),
        a_lead_event("bob-delivered-1", "email_delivered", "bob@gmail.com"),  # matches no rule: a no_op
    )
    queue(
        stack,
        a_lead_event("ada-accepted", "sales_accepted", "ada@analytical-engines.example"),
        a_lead_event("bob-rejected", "sales_rejected", "bob@gmail.com", reason="wrong_contact"),
    )
    assert len(stack.score_items()) == 2  # one score per lead under the default model

    # When the deployed model is evaluated on the files, and a candidate equal to it is replayed from them
    evaluation = evaluate(DuckDBEngine(ledger_dir, Scope("default")), MODEL)
    replayed = run(EvaluationRequest(ledger=str(ledger_dir), model=MODEL, candidate=True, half_life_rules=0))

    # Then: both leads, Ada accepted (above Bob), Bob rejected; AUC 1.0; and the replay agrees exactly
    assert len(evaluation.leads) == 2
    ada, bob = sorted(evaluation.leads, key=lambda row: -row.total)
    assert (ada.accepted, bob.accepted, bob.rejected, bob.reject_reason) == (True, False, True, "wrong_contact")
    assert ada.total > bob.total
    assert ada.reached_sql or ada.reached_mql
    assert evaluation.auc == 1.0
    assert [(r.lead_id, r.total, r.stage) for r in replayed.evaluation.leads] == [
        (r.lead_id, r.total, r.stage) for r in evaluation.leads
    ]
    assert not any("@" in row.lead_id for row in evaluation.leads)  # keyed hashes: no address in the ledger


def post_form_at(stack: EmulatedStack, submitted_at: str, **overrides: Any) -> None:
    raw = json.dumps(a_submission(**overrides) | {"submitted_at": submitted_at}).encode()
    status, _ = stack.post(FORMS, raw, sign(stack.forms_key(), raw, clock.now_epoch()))
    assert status == 202
    stack.drain()


def test_the_replay_agrees_when_a_leads_events_share_one_second(
    stack: EmulatedStack, ledger_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Bob's form, email open and rejection all in one second (the ledger keeps whole seconds), and
    # ledger files whose random name parts run backwards (as uuid4 may draw them): the flaky case, forced
    names = iter(UUID(int=value) for value in range(10**6, 0, -1))
    monkeypatch.setattr(ledger_files, "uuid", SimpleNamespace(uuid4=lambda: next(names)))
    second = clock.now().replace(microsecond=0).isoformat()

    def at_that_second(event: dict[str, Any]) -> dict[str, Any]:
        return event | {"occurred_at": second, "received_at": second}

    post_form_at(stack, second, submission_id="ada-1", form_id="demo-request")
    post_form_at(stack, second, submission_id="bob-1", email="bob@gmail.com", job_title="Student", company_size=1)
    queue(stack, at_that_second(a_lead_event("bob-open-1", "email_opened", "bob@gmail.com")))
    queue(
        stack,
        at_that_second(a_lead_event("ada-accepted", "sales_accepted", "ada@analytical-engines.example")),
        at_that_second(a_lead_event("bob-rejected", "sales_rejected", "bob@gmail.com", reason="wrong_contact")),
    )

    # When the deployed model is evaluated on the files, and a candidate equal to it is replayed from them
    evaluation = evaluate(DuckDBEngine(ledger_dir, Scope("default")), MODEL)
    replayed = run(EvaluationRequest(ledger=str(ledger_dir), model=MODEL, candidate=True, half_life_rules=0))

    # Then the replay scored Bob's events in the scorer's order: the same scores before the outcomes
    assert [row.total for row in sorted(evaluation.leads, key=lambda row: -row.total)] == [95.0, -29.0]
    assert [(r.lead_id, r.total, r.stage) for r in replayed.evaluation.leads] == [
        (r.lead_id, r.total, r.stage) for r in evaluation.leads
    ]
