"""Outcome events through the real scorer on moto: the feedback mark's clear (a conditional UpdateItem, a write
unit even when its condition fails) is sent only for a lead whose score item may hold a mark."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest

from leadscore import clock
from leadscore.models.events import EventType, LeadEvent
from local.stack import EmulatedStack
from tests.integration.conftest import a_submission, post_signed
from tests.integration.fault_workload import enqueue
from tests.integration.test_feedback_sla import ADA, an_alerted_lead

GRACE = "grace@cobol-cloud.example"


pytestmark = pytest.mark.usefixtures("real_clock")


@pytest.fixture
def clears(stack: EmulatedStack) -> Iterator[list[dict[str, Any]]]:
    """Every clear of a feedback mark the functions send (UpdateItem removing fb_pk), as sent."""
    sent: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        if "REMOVE #mark" in str(params.get("UpdateExpression", "")):
            sent.append(params)

    session = boto3._get_default_session()
    session.events.register("provide-client-params.dynamodb.UpdateItem", record)
    stack.reset_handler_caches()  # clients copy the session's hooks when they are created
    yield sent
    session.events.unregister("provide-client-params.dynamodb.UpdateItem", record)


def an_outcome(email: str, occurred_days_ago: float, key: str) -> LeadEvent:
    now = clock.now()
    return LeadEvent(
        event_id=f"crm-{key}",
        source="hubspot",
        type=EventType.SALES_ACCEPTED,
        occurred_at=now - timedelta(days=occurred_days_ago),
        received_at=now,
        email=email,
    )


def test_a_crm_outcome_for_a_lead_never_alerted_sends_no_clear(
    stack: EmulatedStack, clears: list[dict[str, Any]]
) -> None:
    # Given a scored lead that was never alerted
    status, _ = post_signed(stack, a_submission(email=GRACE))
    assert status == 202
    stack.drain()

    # When the CRM reports, a day later, that sales accepted her the day before
    clock.advance(timedelta(days=1))
    enqueue(stack, [an_outcome(GRACE, 0.5, "grace")])
    stack.drain()

    # Then the outcome is recorded and no clear was sent (it was one conditional write per model)
    assert any(profile.get("outcome") for profile in stack.profiles().values())
    assert clears == []


def test_a_crm_outcome_for_an_alerted_lead_clears_its_mark_with_one_write(
    stack: EmulatedStack, clears: list[dict[str, Any]]
) -> None:
    # Given a lead whose sales alert awaits feedback
    an_alerted_lead(stack)
    [item] = [item for item in stack.score_items() if item.get("fb_pk")]

    # When the CRM reports, two days later, that sales accepted her a day after the alert
    clock.advance(timedelta(days=2))
    enqueue(stack, [an_outcome(ADA, 1, "ada")])
    stack.drain()

    # Then one clear was sent and the lead no longer awaits feedback
    assert len(clears) == 1
    [after] = [entry for entry in stack.score_items() if entry["pk"] == item["pk"]]
    assert "fb_pk" not in after
