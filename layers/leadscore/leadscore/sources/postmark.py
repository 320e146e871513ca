"""Postmark webhooks (`POST /webhooks/postmark`): one record per request, typed by `RecordType`.

Authentication: HTTP Basic credentials you put in the webhook URL (`https://user:password@…`); the secret
holds "user:password" ("current" and, during a rotation, "previous"), compared in constant time. Postmark
signs nothing and sends no timestamp: a replay carries the same record id, so the ingest service keeps a
delivery record and answers it as a duplicate (200, nothing queued). https://postmarkapp.com/developer/webhooks/webhooks-overview
"""

from __future__ import annotations

import base64
import binascii
import hmac
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from leadscore.errors import WebhookRejected
from leadscore.models.events import EventType, LeadEvent, Scalar
from leadscore.sources.automation import click_automation, open_automation
from leadscore.sources.base import MIB, NormaliseContext, VerifyContext, WebhookRequest, WebhookSource
from leadscore.sources.payloads import StrictFlag, StrictInteger, parse_payload

_HARD_BOUNCES = frozenset({"HardBounce", "BadEmailAddress", "ManuallyDeactivated", "Unsubscribe"})


class PostmarkRecord(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    record_type: str = Field(alias="RecordType")
    message_id: Annotated[str, Field(min_length=1, max_length=128)] = Field(alias="MessageID")
    id: StrictInteger | Annotated[str, Field(min_length=1, max_length=128)] | None = Field(
        None, alias="ID"
    )  # bounces and complaints have their own record id
    recipient: str | None = Field(None, alias="Recipient")
    email: str | None = Field(None, alias="Email")
    received_at: AwareDatetime | None = Field(None, alias="ReceivedAt")
    delivered_at: AwareDatetime | None = Field(None, alias="DeliveredAt")
    bounced_at: AwareDatetime | None = Field(None, alias="BouncedAt")
    changed_at: AwareDatetime | None = Field(None, alias="ChangedAt")
    type: str | None = Field(None, alias="Type")
    user_agent: str | None = Field(None, alias="UserAgent")
    original_link: str | None = Field(None, alias="OriginalLink")
    suppress_sending: StrictFlag | None = Field(None, alias="SuppressSending")
    tag: str | None = Field(None, alias="Tag")
    client: dict[str, Any] = Field(default_factory=dict, alias="Client")


def verify(request: WebhookRequest, context: VerifyContext) -> None:
    header = request.header("authorization") or ""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise WebhookRejected(401, "missing_credentials", "Basic credentials are required (put them in the URL).")
    try:
        presented = base64.b64decode(encoded.strip(), validate=True)
    except (ValueError, binascii.Error):
        raise WebhookRejected(401, "invalid_credentials", "The Basic credentials are not base64.") from None
    matched = False
    for key in context.keys:  # every key compared, in constant time
        matched |= hmac.compare_digest(presented, key)
    if not matched:
        raise WebhookRejected(401, "invalid_credentials", "The credentials do not match.")


def _when(record: PostmarkRecord) -> datetime | None:
    return record.received_at or record.delivered_at or record.bounced_at or record.changed_at


def _classify(record: PostmarkRecord) -> tuple[EventType, dict[str, Scalar]] | None:  # noqa: PLR0911
    properties: dict[str, Scalar] = {"message_id": record.message_id}
    if record.tag:
        properties["campaign"] = record.tag[:256]
    match record.record_type:
        case "Delivery":
            return EventType.EMAIL_DELIVERED, properties
        case "Open":
            # Postmark names Apple's privacy proxy as the client; its user agent is bare otherwise.
            flagged = "privacy" in str(record.client.get("Name", "")).lower()
            flag = open_automation(flagged=flagged, user_agent=record.user_agent)
            return EventType.EMAIL_OPENED, {**properties, **({"automated": flag} if flag else {})}
        case "Click":
            flag = click_automation(flagged=False, user_agent=record.user_agent, seconds_after_send=None)
            link = {"link_url": (record.original_link or "")[:2048]}
            return EventType.EMAIL_CLICKED, {**properties, **link, **({"automated": flag} if flag else {})}
        case "Bounce":
            kind = "hard" if record.type in _HARD_BOUNCES else "soft"
            return EventType.EMAIL_BOUNCED, {**properties, "bounce_type": kind}
        case "SpamComplaint":
            return EventType.EMAIL_COMPLAINED, properties
        case "SubscriptionChange" if record.suppress_sending:
            return EventType.EMAIL_UNSUBSCRIBED, properties
        case _:
            return None  # re-subscriptions, inbound, anything new: nothing the lead did


def normalise(body: bytes, context: NormaliseContext) -> list[LeadEvent]:
    record = parse_payload(body, PostmarkRecord, "a Postmark webhook record")
    found = _classify(record)
    if found is None:
        return []
    kind, properties = found
    occurred_at = _when(record)
    # Bounces and complaints have a record id; opens and clicks do not, and one message can be opened many
    # times: their id is the message id with the record type and Postmark's time of the record.
    event_id = (
        f"{record.record_type}:{record.id}"
        if record.id is not None
        else f"{record.message_id}:{record.record_type}:{occurred_at.isoformat() if occurred_at else ''}"
    )
    try:
        return [
            LeadEvent(
                event_id=event_id,
                source=SOURCE.name,
                type=kind,
                occurred_at=occurred_at or context.received_at,
                received_at=context.received_at,
                email=record.recipient or record.email or "",
                properties=properties,
            )
        ]
    except ValidationError:
        raise WebhookRejected(
            422, "invalid_email", "The record has no valid recipient.", [{"field": "Recipient", "problem": "invalid"}]
        ) from None


SOURCE = WebhookSource(
    name="postmark",
    secret_setting="postmark_webhook_secret_id",  # noqa: S106 - the name of a setting, not a secret
    verify=verify,
    normalise=normalise,
    # One record per POST, no documented maximum; a bounce with IncludeContent carries its dump.
    max_body_bytes=2 * MIB,
)
