"""HubSpot workflow webhooks (`POST /webhooks/hubspot`): a workflow's "Send a webhook" action, POST.

Signature v3: `X-HubSpot-Signature-v3: <base64 HMAC-SHA256(app client secret,
method + uri + body + timestamp)>` with `X-HubSpot-Request-Timestamp` (ms) within 300 s; `uri` is the full
URL HubSpot called, with the URL-encoded characters HubSpot lists decoded.
https://developers.hubspot.com/docs/guides/apps/authentication/validating-requests

Body: the enrolled contact. Either the classic record (`vid`, `properties: {name: {"value": ...}}`) or the
flat property object a customised request body sends (`{"email": ..., "jobtitle": ..., "hs_object_id": ...}`).
A workflow webhook carries no delivery id: the event id is the contact id plus its latest conversion (or
modification) time, so each new submission of the contact is a new event and a replay of one is refused.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from leadscore.errors import WebhookRejected
from leadscore.models.events import LeadEvent, Scalar
from leadscore.sources.base import MIB, NormaliseContext, VerifyContext, WebhookRequest, WebhookSource
from leadscore.sources.field_map import Answer, field_map_from, form_event, map_answers
from leadscore.sources.payloads import parse_json
from leadscore.sources.signing import check_timestamp, hmac_sha256_base64, matches_any

SIGNATURE_HEADER = "x-hubspot-signature-v3"
TIMESTAMP_HEADER = "x-hubspot-request-timestamp"
# HubSpot decodes exactly these before signing the URI.
_DECODED = {
    "%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
    "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";",
}  # fmt: skip
_ID_PROPERTIES = ("hs_object_id", "vid", "canonical-vid", "objectId")
_WHEN_PROPERTIES = ("recent_conversion_date", "lastmodifieddate", "hs_lastmodifieddate")
_FORM_PROPERTIES = ("recent_conversion_event_name", "hs_analytics_source_data_2")


def signed_uri(request: WebhookRequest) -> str:
    uri = f"https://{request.host}{request.path}" + (f"?{request.query}" if request.query else "")
    for encoded, plain in _DECODED.items():
        uri = uri.replace(encoded, plain).replace(encoded.lower(), plain)
    return uri


def verify(request: WebhookRequest, context: VerifyContext) -> None:
    header = request.header(SIGNATURE_HEADER)
    if not header:
        raise WebhookRejected(401, "missing_signature", "The X-HubSpot-Signature-v3 header is missing.")
    millis = check_timestamp(request.header(TIMESTAMP_HEADER), context.now, context.tolerance_seconds, per_second=1000)
    signed = request.method.upper().encode() + signed_uri(request).encode() + request.body + str(millis).encode()
    expected = [hmac_sha256_base64(key, signed) for key in context.keys]
    if not matches_any(expected, [header.strip()]):
        raise WebhookRejected(401, "invalid_signature", "The signature does not match the request.")


def _flatten(document: dict[str, Any]) -> dict[str, Scalar]:
    """Classic records nest values ({"value": ...}); custom bodies are flat. Both end up flat here."""
    properties = document.get("properties")
    source = properties if isinstance(properties, dict) else document
    flat: dict[str, Scalar] = {}
    for name, value in source.items():
        raw = value.get("value") if isinstance(value, dict) else value
        if isinstance(raw, str | int | float | bool):
            flat[str(name)] = raw
    for name in _ID_PROPERTIES:  # the record's own id sits beside `properties` in the classic shape
        if name in document and isinstance(document[name], str | int):
            flat.setdefault(name, document[name])
    return flat


def _first(values: dict[str, Scalar], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = values.get(name)
        if value not in (None, ""):
            return str(value)
    return None


def normalise(body: bytes, context: NormaliseContext) -> list[LeadEvent]:
    document = parse_json(body)
    if not isinstance(document, dict):
        raise WebhookRejected(
            422, "invalid_payload", "Not a HubSpot contact.", [{"field": "(body)", "problem": "expected an object"}]
        )
    values = _flatten(document)
    object_id = _first(values, _ID_PROPERTIES)
    if object_id is None:
        raise WebhookRejected(
            422,
            "invalid_payload",
            "The contact has no id; include hs_object_id in the webhook body.",
            [{"field": "hs_object_id", "problem": "missing"}],
        )
    when_raw = _first(values, _WHEN_PROPERTIES)
    occurred_at = _parse_time(when_raw) or context.received_at
    field_map = field_map_from(context.config)
    form_name = _first(values, _FORM_PROPERTIES) or "hubspot-workflow"
    answers = [
        Answer((name,), value) for name, value in values.items() if name not in _ID_PROPERTIES + _WHEN_PROPERTIES
    ]
    return [
        form_event(
            SOURCE.name,
            map_answers(answers, field_map),
            event_id=f"{object_id}:{int(occurred_at.timestamp() * 1000)}",
            form_id=field_map.form_id(form_name),
            occurred_at=occurred_at,
            received_at=context.received_at,
        )
    ]


def _parse_time(raw: str | None) -> datetime | None:
    """HubSpot dates are epoch milliseconds (classic) or ISO 8601 (newer bodies)."""
    if raw is None:
        return None
    try:
        if raw.isdigit():
            return datetime.fromtimestamp(int(raw) / 1000, UTC)
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


SOURCE = WebhookSource(
    name="hubspot",
    secret_setting="hubspot_webhook_secret_id",  # noqa: S106 - the name of a setting, not a secret
    verify=verify,
    normalise=normalise,
    # Contact workflows send every property with its history; HubSpot never retries a 4xx (413).
    max_body_bytes=2 * MIB,
    signed_timestamp=True,  # a request is valid only within the signature's time window
)
