"""Form answers → lead attributes, by configuration (`scoring/sources/<provider>.yaml`), not by code.

A form tool names each answer in its own ways (Typeform: a field `ref`, an id and the question's title;
Tally: a key and a label; Webflow: the field name; HubSpot: the property name). A `FieldMap` lists, per
lead attribute, the names to look for, compared after normalising (lower case, runs of anything but
letters and digits as one '_'): "Job title", "job-title" and "JOB_TITLE" are the same name. Answers no
attribute claims are kept as event properties, so engagement rules can still use them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from leadscore.errors import WebhookRejected
from leadscore.models.events import EventType, LeadEvent, Scalar
from leadscore.sources.config import parse_config
from leadscore.sources.values import RefusedValue, amount, company_size
from leadscore.sources.web import with_visitor_id

Attribute = Literal[
    "first_name", "last_name", "company", "job_title", "company_size", "industry", "country", "annual_revenue", "phone"
]
MAX_PROPERTIES = 50
MAX_TEXT = 1024
MAX_ATTRIBUTE_TEXT = 256

DEFAULT_EMAIL = ["email", "email_address", "work_email", "business_email", "e_mail"]
DEFAULT_ATTRIBUTES: dict[str, list[str]] = {
    "first_name": ["first_name", "firstname", "given_name"],
    "last_name": ["last_name", "lastname", "surname", "family_name"],
    "company": ["company", "company_name", "organisation", "organization"],
    "job_title": ["job_title", "jobtitle", "title", "role", "position"],
    "company_size": ["company_size", "employees", "number_of_employees", "numemployees", "team_size"],
    "industry": ["industry"],
    "country": ["country"],
    "annual_revenue": ["annual_revenue", "annualrevenue", "revenue"],
    "phone": ["phone", "phone_number", "mobilephone"],
}


def normalise_name(name: str) -> str:
    """'Job title?' → 'job_title'. Names are compared, and properties keyed, in this form."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


class FieldMap(BaseModel):
    """One provider's mapping. Candidates are tried in order; the first answer found wins."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=lambda: list(DEFAULT_EMAIL))
    attributes: dict[Attribute, list[str]] = Field(
        default_factory=dict, description="Merged over the defaults: give only what your forms name differently."
    )
    form_ids: dict[str, Annotated[str, Field(min_length=1, max_length=128)]] = Field(
        default_factory=dict, description="Provider form id (or name) → the form_id your scoring rules use."
    )

    def candidates(self) -> dict[str, tuple[str, ...]]:
        merged: dict[str, list[str]] = dict(DEFAULT_ATTRIBUTES)
        merged.update(self.attributes.items())
        return {name: tuple(normalise_name(c) for c in names) for name, names in merged.items()}

    def form_id(self, provider_form_id: str) -> str:
        return self.form_ids.get(provider_form_id, provider_form_id)


def field_map_from(config: Mapping[str, Any]) -> FieldMap:
    """The FieldMap in a source's configuration (parsed once per distinct configuration)."""
    return parse_config(FieldMap, config)


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer and every name the provider gives its question."""

    names: tuple[str, ...]
    value: Scalar | Sequence[Scalar]


@dataclass(frozen=True, slots=True)
class MappedAnswers:
    email: str | None
    attributes: dict[str, Scalar]
    properties: dict[str, Scalar]


def _scalar(value: Scalar | Sequence[Scalar]) -> Scalar:
    if isinstance(value, str):
        return value.strip()[:MAX_TEXT]
    if isinstance(value, Sequence):
        return ", ".join(str(item) for item in value if item is not None)[:MAX_TEXT]
    return value


def _attribute(name: str, value: Scalar) -> Scalar:
    """The attribute's value, or None to keep the answer as a property (text that says no number).

    Raises RefusedValue (the submission is refused 422) for what no answer can mean: a boolean for a number,
    NaN/Infinity, fractional or negative head counts. Sizes and amounts are read as on the generic route.
    """
    if name == "company_size":
        return None if value is None else company_size(value)
    if name == "annual_revenue":
        return None if value is None else amount(value)
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()[:MAX_ATTRIBUTE_TEXT]
    return text or None


def map_answers(answers: Iterable[Answer], field_map: FieldMap) -> MappedAnswers:
    """Pick the email and the attributes out of `answers`; keep the rest (up to 50) as properties."""
    listed = [(tuple(name for name in map(normalise_name, answer.names) if name), answer) for answer in answers]
    claimed: set[int] = set()

    def find(candidates: Iterable[str]) -> tuple[int, Answer] | None:
        for candidate in candidates:
            for index, (names, answer) in enumerate(listed):
                if candidate in names and index not in claimed and _scalar(answer.value) not in (None, ""):
                    return index, answer
        return None

    email: str | None = None
    found = find(normalise_name(c) for c in field_map.email)
    if found is not None:
        claimed.add(found[0])
        email = str(_scalar(found[1].value))
    attributes: dict[str, Scalar] = {}
    for name, candidates in field_map.candidates().items():
        found = find(candidates)
        if found is None:
            continue
        try:
            value = _attribute(name, _scalar(found[1].value))
        except RefusedValue as refused:
            raise WebhookRejected(
                422, "invalid_submission", "The submission is invalid.", [{"field": name, "problem": str(refused)}]
            ) from None
        if value is not None:  # an unreadable value stays a property rather than failing the submission
            claimed.add(found[0])
            attributes[name] = value
    properties: dict[str, Scalar] = {}
    for index, (names, answer) in enumerate(listed):
        if index in claimed or not names or len(properties) >= MAX_PROPERTIES:
            continue
        key = names[0] if names[0][:1].isalpha() else f"q_{names[0]}"  # property names start with a letter
        properties.setdefault(key[:64].rstrip("_"), _scalar(answer.value))
    return MappedAnswers(email, attributes, properties)


def require_email(mapped: MappedAnswers) -> str:
    """The submission's email, or a 422 naming what was looked for (never the value)."""
    if not mapped.email:
        raise WebhookRejected(
            422,
            "invalid_email",
            "The submission has no email answer; map the question that holds it in the source's field map.",
            [{"field": "email", "problem": "no answer matched the configured email fields"}],
        )
    return mapped.email


def form_event(
    source: str,
    mapped: MappedAnswers,
    *,
    event_id: str,
    form_id: str,
    occurred_at: datetime,
    received_at: datetime,
) -> LeadEvent:
    """The `form_submitted` LeadEvent for a mapped submission; 422 when the email is not an address."""
    try:
        return LeadEvent(
            event_id=event_id,
            source=source,
            type=EventType.FORM_SUBMITTED,
            occurred_at=occurred_at,
            received_at=received_at,
            email=require_email(mapped),
            attributes=mapped.attributes,
            properties=with_visitor_id({**mapped.properties, "form_id": form_id}),  # ls_visitor_id → visitor_id
        )
    except ValidationError as exc:
        fields = sorted({str(error["loc"][0]) for error in exc.errors() if error["loc"]})
        code = "invalid_email" if "email" in fields else "invalid_submission"
        details: list[dict[str, object]] = [{"field": field, "problem": "invalid value"} for field in fields]
        raise WebhookRejected(422, code, "The submission is invalid.", details) from None
