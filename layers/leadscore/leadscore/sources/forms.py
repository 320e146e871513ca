"""The generic signed JSON form webhook (`POST /webhooks/forms`), for sites that post their own forms.

Signature: `X-Leadscore-Signature: v1=<hex HMAC-SHA256(key, "<timestamp>." + raw body)>` with
`X-Leadscore-Timestamp: <unix seconds>`; several `v1=` values may be comma-separated.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, HttpUrl, ValidationError

from leadscore.errors import WebhookRejected
from leadscore.models.events import EventType, LeadEvent, NormalisedEmail, Scalar
from leadscore.sources.base import KIB, NormaliseContext, VerifyContext, WebhookRequest, WebhookSource
from leadscore.sources.payloads import parse_json, validation_details
from leadscore.sources.signing import check_timestamp, hmac_sha256_hex, matches_any
from leadscore.sources.values import amount, company_size
from leadscore.sources.web import with_visitor_id

SIGNATURE_HEADER = "x-leadscore-signature"
TIMESTAMP_HEADER = "x-leadscore-timestamp"
SCHEME = "v1"

Text = Annotated[str, Field(min_length=1, max_length=256)]
ExtraValue = Annotated[str, Field(max_length=1024)] | int | float | bool | None


def _company_size(value: object) -> object:
    size = company_size(value) if value is not None else None
    if value is not None and size is None:
        raise ValueError("expected a head count (250) or a size band such as '51-200' or '5000+'")
    return size


def _amount(value: object) -> object:
    number = amount(value) if value is not None else None
    if value is not None and number is None:
        raise ValueError("expected a non-negative amount such as 250000")
    return number


# The one reading of sizes and amounts every route shares (leadscore.sources.values): numeric text and
# size bands are accepted on purpose, booleans, NaN/Infinity and fractions of people are refused.
CompanySize = Annotated[int | str | None, BeforeValidator(_company_size)]
AnnualRevenue = Annotated[int | float | None, BeforeValidator(_amount)]


class FormSubmission(BaseModel):
    """One form submission. Only `submission_id`, `form_id` and `email` are required."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    submission_id: Annotated[str, Field(min_length=1, max_length=128)]
    form_id: Annotated[str, Field(min_length=1, max_length=128)]
    email: NormalisedEmail
    submitted_at: AwareDatetime | None = None
    page_url: HttpUrl | None = None
    first_name: Text | None = None
    last_name: Text | None = None
    company: Text | None = None
    job_title: Text | None = None
    company_size: CompanySize = None
    industry: Text | None = None
    country: Annotated[str, Field(min_length=2, max_length=64)] | None = None
    annual_revenue: AnnualRevenue = None
    phone: Annotated[str, Field(max_length=64)] | None = None
    ls_visitor_id: Annotated[str, Field(max_length=64)] | None = None  # the snippet's hidden form field
    fields: Annotated[dict[Annotated[str, Field(max_length=64)], ExtraValue], Field(max_length=50)] = Field(
        default_factory=dict, description="Anything else the form asked; kept as event properties."
    )


_ATTRIBUTES = (
    "first_name",
    "last_name",
    "company",
    "job_title",
    "company_size",
    "industry",
    "country",
    "annual_revenue",
    "phone",
)


def verify(request: WebhookRequest, context: VerifyContext) -> None:
    header = request.header(SIGNATURE_HEADER)
    if not header:
        raise WebhookRejected(401, "missing_signature", f"The {SIGNATURE_HEADER} header is missing.")
    stamp = check_timestamp(request.header(TIMESTAMP_HEADER), context.now, context.tolerance_seconds)
    presented = [
        value.strip().removeprefix(f"{SCHEME}=")
        for value in header.split(",")
        if value.strip().startswith(f"{SCHEME}=")
    ]
    if not presented:
        raise WebhookRejected(401, "invalid_signature", f"No '{SCHEME}=' signature in {SIGNATURE_HEADER}.")
    signed = f"{stamp}.".encode() + request.body
    expected = [hmac_sha256_hex(key, signed) for key in context.keys]
    if not matches_any(expected, presented):
        raise WebhookRejected(401, "invalid_signature", "The signature does not match the body.")


def normalise(body: bytes, context: NormaliseContext) -> list[LeadEvent]:
    received_at = context.received_at
    document = parse_json(body)
    if not isinstance(document, dict):
        raise WebhookRejected(
            422,
            "invalid_submission",
            "The body must be a JSON object.",
            [{"field": "(body)", "problem": f"expected an object, got {type(document).__name__}"}],
        )
    try:
        submission = FormSubmission.model_validate(document)
    except ValidationError as exc:
        fields = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
        code = "invalid_email" if "email" in fields else "invalid_submission"
        raise WebhookRejected(422, code, "The form submission is invalid.", validation_details(exc)) from None
    attributes: dict[str, Scalar] = {
        name: getattr(submission, name) for name in _ATTRIBUTES if getattr(submission, name) is not None
    }
    properties = with_visitor_id({**submission.fields, "form_id": submission.form_id}, submission.ls_visitor_id)
    if submission.page_url is not None:
        properties["page_url"] = str(submission.page_url)
    return [
        LeadEvent(
            event_id=submission.submission_id,
            source=SOURCE.name,
            type=EventType.FORM_SUBMITTED,
            occurred_at=submission.submitted_at or received_at,
            received_at=received_at,
            email=submission.email,
            attributes=attributes,
            properties=properties,
        )
    ]


SOURCE = WebhookSource(
    name="forms",
    secret_setting="forms_webhook_secret_id",  # noqa: S106 - the name of a setting, not a secret
    verify=verify,
    normalise=normalise,
    content_types=("application/json",),
    # Our own contract: at most ~60,000 characters of fields, up to 6x that as escaped non-ASCII.
    max_body_bytes=512 * KIB,
    signed_timestamp=True,  # a request is valid only within the signature's time window
)
