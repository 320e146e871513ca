"""SendGrid Event Webhook (`POST /webhooks/sendgrid`): a JSON array of events, one LeadEvent each.

Signature: ECDSA P-256 over `<X-Twilio-Email-Event-Webhook-Timestamp>` + raw body, base64 DER in
`X-Twilio-Email-Event-Webhook-Signature`; the verification key (Mail Settings → Event Webhook → Signed
Event Webhook) is a base64 DER public key, stored as the secret's "current" (and "previous" in a rotation).
https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
Events: https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from leadscore.errors import WebhookRejected
from leadscore.models.events import EventType, LeadEvent, Scalar
from leadscore.sources.automation import SCANNER_CLICK_SECONDS, click_automation, open_automation
from leadscore.sources.base import MIB, NormaliseContext, VerifyContext, WebhookRequest, WebhookSource
from leadscore.sources.config import parse_config
from leadscore.sources.payloads import StrictFlag, StrictInteger, parse_json, validation_details
from leadscore.sources.signing import check_timestamp

SIGNATURE_HEADER = "x-twilio-email-event-webhook-signature"
TIMESTAMP_HEADER = "x-twilio-email-event-webhook-timestamp"
MAX_EVENTS = 5000  # a 768 KB batch of small (~200-byte) events; typical events are 300-600 bytes

_TYPES = {
    "delivered": EventType.EMAIL_DELIVERED,
    "open": EventType.EMAIL_OPENED,
    "click": EventType.EMAIL_CLICKED,
    "bounce": EventType.EMAIL_BOUNCED,
    "spamreport": EventType.EMAIL_COMPLAINED,
    "unsubscribe": EventType.EMAIL_UNSUBSCRIBED,
    "group_unsubscribe": EventType.EMAIL_UNSUBSCRIBED,
}  # processed, deferred, dropped, group_resubscribe: nothing the lead did


class SendGridConfig(BaseModel):
    """`scoring/sources/sendgrid.yaml`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scanner_click_seconds: Annotated[float, Field(ge=0, le=3600)] = SCANNER_CLICK_SECONDS


class SendGridEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    email: Annotated[str, Field(min_length=3, max_length=320)]
    timestamp: Annotated[StrictInteger, Field(ge=0, le=4_102_444_800)]
    event: Annotated[str, Field(min_length=1, max_length=64)]
    sg_event_id: Annotated[str, Field(min_length=1, max_length=256)]
    sg_message_id: str | None = None
    url: str | None = None
    useragent: str | None = None
    sg_machine_open: StrictFlag = False
    type: str | None = None  # bounce: "bounce" (permanent) or "blocked" (temporary)
    category: str | list[str] | None = None


# cryptography is imported by the first SendGrid request, not by the handler's import: a cold start that
# serves another source does not pay for it (see README "Performance").
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec


@lru_cache(maxsize=8)
def _public_key(encoded: bytes) -> ec.EllipticCurvePublicKey | None:
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415

    try:
        key = serialization.load_der_public_key(base64.b64decode(encoded, validate=True))
    except (ValueError, binascii.Error, TypeError):
        return None
    return key if isinstance(key, ec.EllipticCurvePublicKey) else None


def _public_keys(keys: list[bytes]) -> list[ec.EllipticCurvePublicKey]:
    parsed = [key for key in map(_public_key, keys) if key is not None]
    if not parsed:
        # The secret still holds the placeholder the stack generated (or something that is not a key): the
        # source is not set up. A 4xx, not a 5xx: the sender cannot fix it and must not be told to retry.
        raise WebhookRejected(
            404,
            "source_not_configured",
            "SendGrid is not set up here: its verification key is not a base64 DER elliptic-curve public key.",
        )
    return parsed


def verify(request: WebhookRequest, context: VerifyContext) -> None:
    from cryptography.exceptions import InvalidSignature  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415

    header = request.header(SIGNATURE_HEADER)
    if not header:
        raise WebhookRejected(401, "missing_signature", f"The {SIGNATURE_HEADER} header is missing.")
    stamp = request.header(TIMESTAMP_HEADER)
    check_timestamp(stamp, context.now, context.tolerance_seconds)
    try:
        signature = base64.b64decode(header.strip(), validate=True)
    except (ValueError, binascii.Error):
        raise WebhookRejected(401, "invalid_signature", "The signature is not base64.") from None
    signed = (stamp or "").strip().encode() + request.body
    for key in _public_keys(context.keys):
        try:
            key.verify(signature, signed, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            continue
        return
    raise WebhookRejected(401, "invalid_signature", "The signature does not match the body.")


def _campaign(event: SendGridEvent) -> dict[str, Scalar]:
    category = event.category[0] if isinstance(event.category, list) and event.category else event.category
    return {"campaign": str(category)[:256]} if isinstance(category, str) and category else {}


def _properties(event: SendGridEvent, delivered_at: dict[str, int], scanner_seconds: float) -> dict[str, Scalar]:
    properties: dict[str, Scalar] = {"message_id": event.sg_message_id or "", **_campaign(event)}
    if not event.sg_message_id:
        properties.pop("message_id")
    flag: str | None = None
    if event.event == "open":
        flag = open_automation(flagged=event.sg_machine_open, user_agent=event.useragent)
    elif event.event == "click":
        properties["link_url"] = (event.url or "")[:2048]
        delivered = delivered_at.get(event.sg_message_id or "")
        flag = click_automation(
            flagged=False,
            user_agent=event.useragent,
            seconds_after_send=None if delivered is None else event.timestamp - delivered,
            scanner_seconds=scanner_seconds,
        )
    elif event.event == "bounce":
        properties["bounce_type"] = "soft" if event.type == "blocked" else "hard"
    if flag:
        properties["automated"] = flag
    return properties


def normalise(body: bytes, context: NormaliseContext) -> list[LeadEvent]:
    document = parse_json(body)
    if not isinstance(document, list) or not 0 < len(document) <= MAX_EVENTS:
        raise WebhookRejected(
            422,
            "invalid_payload",
            f"The body must be a JSON array of 1 to {MAX_EVENTS} SendGrid events.",
            [{"field": "(body)", "problem": "expected a non-empty array of events"}],
        )
    parsed: list[SendGridEvent] = []
    problems: list[dict[str, object]] = []
    for index, item in enumerate(document):
        try:
            parsed.append(SendGridEvent.model_validate(item))
        except ValidationError as exc:
            problems += [{**detail, "field": f"[{index}].{detail['field']}"} for detail in validation_details(exc)]
    if problems:
        raise WebhookRejected(422, "invalid_payload", "Some events are not SendGrid events.", problems[:20])
    # A click seconds after its message was delivered (same batch) is a scanner's, not the reader's.
    delivered_at = {e.sg_message_id: e.timestamp for e in parsed if e.event == "delivered" and e.sg_message_id}
    scanner_seconds = parse_config(SendGridConfig, context.config).scanner_click_seconds
    events: list[LeadEvent] = []
    for index, event in enumerate(parsed):
        kind = _TYPES.get(event.event)
        if kind is None:
            continue
        try:
            events.append(
                LeadEvent(
                    event_id=event.sg_event_id,
                    source=SOURCE.name,
                    type=kind,
                    occurred_at=datetime.fromtimestamp(event.timestamp, UTC),
                    received_at=context.received_at,
                    email=event.email,
                    properties=_properties(event, delivered_at, scanner_seconds),
                )
            )
        except ValidationError:
            problems.append({"field": f"[{index}].email", "problem": "not an email address"})
    if problems:
        raise WebhookRejected(422, "invalid_email", "Some events have no valid recipient address.", problems[:20])
    return events


SOURCE = WebhookSource(
    name="sendgrid",
    secret_setting="sendgrid_webhook_secret_id",  # noqa: S106 - the name of a setting, not a secret
    verify=verify,
    normalise=normalise,
    # SendGrid posts batches of up to 768 KB (and retries a non-2xx for 24 h): 768 KB + a third.
    max_body_bytes=1 * MIB,
    signed_timestamp=True,  # a request is valid only within the signature's time window
)
