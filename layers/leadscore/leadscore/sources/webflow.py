"""Webflow form submissions (`POST /webhooks/webflow`, trigger `form_submission`).

Signature: `x-webflow-signature: <hex HMAC-SHA256(secret, "<x-webflow-timestamp>:<raw body>")>`, the
timestamp in milliseconds and within the replay window (300 s). Replays inside the window carry the same
submission id, which the scorer counts once.
https://developers.webflow.com/data/docs/working-with-webhooks#validating-request-signatures
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from leadscore.errors import WebhookRejected
from leadscore.models.events import LeadEvent
from leadscore.sources.base import KIB, NormaliseContext, VerifyContext, WebhookRequest, WebhookSource
from leadscore.sources.field_map import Answer, field_map_from, form_event, map_answers
from leadscore.sources.payloads import parse_payload
from leadscore.sources.signing import check_timestamp, hmac_sha256_hex, matches_any

SIGNATURE_HEADER = "x-webflow-signature"
TIMESTAMP_HEADER = "x-webflow-timestamp"


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Submission(_Lenient):
    id: str = Field(min_length=1, max_length=128)
    name: str = ""
    form_id: str | None = Field(None, alias="formId")
    submitted_at: AwareDatetime = Field(alias="submittedAt")
    data: dict[str, Any] = Field(default_factory=dict, max_length=200)
    page_url: str | None = Field(None, alias="pageUrl")


class WebflowWebhook(_Lenient):
    trigger_type: str = Field(alias="triggerType")
    payload: Submission


def verify(request: WebhookRequest, context: VerifyContext) -> None:
    header = request.header(SIGNATURE_HEADER)
    if not header:
        raise WebhookRejected(401, "missing_signature", "The x-webflow-signature header is missing.")
    millis = check_timestamp(request.header(TIMESTAMP_HEADER), context.now, context.tolerance_seconds, per_second=1000)
    signed = f"{millis}:".encode() + request.body
    expected = [hmac_sha256_hex(key, signed) for key in context.keys]
    if not matches_any(expected, [header.strip().lower()]):
        raise WebhookRejected(401, "invalid_signature", "The signature does not match the body.")


def normalise(body: bytes, context: NormaliseContext) -> list[LeadEvent]:
    webhook = parse_payload(body, WebflowWebhook, "a Webflow webhook")
    if webhook.trigger_type != "form_submission":
        return []
    submission = webhook.payload
    answers = [
        Answer((name,), value if isinstance(value, str | int | float | bool) or value is None else str(value))
        for name, value in submission.data.items()
    ]
    field_map = field_map_from(context.config)
    # Map by Webflow's form id or by the form's name (what the designer typed in Webflow).
    form_id = (
        field_map.form_ids.get(submission.form_id or "") or field_map.form_ids.get(submission.name) or submission.name
    )
    event = form_event(
        SOURCE.name,
        map_answers(answers, field_map),
        event_id=submission.id,
        form_id=form_id or (submission.form_id or "webflow-form"),
        occurred_at=submission.submitted_at,
        received_at=context.received_at,
    )
    if submission.page_url:
        event = event.model_copy(update={"properties": {**event.properties, "page_url": submission.page_url}})
    return [event]


SOURCE = WebhookSource(
    name="webflow",
    secret_setting="webflow_webhook_secret_id",  # noqa: S106 - the name of a setting, not a secret
    verify=verify,
    normalise=normalise,
    # One submission per POST, no documented maximum: the form fields and their values.
    max_body_bytes=512 * KIB,
    signed_timestamp=True,  # a request is valid only within the signature's time window
)
