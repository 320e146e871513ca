"""Amazon SES events through both documented paths (EventBridge rule, SNS topic) into the real scorer.

No endpoint, no signature: the template's rule and subscription are the only way in (IAM). moto matches the
rule's event pattern and delivers SNS to SQS (raw), as AWS does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3

from local.stack import EmulatedStack
from tests.integration.conftest import a_submission, post_signed, the_score

EVENTS = Path(__file__).resolve().parents[2] / "events"
RECIPIENT = "recipient@example.com"


def sample(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return document


def via_eventbridge(document: dict[str, Any]) -> None:
    response = boto3.client("events").put_events(
        Entries=[{"Source": "aws.ses", "DetailType": document["detail-type"], "Detail": json.dumps(document["detail"])}]
    )
    assert response["FailedEntryCount"] == 0


def via_sns(stack: EmulatedStack, document: dict[str, Any]) -> None:
    boto3.client("sns").publish(TopicArn=stack.physical("SesEventsTopic"), Message=json.dumps(document))


def a_known_lead(stack: EmulatedStack) -> None:
    status, _ = post_signed(stack, a_submission(email=RECIPIENT, form_id="newsletter-signup"))
    assert status == 202


def test_ses_opens_and_clicks_arrive_through_eventbridge_and_sns_and_score_once(stack: EmulatedStack) -> None:
    # Given a known lead
    a_known_lead(stack)
    click = sample("ses_eventbridge_click.json")

    # When SES publishes a click to EventBridge and an open to SNS, and the click again through SNS
    via_eventbridge(click)
    via_sns(stack, sample("ses_sns_open.json"))
    via_sns(stack, click["detail"])
    stack.drain()

    # Then each scored once: the duplicate click (same SES message id, type and time) changed nothing
    score = the_score(stack)
    assert score["n"]["email_click"] == 1
    assert score["n"]["pricing_link_click"] == 1
    assert score["n"]["email_open"] == 1
    assert score["b"]["email_click"] + score["b"]["pricing_link_click"] + score["b"]["email_open"] == 4 + 6 + 1


def test_a_hard_bounce_through_sns_suppresses_the_lead(stack: EmulatedStack) -> None:
    # Given a known lead
    a_known_lead(stack)

    # When SES reports a permanent bounce
    via_sns(stack, sample("ses_sns_bounce.json"))
    stack.drain()

    # Then the bounce's negative points apply and the lead is suppressed (and leaves the decay index)
    score = the_score(stack)
    assert score["suppressed"] is True
    assert score["b"]["hard_bounce"] == -20
    assert "decay_pk" not in score


def test_an_event_that_is_not_an_ses_event_ends_in_the_dlq_and_writes_nothing(stack: EmulatedStack) -> None:
    # Given an SES-looking document without its mail section, published to the SES topic
    broken = sample("ses_sns_open.json")
    del broken["mail"]
    via_sns(stack, broken)

    # When the scorer sees it as often as the redrive policy allows
    for _ in range(10):
        stack.drain()

    # Then it sits in the dead-letter queue and nothing was written
    assert stack.queue_depth("LeadEventsQueue") == 0
    assert stack.queue_depth("LeadEventsDLQ") == 1
    assert stack.items() == []


def test_other_eventbridge_events_never_reach_the_queue(stack: EmulatedStack) -> None:
    # Given an event from another source on the default bus
    boto3.client("events").put_events(
        Entries=[{"Source": "my.app", "DetailType": "Email Opened", "Detail": json.dumps({"eventType": "Open"})}]
    )

    # When / Then the rule's pattern keeps it out
    assert stack.queue_depth("LeadEventsQueue") == 0
