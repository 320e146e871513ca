"""Tally webhooks (`POST /webhooks/tally`), one `FORM_RESPONSE` per request.

Signature: `Tally-Signature: <base64 HMAC-SHA256(signing secret, raw body)>`. No timestamp is signed: a
replay carries the same response id: recorded, and answered as a duplicate (200, nothing queued).
https://tally.so/help/webhooks
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from leadscore.errors import WebhookRejected
from leadscore.models.events import LeadEvent, Scalar
from leadscore.sources.base import MIB, NormaliseContext, VerifyContext, WebhookRequest, WebhookSource
from leadscore.sources.field_map import Answer, field_map_from, form_event, map_answers
from leadscore.sources.payloads import parse_payload
from leadscore.sources.signing import hmac_sha256_base64, matches_any

SIGNATURE_HEADER = "tally-signature"


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class TallyField(_Lenient):
    key: str
    label: str | None = None
    type: str = ""
    value: Any = None
    options: list[dict[str, Any]] = Field(default_factory=list)


class TallyData(_Lenient):
    response_id: str = Field(alias="responseId", min_length=1, max_length=128)
    form_id: str = Field(alias="formId", min_length=1, max_length=128)
    form_name: str | None = Field(None, alias="formName")
    created_at: AwareDatetime = Field(alias="createdAt")
    fields: list[TallyField] = Field(default_factory=list, max_length=200)


class TallyWebhook(_Lenient):
    event_id: str = Field(alias="eventId", min_length=1, max_length=128)
    event_type: str = Field(alias="eventType")
    data: TallyData


def verify(request: WebhookRequest, context: VerifyContext) -> None:
    header = request.header(SIGNATURE_HEADER)
    if not header:
        raise WebhookRejected(401, "missing_signature", "The Tally-Signature header is missing.")
    expected = [hmac_sha256_base64(key, request.body) for key in context.keys]
    if not matches_any(expected, [header.strip()]):
        raise WebhookRejected(401, "invalid_signature", "The signature does not match the body.")


def _value(field: TallyField) -> Scalar | list[Scalar]:
    """Choice fields carry option ids: answer with the options' texts."""
    texts = {str(option.get("id")): str(option.get("text", "")) for option in field.options}
    value = field.value
    if isinstance(value, list):
        return [texts.get(str(item), str(item)) if not isinstance(item, dict) else str(item) for item in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return texts.get(value, value) if isinstance(value, str) else value
    return str(value)


def normalise(body: bytes, context: NormaliseContext) -> list[LeadEvent]:
    webhook = parse_payload(body, TallyWebhook, "a Tally webhook")
    if webhook.event_type != "FORM_RESPONSE":
        return []
    data = webhook.data
    answers = [Answer((field.label or "", field.key), _value(field)) for field in data.fields]
    field_map = field_map_from(context.config)
    # Map by Tally's form id or, more readable in the YAML, by the form's name.
    form_id = field_map.form_ids.get(data.form_id) or field_map.form_ids.get(data.form_name or "") or data.form_id
    return [
        form_event(
            SOURCE.name,
            map_answers(answers, field_map),
            event_id=data.response_id,
            form_id=form_id,
            occurred_at=data.created_at,
            received_at=context.received_at,
        )
    ]


SOURCE = WebhookSource(
    name="tally",
    secret_setting="tally_webhook_secret_id",  # noqa: S106 - the name of a setting, not a secret
    verify=verify,
    normalise=normalise,
    # One response per POST, no documented maximum: every field with its options and value.
    max_body_bytes=1 * MIB,
)
