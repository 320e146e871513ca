"""Mailgun webhooks (`POST /webhooks/mailgun`, JSON): `{"signature": {...}, "event-data": {...}}`.

Signature: hex HMAC-SHA256(HTTP webhook signing key, timestamp + token), timestamp within the replay window.
The signature does not cover `event-data`, so a captured (timestamp, token, signature) could carry another
body: each token is accepted once (`replay_key`), whatever the body. https://documentation.mailgun.com/docs/mailgun/user-manual/tracking-messages/#securing-webhooks
Events: https://documentation.mailgun.com/docs/mailgun/user-manual/events/
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from leadscore.errors import WebhookRejected
from leadscore.models.events import EventType, LeadEvent, Scalar
from leadscore.sources.automation import click_automation, open_automation
from leadscore.sources.base import KIB, NormaliseContext, VerifyContext, WebhookRequest, WebhookSource
from leadscore.sources.payloads import StrictNumber, parse_json, parse_payload
from leadscore.sources.signing import check_timestamp, hmac_sha256_hex, matches_any

_TYPES = {
    "delivered": EventType.EMAIL_DELIVERED,
    "opened": EventType.EMAIL_OPENED,
    "clicked": EventType.EMAIL_CLICKED,
    "failed": EventType.EMAIL_BOUNCED,
    "complained": EventType.EMAIL_COMPLAINED,
    "unsubscribed": EventType.EMAIL_UNSUBSCRIBED,
}  # accepted, rejected, stored: nothing the lead did


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Signature(_Lenient):
    timestamp: Annotated[str, Field(min_length=1, max_length=20)]
    token: Annotated[str, Field(min_length=16, max_length=256)]
    signature: Annotated[str, Field(min_length=1, max_length=128)]


class ClientInfo(_Lenient):
    user_agent: str | None = Field(None, alias="user-agent")
    bot: str | None = None  # Mailgun names the bot it recognised (e.g. Apple's privacy proxy)


class EventData(_Lenient):
    id: Annotated[str, Field(min_length=1, max_length=256)]
    event: str
    timestamp: Annotated[StrictNumber, Field(ge=0, le=4_102_444_800)]  # seconds, up to the year 2100
    recipient: Annotated[str, Field(min_length=3, max_length=320)]
    severity: str | None = None  # failed: "permanent" (hard) or "temporary" (soft)
    url: str | None = None
    client_info: ClientInfo = Field(default_factory=ClientInfo, alias="client-info")
    message: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    campaigns: list[dict[str, Any]] = Field(default_factory=list)


class MailgunWebhook(_Lenient):
    signature: Signature
    event_data: EventData = Field(alias="event-data")


def _signature_of(body: bytes) -> Signature:
    document = parse_json(body)  # the one depth- and key-checked parser (a 400 for a malformed body)
    try:
        return Signature.model_validate(document["signature"])
    except (ValueError, KeyError, TypeError, ValidationError):
        raise WebhookRejected(401, "missing_signature", "The body has no valid 'signature' object.") from None


def verify(request: WebhookRequest, context: VerifyContext) -> None:
    signature = _signature_of(request.body)
    check_timestamp(signature.timestamp, context.now, context.tolerance_seconds)
    signed = (signature.timestamp + signature.token).encode()
    expected = [hmac_sha256_hex(key, signed) for key in context.keys]
    if not matches_any(expected, [signature.signature.lower()]):
        raise WebhookRejected(401, "invalid_signature", "The signature does not match the timestamp and token.")


def replay_key(request: WebhookRequest) -> str | None:
    return "token:" + _signature_of(request.body).token


def _properties(data: EventData) -> dict[str, Scalar]:
    properties: dict[str, Scalar] = {}
    message_id = (data.message.get("headers") or {}).get("message-id")
    if isinstance(message_id, str):
        properties["message_id"] = message_id[:256]
    campaign = data.tags[0] if data.tags else (data.campaigns[0].get("name") if data.campaigns else None)
    if isinstance(campaign, str) and campaign:
        properties["campaign"] = campaign[:256]
    flag: str | None = None
    if data.event == "opened":
        flag = open_automation(flagged=bool(data.client_info.bot), user_agent=data.client_info.user_agent)
    elif data.event == "clicked":
        properties["link_url"] = (data.url or "")[:2048]
        flag = click_automation(
            flagged=bool(data.client_info.bot), user_agent=data.client_info.user_agent, seconds_after_send=None
        )
    elif data.event == "failed":
        properties["bounce_type"] = "hard" if data.severity == "permanent" else "soft"
    if flag:
        properties["automated"] = flag
    return properties


def normalise(body: bytes, context: NormaliseContext) -> list[LeadEvent]:
    webhook = parse_payload(body, MailgunWebhook, "a Mailgun webhook")
    data = webhook.event_data
    kind = _TYPES.get(data.event)
    if kind is None:
        return []
    try:
        occurred_at = datetime.fromtimestamp(data.timestamp, UTC)
        return [
            LeadEvent(
                event_id=data.id,
                source=SOURCE.name,
                type=kind,
                occurred_at=occurred_at,
                received_at=context.received_at,
                email=data.recipient,
                properties=_properties(data),
            )
        ]
    except (ValidationError, ValueError, OverflowError, OSError):
        raise WebhookRejected(
            422,
            "invalid_payload",
            "The event has an invalid recipient or timestamp.",
            [{"field": "event-data.recipient/timestamp", "problem": "invalid value"}],
        ) from None


SOURCE = WebhookSource(
    name="mailgun",
    secret_setting="mailgun_webhook_secret_id",  # noqa: S106 - the name of a setting, not a secret
    verify=verify,
    normalise=normalise,
    replay_key=replay_key,
    # One event per POST; Mailgun documents no maximum: event-data, headers, user-variables (KBs).
    max_body_bytes=256 * KIB,
    signed_timestamp=True,  # a request is valid only within the signature's time window
)
