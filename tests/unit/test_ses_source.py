"""Amazon SES events as SES publishes them (EventBridge, SNS raw, SNS enveloped) -> LeadEvents."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from leadscore.models.events import EventType
from leadscore.sources import ses

EVENTS = Path(__file__).resolve().parents[2] / "events"
RECEIVED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
MESSAGE_ID = "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000"


def sample(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return document


@pytest.mark.parametrize(
    ("name", "kind", "properties"),
    [
        ("ses_sns_delivery.json", EventType.EMAIL_DELIVERED, {}),
        ("ses_sns_open.json", EventType.EMAIL_OPENED, {}),
        ("ses_sns_bounce.json", EventType.EMAIL_BOUNCED, {"bounce_type": "hard"}),
        ("ses_sns_complaint.json", EventType.EMAIL_COMPLAINED, {}),
        ("ses_sns_subscription.json", EventType.EMAIL_UNSUBSCRIBED, {}),
    ],
)
def test_each_documented_sns_event_becomes_one_lead_event(
    name: str, kind: EventType, properties: dict[str, str]
) -> None:
    # Given an SES event as the SNS destination delivers it with raw message delivery
    document = sample(name)

    # When normalised
    [event] = ses.normalise_document(document, RECEIVED)

    # Then the recipient is the lead, the id is SES's own, and the sender's campaign tag is kept
    assert event.type is kind
    assert event.source == "ses"
    assert event.email == "recipient@example.com"
    assert event.event_id.startswith(f"{MESSAGE_ID}:{document['eventType']}:")
    assert event.properties == {"message_id": MESSAGE_ID, "campaign": "november-webinar", **properties}


def test_the_eventbridge_shape_and_the_sns_envelope_give_the_same_event() -> None:
    # Given one click as EventBridge delivers it, and the same click inside an SNS envelope
    bridged = sample("ses_eventbridge_click.json")
    enveloped = {"Type": "Notification", "MessageId": "m-1", "Message": json.dumps(bridged["detail"])}

    # When both are normalised
    [from_bridge] = ses.normalise_document(bridged, RECEIVED)
    [from_sns] = ses.normalise_document(enveloped, RECEIVED)

    # Then they are the same event (so a redelivery through either path deduplicates)
    assert from_bridge == from_sns
    assert from_bridge.type is EventType.EMAIL_CLICKED
    assert from_bridge.properties["link_url"] == "https://www.example.com/pricing?utm_source=ses"
    assert "automated" not in from_bridge.properties


def test_a_click_seconds_after_sending_is_a_link_scanner() -> None:
    # Given a click two seconds after SES accepted the message
    document = sample("ses_eventbridge_click.json")
    document["detail"]["click"]["timestamp"] = "2017-08-09T22:00:21.652Z"

    # When normalised / Then it is flagged as automated
    [event] = ses.normalise_document(document, RECEIVED)
    assert event.properties["automated"] == "link_scanner"


def test_a_transient_bounce_is_soft() -> None:
    document = sample("ses_sns_bounce.json")
    document["bounce"]["bounceType"] = "Transient"
    [event] = ses.normalise_document(document, RECEIVED)
    assert event.properties["bounce_type"] == "soft"


def test_opens_of_a_message_to_several_recipients_are_not_attributed() -> None:
    # Given an open of a message sent to two people (SES cannot say which one opened it)
    document = sample("ses_sns_open.json")
    document["mail"]["destination"] = ["a@example.com", "b@example.com"]

    # When normalised / Then no lead gets it
    assert ses.normalise_document(document, RECEIVED) == []


def test_a_bounce_names_each_bounced_recipient() -> None:
    document = sample("ses_sns_bounce.json")
    document["bounce"]["bouncedRecipients"] = [{"emailAddress": "a@example.com"}, {"emailAddress": "b@example.com"}]
    events = ses.normalise_document(document, RECEIVED)
    assert [event.email for event in events] == ["a@example.com", "b@example.com"]
    assert len({event.event_id for event in events}) == 2


@pytest.mark.parametrize("event_type", ["Send", "Reject", "DeliveryDelay", "Rendering Failure"])
def test_events_that_say_nothing_about_the_lead_are_ignored(event_type: str) -> None:
    document = sample("ses_sns_delivery.json")
    document["eventType"] = event_type
    assert ses.normalise_document(document, RECEIVED) == []


def test_a_topic_preference_change_is_not_an_unsubscribe() -> None:
    document = sample("ses_sns_subscription.json")
    document["subscription"]["newTopicPreferences"]["unsubscribeAll"] = False
    assert ses.normalise_document(document, RECEIVED) == []


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d.pop("mail"),
        lambda d: d["mail"].pop("messageId"),
        lambda d: d["bounce"].update(bouncedRecipients=[{"emailAddress": "not-an-address"}]),
        lambda d: d["bounce"].update(timestamp="yesterday"),
    ],
    ids=["no mail", "no message id", "bad recipient", "bad timestamp"],
)
def test_a_malformed_ses_event_is_refused_without_echoing_values(breakage: Any) -> None:
    # Given a broken SES document
    document = copy.deepcopy(sample("ses_sns_bounce.json"))
    breakage(document)

    # When normalised / Then it is refused, naming fields only
    with pytest.raises(ses.NotSesEvent) as refused:
        ses.normalise_document(document, RECEIVED)
    assert "recipient@example.com" not in str(refused.value)
    assert "not-an-address" not in str(refused.value)


def test_an_sns_message_nested_past_the_parser_guard_is_refused_not_raised() -> None:
    # Given an SNS envelope whose Message nests arrays deeper than the JSON parser's recursion guard
    document = {"Type": "Notification", "Message": "[" * 200_000 + "]" * 200_000}

    # When normalised / Then it is refused as not an SES event (no RecursionError escapes to the batch)
    with pytest.raises(ses.NotSesEvent):
        ses.normalise_document(document, RECEIVED)


def test_only_ses_shapes_are_recognised() -> None:
    assert ses.is_ses_document(sample("ses_eventbridge_click.json"))
    assert ses.is_ses_document(sample("ses_sns_open.json"))
    assert ses.is_ses_document({"Type": "Notification", "Message": "{}"})
    assert not ses.is_ses_document({"event_id": "e", "source": "forms"})
    assert not ses.is_ses_document([1, 2])
