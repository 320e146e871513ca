"""The feedback SLA through the real handlers against moto: a sales alert goes out (scorer -> FIFO hop -> sender),
nobody answers for N hours, the scheduled FeedbackSlaFunction reports it to the ops topic once; feedback through
the API (an outcome event through the queue and the scorer) ends the wait."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import boto3
import pytest

from leadscore import clock
from leadscore.core.identity import lead_id_for
from leadscore.services.feedback_sla import SlaReportsNotSent
from local.stack import EmulatedStack
from tests.integration.conftest import FORMS, a_submission, sign
from tests.integration.faults import Call, Faults, Rule

ADA = "ada@analytical-engines.example"
SLA_HOURS = 24  # template default (FeedbackSlaHours)
EXPIRY_DAYS = 30  # template default (FeedbackSlaExpiryDays)
SCHEDULE = "FeedbackSlaSchedule"


pytestmark = pytest.mark.usefixtures("real_clock")


@pytest.fixture
def ops(stack: EmulatedStack) -> str:
    """A queue subscribed to the ops topic: what an ops subscriber receives."""
    return stack._tap_topic("OpsTopic")


def ops_reports(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    received: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            envelope = json.loads(message["Body"])
            attributes = {name: value["Value"] for name, value in envelope.get("MessageAttributes", {}).items()}
            received.append({"subject": envelope.get("Subject"), "message": envelope["Message"], **attributes})
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return received


def an_alerted_lead(stack: EmulatedStack, email: str = ADA) -> str:
    """A lead that crossed the sales threshold, its alert published to sales (the outbox cleared)."""
    at = clock.now()  # the process clock, which these tests move
    for body in (
        a_submission(email=email, submitted_at=at.isoformat()),
        a_submission(email=email, submission_id=f"demo-{email}", form_id="demo-request", submitted_at=at.isoformat()),
    ):
        raw = json.dumps(body).encode()
        status, _ = stack.post(FORMS, raw, sign(stack.forms_key(), raw, int(at.timestamp())))
        assert status == 202
    stack.drain()
    assert len(stack.alerts()) == 1
    return lead_id_for(email, str(stack.secret("LeadIdPepperSecret")["pepper"]).encode())


def awaiting(stack: EmulatedStack, token: str, query: str = "") -> list[dict[str, Any]]:
    status, _, body = stack.request("GET", f"/leads?awaiting_feedback=true{query}", token=token)
    assert status == 200, body
    return list(body["items"])


def give_feedback(stack: EmulatedStack, lead_id: str, key: str = "feedback-0001") -> None:
    token = stack.issuer.mint(["leads:feedback"])
    status, _, _ = stack.request(
        "POST", f"/leads/{lead_id}/feedback", token=token, body={"outcome": "accepted"},
        headers={"Idempotency-Key": key},
    )  # fmt: skip
    assert status == 201
    stack.drain()  # the outcome event goes through the queue and the scorer


def test_an_unanswered_alert_is_reported_once_after_the_sla(stack: EmulatedStack, ops: str) -> None:
    # Given a lead whose sales alert went out, listed as awaiting feedback (not overdue yet)
    lead_id = an_alerted_lead(stack)
    reader = stack.issuer.mint(["leads:read"])
    [row] = awaiting(stack, reader)
    assert (row["lead_id"], row["overdue"], row["sla_reported_at"]) == (lead_id, False, None)
    assert (row["name"], row["company"]) == ("Ada Lovelace", "Analytical Engines")

    # When the SLA job runs before N hours, Then nothing is reported
    clock.advance(timedelta(hours=SLA_HOURS - 1))
    assert stack.run_schedule(SCHEDULE)["reported"] == 0
    assert ops_reports(ops) == []

    # When it runs after N hours, and again later, Then ops had exactly one report, naming the lead by id only
    clock.advance(timedelta(hours=1, seconds=1))
    assert stack.run_schedule(SCHEDULE)["reported"] == 1
    clock.advance(timedelta(hours=1))
    assert stack.run_schedule(SCHEDULE)["reported"] == 0
    [report] = ops_reports(ops)
    assert report["kind"] == "feedback_sla"
    assert report["model"] == "default"
    assert lead_id in report["message"]
    assert ADA not in report["message"]

    # Then the API lists it as overdue and reported, and the lead's page says since when it waits
    [row] = awaiting(stack, reader)
    assert row["overdue"] is True
    assert row["sla_reported_at"] is not None
    _, _, page = stack.request("GET", f"/leads/{lead_id}", token=reader)
    [score] = page["models"]
    assert score["awaiting_feedback_since"] is not None
    assert score["sla_reported_at"] == row["sla_reported_at"]

    # When sales records feedback, Then the lead is no longer listed and nothing more is ever reported
    give_feedback(stack, lead_id)
    assert awaiting(stack, reader) == []
    [item] = stack.score_items()
    assert "fb_pk" not in item
    assert "fb_rep" not in item
    clock.advance(timedelta(hours=SLA_HOURS * 3))
    assert stack.run_schedule(SCHEDULE)["reported"] == 0
    assert ops_reports(ops) == []


def test_feedback_within_the_sla_means_no_report(stack: EmulatedStack, ops: str) -> None:
    # Given an alerted lead, When sales answers two hours later
    lead_id = an_alerted_lead(stack)
    clock.advance(timedelta(hours=2))
    give_feedback(stack, lead_id)

    # Then, long after the SLA, nothing was reported and nothing is listed
    clock.advance(timedelta(hours=SLA_HOURS * 2))
    assert stack.run_schedule(SCHEDULE)["reported"] == 0
    assert ops_reports(ops) == []
    assert awaiting(stack, stack.issuer.mint(["leads:read"])) == []


def test_a_refused_publish_is_reported_by_the_next_run_once(stack: EmulatedStack, ops: str, aws_faults: Faults) -> None:
    # Given an overdue alert, and the ops topic refusing one publish (after the SDK's retries)
    an_alerted_lead(stack)
    topic = stack.physical("OpsTopic")
    aws_faults.unavailable("sns", "Publish", times=1, when=lambda params: params.get("TopicArn") == topic)
    clock.advance(timedelta(hours=SLA_HOURS, seconds=1))

    # When the job runs: the publish fails, its mark is undone, and the run counts as failed (the alarm)
    with pytest.raises(SlaReportsNotSent, match="1 SLA report"):
        stack.run_schedule(SCHEDULE)
    [row] = awaiting(stack, stack.issuer.mint(["leads:read"]))
    assert row["sla_reported_at"] is None

    # Then the next runs report it exactly once
    clock.advance(timedelta(minutes=15))
    assert stack.run_schedule(SCHEDULE)["reported"] == 1
    clock.advance(timedelta(minutes=15))
    assert stack.run_schedule(SCHEDULE)["reported"] == 0
    assert len(ops_reports(ops)) == 1


def test_a_crash_after_publishing_never_sends_a_second_report(
    stack: EmulatedStack, ops: str, aws_faults: Faults
) -> None:
    # Given an overdue alert, and a function that dies right after SNS accepted the report
    an_alerted_lead(stack)
    topic = stack.physical("OpsTopic")

    def publish_then_die(through: Any, call: Call) -> Any:
        through(call.params)
        raise SystemExit("the function timed out after SNS accepted the report")

    aws_faults.add(Rule("sns", "Publish", publish_then_die, lambda p: p.get("TopicArn") == topic, times=1))
    clock.advance(timedelta(hours=SLA_HOURS, seconds=1))

    # When the job runs and dies, and the schedule fires again
    with pytest.raises(SystemExit):
        stack.run_schedule(SCHEDULE)
    clock.advance(timedelta(minutes=15))
    assert stack.run_schedule(SCHEDULE)["reported"] == 0

    # Then ops had the report once (it was marked reported before the publish)
    assert len(ops_reports(ops)) == 1


def test_an_alert_unanswered_past_the_expiry_leaves_the_list_but_not_the_lead(stack: EmulatedStack, ops: str) -> None:
    # Given an alert reported to ops after the SLA, still without feedback
    lead_id = an_alerted_lead(stack)
    clock.advance(timedelta(hours=SLA_HOURS, seconds=1))
    assert stack.run_schedule(SCHEDULE)["reported"] == 1
    reader = stack.issuer.mint(["leads:read"])
    assert len(awaiting(stack, reader)) == 1

    # When the job runs once the expiry (template default, 30 days after the alert) has passed, and again
    clock.advance(timedelta(days=EXPIRY_DAYS))
    assert stack.run_schedule(SCHEDULE)["expired"] == 1
    assert stack.run_schedule(SCHEDULE) == {"reported": 0, "failed": 0, "skipped": 0, "expired": 0}

    # Then it is no longer listed, ops heard of it once, and the lead and its score are untouched
    assert awaiting(stack, reader) == []
    assert len(ops_reports(ops)) == 1
    [item] = stack.score_items()
    assert "fb_pk" not in item
    assert "fb_rep" not in item
    status, _, page = stack.request("GET", f"/leads/{lead_id}", token=reader)
    assert status == 200
    assert page["models"][0]["stage"] == "SQL"


def test_the_awaiting_list_is_oldest_first_paginated_and_checks_its_parameters(stack: EmulatedStack) -> None:
    # Given three alerted leads, alerted an hour apart
    leads = []
    for index in range(3):
        leads.append(an_alerted_lead(stack, f"lead{index}@example.com"))
        clock.advance(timedelta(hours=1))
    reader = stack.issuer.mint(["leads:read"])

    # When listed two at a time, Then oldest alert first, across pages, with a cursor
    status, _, first = stack.request("GET", "/leads?awaiting_feedback=true&limit=2", token=reader)
    assert status == 200
    assert [row["lead_id"] for row in first["items"]] == leads[:2]
    status, _, second = stack.request(
        "GET", f"/leads?awaiting_feedback=true&limit=2&cursor={first['cursor']}", token=reader
    )
    assert [row["lead_id"] for row in second["items"]] == leads[2:]
    assert second["cursor"] is None

    # Then a hot-list cursor is refused here, and hot-list filters do not combine with it (422 naming them)
    _, _, hot = stack.request("GET", "/leads?limit=1", token=reader)
    status, _, body = stack.request("GET", f"/leads?awaiting_feedback=true&cursor={hot['cursor']}", token=reader)
    assert (status, body["details"][0]["loc"]) == (422, "query.cursor")
    status, _, body = stack.request("GET", "/leads?awaiting_feedback=true&stage=SQL", token=reader)
    assert (status, body["details"][0]["loc"]) == (422, "query.stage")
