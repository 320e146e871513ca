"""The ledger against emulated AWS: the real scorer writes it through Firehose into S3 (moto), and replaying
it through the pure core gives exactly the scores DynamoDB holds, decay runs included."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from leadscore import clock
from leadscore.adapters.dynamodb import DynamoLeadStore
from leadscore.core.rules import compile_model
from leadscore.core.state import ScoreState
from leadscore.ledger.records import dedupe, read_json_lines
from leadscore.ledger.replay import DEFAULT_DECAY_AT, events_from_ledger, last_run_at, replay
from leadscore.models.model_files import load_model_file
from local.lambdas import invoke
from local.poller import _sqs_record
from local.stack import ROOT, EmulatedStack
from tests.integration.conftest import FORMS, a_submission, sign

MODEL = compile_model(load_model_file(ROOT / "scoring" / "default.yaml"))
DAY = 86_400


@pytest.fixture(autouse=True)
def _real_time_again() -> Iterator[None]:
    yield
    clock.reset()


def post_form(stack: EmulatedStack, **overrides: Any) -> None:
    body = a_submission(submitted_at=clock.now().isoformat(), **overrides)
    raw = json.dumps(body).encode()
    status, _ = stack.post(FORMS, raw, sign(stack.forms_key(), raw, clock.now_epoch()))
    assert status == 202
    stack.drain()


def a_lead_event(event_id: str, event_type: str, email: str, **properties: Any) -> dict[str, Any]:
    now = clock.now().isoformat()
    return {
        "event_id": event_id, "source": "test", "type": event_type, "occurred_at": now, "received_at": now,
        "email": email, "attributes": {}, "properties": properties,
    }  # fmt: skip


def queue(stack: EmulatedStack, *events: dict[str, Any]) -> None:
    sqs = boto3.client("sqs")
    for event in events:
        sqs.send_message(QueueUrl=stack.physical("LeadEventsQueue"), MessageBody=json.dumps(event))
    stack.drain()


def next_decay_run(stack: EmulatedStack) -> None:
    """Move the clock to the next 02:15 UTC and fire the decay schedule there, as EventBridge Scheduler does."""
    now = clock.now_epoch()
    clock.advance(timedelta(seconds=last_run_at(now, DEFAULT_DECAY_AT) + DAY - now))
    stack.run_schedule("DecaySchedule")


def stored(lead_id: str) -> ScoreState:
    store = DynamoLeadStore(boto3.client("dynamodb"), "leadscore-local-LeadsTable", [MODEL])
    state = store.load(lead_id, MODEL.id)
    assert state is not None
    return state


def score_of(state: ScoreState) -> tuple[object, ...]:
    return (state.fit, state.engagement, state.total, state.stage, state.points, state.hits, state.rule_days)


def test_replaying_the_ledger_reproduces_the_stored_scores_with_decay_days_between(stack: EmulatedStack) -> None:
    # Given two leads active over a week, with the decay job firing every day at 02:15 in between (a lead's
    # events a second apart: the ledger orders whole seconds only, and objects written within one second are
    # read back in name order, which need not be the order they were written; see docs/ledger.md)
    post_form(stack, form_id="demo-request")
    clock.advance(timedelta(seconds=1))
    post_form(stack, submission_id="b-1", email="bob@bigco.example", job_title="Student", company_size=5)
    clock.advance(timedelta(seconds=1))
    queue(stack, a_lead_event("v1", "page_viewed", "ada@analytical-engines.example", page_url="https://x/pricing"))
    for day in range(6):
        next_decay_run(stack)
        clock.advance(timedelta(hours=7))
        if day in (1, 4):
            queue(
                stack,
                a_lead_event(f"o{day}", "email_opened", "ada@analytical-engines.example"),
                a_lead_event(f"c{day}", "email_clicked", "bob@bigco.example", link_url="https://x/pricing"),
                a_lead_event(f"j{day}", "page_viewed", "bob@bigco.example", page_url="https://x/jobs"),
            )
    queue(stack, a_lead_event("won", "deal_won", "ada@analytical-engines.example", amount=12000, currency="EUR"))
    next_decay_run(stack)

    # When the ledger the scorer wrote to S3 is read back and replayed through the pure core
    lines = stack.ledger_lines()
    result = replay(events_from_ledger(lines), [MODEL], pepper=b"", until=clock.now())

    # Then every lead's replayed score is exactly what DynamoDB holds: totals, stage, per-rule breakdown
    assert len(result.states) == 2
    for (lead_id, _), state in result.states.items():
        assert score_of(state) == score_of(stored(lead_id))
    # and decay did happen on the way (demo request 40 faded over the week)
    assert any(state.points.get("demo_request", 40) < 40 for state in result.states.values())
    # and the lines the replay would write are the lines the scorer wrote (no_op totals aside)
    written = {r.key: r for r in dedupe(read_json_lines(lines))}
    for record in result.records:
        line = written[record.key]
        assert (line.result, line.hits, line.type) == (record.result, record.hits, record.type)
        if line.total is not None:
            assert (line.total, line.stage, line.stage_before) == (record.total, record.stage, record.stage_before)
    # and each applied line carries the score item's version after it (C2 v2 `sequence`, the fast path's
    # from its ALL_NEW response), increasing over a lead's events in the order the scorer applied them
    applied: dict[str, list[tuple[str, int | None]]] = {}
    for line in sorted(written.values(), key=lambda r: (r.occurred_at, r.sequence or 0)):
        if line.result == "applied":
            applied.setdefault(line.lead_id, []).append((line.event_id, line.sequence))
    for lead_id, sequence in applied.items():
        versions = [version for _, version in sequence]
        assert all(isinstance(version, int) for version in versions), sequence
        assert versions == sorted(set(versions)), sequence  # type: ignore[type-var]
        assert versions[-1] <= stored(lead_id).version  # type: ignore[operator]  # decay runs write after it


def sqs_event(stack: EmulatedStack, bodies: list[tuple[str, str]]) -> dict[str, Any]:
    arn = stack.template.physical["LeadEventsQueue"].attributes["Arn"]
    return {
        "Records": [_sqs_record({"MessageId": mid, "Body": body, "ReceiptHandle": mid}, arn) for mid, body in bodies]
    }


def test_every_scored_event_is_in_the_ledger_once_after_dedup_under_redelivery_and_partial_failure(
    stack: EmulatedStack,
) -> None:
    # Given a batch with three events, one message that is not an event, and the first event redelivered
    events = [
        a_lead_event("e1", "form_submitted", "ada@x.example", form_id="demo-request"),
        a_lead_event("e2", "email_opened", "ada@x.example"),
        a_lead_event("e3", "page_viewed", "bob@y.example", page_url="https://x/jobs"),
    ]
    bodies = [(f"m{i}", json.dumps(event)) for i, event in enumerate(events)] + [("bad", "{not json")]
    function = stack.functions["ScoreEventsFunction"]

    # When the scorer handles the batch, then a redelivery of the first message and the bad one
    first = invoke(function, sqs_event(stack, bodies))
    second = invoke(function, sqs_event(stack, [("m0-again", bodies[0][1]), ("bad-again", "{not json")]))

    # Then only the bad messages failed; the raw ledger holds e1 twice, deduplicated once per event and model
    assert first == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    assert second == {"batchItemFailures": [{"itemIdentifier": "bad-again"}]}
    records = list(read_json_lines(stack.ledger_lines()))
    assert Counter(r.event_id for r in records) == Counter({"e1": 2, "e2": 1, "e3": 1})
    kept = dedupe(records)
    assert sorted((r.event_id, r.result) for r in kept) == [("e1", "applied"), ("e2", "applied"), ("e3", "no_op")]
    assert {r.result for r in records if r.event_id == "e1"} == {"applied", "duplicate"}
    # and no email address reached the ledger
    assert all(b"@x.example" not in line and b"@y.example" not in line for line in stack.ledger_lines())


def test_an_outcome_is_kept_on_the_lead_profile(stack: EmulatedStack) -> None:
    # Given a lead, then sales rejecting it
    post_form(stack)
    queue(stack, a_lead_event("r1", "sales_rejected", "ada@analytical-engines.example", reason="no_intent"))

    # Then its profile item holds the outcome, compact
    [profile] = stack.profiles().values()
    assert profile["outcome"]["type"] == "sales_rejected"
    assert profile["outcome"]["reason"] == "no_intent"


def test_an_outcome_with_a_bad_currency_is_unreadable_and_not_scored(stack: EmulatedStack) -> None:
    # Given a won deal in a currency that does not exist
    body = json.dumps(a_lead_event("w1", "deal_won", "ada@x.example", amount=10, currency="XYZ"))

    # When the scorer gets it, then the records fail (to the DLQ after their retries) and nothing is written
    with pytest.raises(BatchProcessingError, match="All records failed"):
        invoke(stack.functions["ScoreEventsFunction"], sqs_event(stack, [("m1", body), ("m2", body)]))
    assert stack.items() == []
    assert stack.ledger_lines() == []


def test_the_local_stack_can_write_the_ledger_as_files(
    stack: EmulatedStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the scorer configured as `make demo` / `make serve` configure it (LEDGER_DIR)
    monkeypatch.setenv("LEDGER_DIR", str(tmp_path))
    stack.reset_handler_caches()
    try:
        # When a lead submits a form
        post_form(stack)
    finally:
        monkeypatch.undo()
        stack.reset_handler_caches()

    # Then its line is in a day partition under <dir>/ledger/, where DuckDB and `leadscore` read it
    [path] = list((tmp_path / "ledger").glob("dt=*/*.jsonl"))
    assert path.parent.name == f"dt={clock.now():%Y-%m-%d}"
    [record] = read_json_lines(path.read_bytes().splitlines())
    assert (record.type, record.result, record.model_id) == ("form_submitted", "applied", "default")
