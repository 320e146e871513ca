"""Amazon SES event publishing: configuration-set events arriving on the lead-events queue as they are.

SES has no webhook: a configuration set's event destination sends each event to EventBridge (the default
bus; our rule forwards `source: aws.ses` to the queue) or to an SNS topic (subscribed to the queue, raw or
enveloped). IAM is the authentication: the queue policy admits only that rule and that topic. The scorer
recognises these documents on the queue and normalises them here.

Shapes: https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html and
https://docs.aws.amazon.com/ses/latest/dg/monitoring-eventbridge.html
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, NamedTuple

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from leadscore.models.events import EventType, LeadEvent, Scalar
from leadscore.sources.automation import click_automation, open_automation

SOURCE_NAME = "ses"
SCANNER_CLICK_SECONDS = 10.0


class NotSesEvent(ValueError):
    """The document is not an SES event we understand (the record goes to the DLQ after its retries)."""


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Mail(_Lenient):
    message_id: str = Field(alias="messageId", min_length=1, max_length=200)
    timestamp: AwareDatetime
    destination: list[str] = Field(default_factory=list)
    tags: dict[str, list[str]] = Field(default_factory=dict)


class Recipient(_Lenient):
    email_address: str = Field(alias="emailAddress")


class Bounce(_Lenient):
    bounce_type: str = Field(alias="bounceType")
    bounced_recipients: list[Recipient] = Field(alias="bouncedRecipients", min_length=1)
    timestamp: AwareDatetime


class Complaint(_Lenient):
    complained_recipients: list[Recipient] = Field(alias="complainedRecipients", min_length=1)
    timestamp: AwareDatetime


class Delivery(_Lenient):
    recipients: list[str] = Field(min_length=1)
    timestamp: AwareDatetime


class Open(_Lenient):
    timestamp: AwareDatetime
    user_agent: str | None = Field(None, alias="userAgent")


class Click(_Lenient):
    timestamp: AwareDatetime
    link: Annotated[str, Field(max_length=2048)]
    user_agent: str | None = Field(None, alias="userAgent")


class Subscription(_Lenient):
    timestamp: AwareDatetime
    new_topic_preferences: dict[str, Any] = Field(default_factory=dict, alias="newTopicPreferences")


class SesEvent(_Lenient):
    event_type: str = Field(alias="eventType")
    mail: Mail
    bounce: Bounce | None = None
    complaint: Complaint | None = None
    delivery: Delivery | None = None
    open: Open | None = None
    click: Click | None = None
    subscription: Subscription | None = None


def is_ses_document(document: Any) -> bool:
    """True for an SES event in any of the shapes the queue receives (EventBridge, SNS raw or enveloped)."""
    if not isinstance(document, dict):
        return False
    if document.get("source") == "aws.ses" and "detail" in document:
        return True
    if document.get("Type") == "Notification" and "Message" in document:
        return True
    return "eventType" in document and "mail" in document


def _unwrap(document: dict[str, Any]) -> Any:
    if document.get("source") == "aws.ses":
        return document.get("detail")
    if document.get("Type") == "Notification":
        try:
            return json.loads(document["Message"])
        except (TypeError, ValueError, RecursionError):  # RecursionError: '[[[[…' past the C parser's guard
            raise NotSesEvent("the SNS Message is not JSON") from None
    return document


def _campaign(mail: Mail) -> dict[str, Scalar]:
    # Tags the sender set (e.g. "campaign"); SES's own tags start with "ses:" and say nothing about intent.
    values = mail.tags.get("campaign")
    return {"campaign": values[0][:256]} if values else {}


def normalise_document(document: dict[str, Any], received_at: datetime) -> list[LeadEvent]:
    """The LeadEvents in one SES event (one per recipient it concerns; none for types we ignore).

    Raises:
        NotSesEvent: the document is not a well-formed SES event (field names only in the message).
    """
    try:
        event = SesEvent.model_validate(_unwrap(document))
    except ValidationError as exc:
        fields = sorted({".".join(map(str, error["loc"])) for error in exc.errors()})
        raise NotSesEvent(f"not an SES event (fields: {', '.join(fields)})") from None
    found = _classify(event)
    return _lead_events(event, found, received_at) if found is not None else []


class _Found(NamedTuple):
    kind: EventType
    recipients: list[str]
    occurred_at: datetime
    properties: dict[str, Scalar]


def _attributable(event: SesEvent) -> list[str]:
    # Opens, clicks and unsubscribes are tracked per message: with several recipients we cannot tell who.
    return event.mail.destination if len(event.mail.destination) == 1 else []


def _classify(event: SesEvent) -> _Found | None:  # noqa: PLR0911 - one return per SES event type
    base: dict[str, Scalar] = {"message_id": event.mail.message_id, **_campaign(event.mail)}
    match event.event_type:
        case "Delivery" if event.delivery:
            return _Found(EventType.EMAIL_DELIVERED, event.delivery.recipients, event.delivery.timestamp, base)
        case "Open" if event.open:
            flag = open_automation(flagged=False, user_agent=event.open.user_agent)
            properties = {**base, **({"automated": flag} if flag else {})}
            return _Found(EventType.EMAIL_OPENED, _attributable(event), event.open.timestamp, properties)
        case "Click" if event.click:
            click = event.click
            flag = click_automation(
                flagged=False,
                user_agent=click.user_agent,
                seconds_after_send=(click.timestamp - event.mail.timestamp).total_seconds(),
                scanner_seconds=SCANNER_CLICK_SECONDS,
            )
            properties = {**base, "link_url": click.link, **({"automated": flag} if flag else {})}
            return _Found(EventType.EMAIL_CLICKED, _attributable(event), click.timestamp, properties)
        case "Bounce" if event.bounce:
            bounce = event.bounce
            # Permanent: the address does not exist (hard). Transient and Undetermined may yet deliver (soft).
            kind = "hard" if bounce.bounce_type == "Permanent" else "soft"
            recipients = [recipient.email_address for recipient in bounce.bounced_recipients]
            return _Found(EventType.EMAIL_BOUNCED, recipients, bounce.timestamp, {**base, "bounce_type": kind})
        case "Complaint" if event.complaint:
            recipients = [recipient.email_address for recipient in event.complaint.complained_recipients]
            return _Found(EventType.EMAIL_COMPLAINED, recipients, event.complaint.timestamp, base)
        case "Subscription" if event.subscription:
            if event.subscription.new_topic_preferences.get("unsubscribeAll") is not True:
                return None  # a change of topic preferences, not an unsubscribe
            return _Found(EventType.EMAIL_UNSUBSCRIBED, _attributable(event), event.subscription.timestamp, base)
        case _:
            return None  # Send, Reject, DeliveryDelay, Rendering Failure: nothing the lead did


def _lead_events(event: SesEvent, found: _Found, received_at: datetime) -> list[LeadEvent]:
    # The id SES gives the message, the event type and its time: stable across SNS/EventBridge redelivery.
    event_id = f"{event.mail.message_id}:{event.event_type}:{found.occurred_at.isoformat()}"
    many = len(found.recipients) > 1
    events: list[LeadEvent] = []
    for index, address in enumerate(found.recipients):
        try:
            events.append(
                LeadEvent(
                    event_id=f"{event_id}:{index}" if many else event_id,
                    source=SOURCE_NAME,
                    type=found.kind,
                    occurred_at=found.occurred_at,
                    received_at=received_at,
                    email=address,
                    properties=found.properties,
                )
            )
        except ValidationError:
            raise NotSesEvent(f"not an SES event (fields: recipient {index} is not an email address)") from None
    return events
