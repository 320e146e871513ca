"""Typeform webhooks (`POST /webhooks/typeform`), one `form_response` per request.

Signature: `Typeform-Signature: sha256=<base64 HMAC-SHA256(secret, raw body)>`; the secret is the one you
set on the webhook. No timestamp is signed: a replay carries the same response token, so the ingest service
records the delivery and answers a replay as a duplicate (200, nothing queued). https://www.typeform.com/developers/webhooks/secure-your-webhooks/
Payload: https://www.typeform.com/developers/webhooks/example-payload/
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

SIGNATURE_HEADER = "typeform-signature"


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class FieldRef(_Lenient):
    id: str
    ref: str | None = None
    type: str | None = None


class Definition(_Lenient):
    fields: list[dict[str, Any]] = Field(default_factory=list)


class TypeformAnswer(_Lenient):
    model_config = ConfigDict(extra="allow", frozen=True)

    type: str
    field: FieldRef


class FormResponse(_Lenient):
    form_id: str = Field(min_length=1, max_length=128)
    token: str = Field(min_length=1, max_length=128)
    submitted_at: AwareDatetime
    definition: Definition = Definition()
    answers: list[TypeformAnswer] = Field(default_factory=list, max_length=200)
    hidden: dict[str, Scalar] = Field(default_factory=dict)


class TypeformWebhook(_Lenient):
    event_id: str = Field(min_length=1, max_length=128)
    event_type: str
    form_response: FormResponse


def verify(request: WebhookRequest, context: VerifyContext) -> None:
    header = request.header(SIGNATURE_HEADER)
    if not header:
        raise WebhookRejected(401, "missing_signature", "The Typeform-Signature header is missing.")
    if not header.startswith("sha256="):
        raise WebhookRejected(401, "invalid_signature", "Typeform-Signature must start with 'sha256='.")
    expected = [hmac_sha256_base64(key, request.body) for key in context.keys]
    if not matches_any(expected, [header.removeprefix("sha256=")]):
        raise WebhookRejected(401, "invalid_signature", "The signature does not match the body.")


def _value(answer: TypeformAnswer) -> Scalar | list[Scalar]:
    """The answer's value, whatever its type ('text', 'email', 'choice', 'choices', 'number', ...)."""
    raw = (answer.model_extra or {}).get(answer.type)
    if isinstance(raw, dict):  # choice: {"label": ...}; choices: {"labels": [...]}; payment: {...}
        if "labels" in raw:
            return [str(label) for label in raw.get("labels") or []] + ([raw["other"]] if raw.get("other") else [])
        return str(raw.get("label") or raw.get("other") or "") or None
    if isinstance(raw, str | int | float | bool) or raw is None:
        return raw
    return str(raw)


def normalise(body: bytes, context: NormaliseContext) -> list[LeadEvent]:
    webhook = parse_payload(body, TypeformWebhook, "a Typeform webhook")
    if webhook.event_type != "form_response":
        return []
    response = webhook.form_response
    titles = {str(field.get("id")): str(field.get("title", "")) for field in response.definition.fields}
    answers = [
        Answer((answer.field.ref or "", titles.get(answer.field.id, ""), answer.field.id), _value(answer))
        for answer in response.answers
    ]
    answers += [Answer((name,), value) for name, value in response.hidden.items()]  # e.g. utm_source
    field_map = field_map_from(context.config)
    return [
        form_event(
            SOURCE.name,
            map_answers(answers, field_map),
            event_id=response.token,  # one per response: Typeform's retries and replays carry the same token
            form_id=field_map.form_id(response.form_id),
            occurred_at=response.submitted_at,
            received_at=context.received_at,
        )
    ]


SOURCE = WebhookSource(
    name="typeform",
    secret_setting="typeform_webhook_secret_id",  # noqa: S106 - the name of a setting, not a secret
    verify=verify,
    normalise=normalise,
    # One response per POST, no documented maximum: the form definition plus every answer.
    max_body_bytes=1 * MIB,
)
