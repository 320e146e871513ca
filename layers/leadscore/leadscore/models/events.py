"""LeadEvent: the one shape every source (forms, email providers) is normalised to."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, model_validator

from leadscore.models.outcomes import OUTCOME_TYPES, check_outcome_properties

Scalar = str | int | float | bool | None


class EventType(StrEnum):
    FORM_SUBMITTED = "form_submitted"
    PAGE_VIEWED = "page_viewed"
    EMAIL_DELIVERED = "email_delivered"
    EMAIL_OPENED = "email_opened"
    EMAIL_CLICKED = "email_clicked"
    EMAIL_BOUNCED = "email_bounced"
    EMAIL_COMPLAINED = "email_complained"
    EMAIL_UNSUBSCRIBED = "email_unsubscribed"
    # Outcome events: what sales learned about the lead (CRM import, API). Scored like any other event.
    SALES_ACCEPTED = "sales_accepted"
    SALES_REJECTED = "sales_rejected"
    DEAL_WON = "deal_won"
    DEAL_LOST = "deal_lost"


def normalise_email(email: str) -> str:
    """Lower-cased, trimmed address: the one form lead ids are derived from."""
    return email.strip().lower()


MAX_LOCAL_PART = 64  # RFC 5321 4.5.3.1.1, in octets
MAX_ADDRESS = 254  # RFC 5321 4.5.3.1.3 (a 256-octet path less its angle brackets)


def check_email_lengths(email: str) -> str:
    """The lengths mail servers enforce: a longer address can never receive mail, so it is no lead."""
    local = email.rpartition("@")[0]
    if len(local.encode()) > MAX_LOCAL_PART:
        raise ValueError(f"the part before the @ is longer than {MAX_LOCAL_PART} characters")
    if len(email.encode()) > MAX_ADDRESS:
        raise ValueError(f"the address is longer than {MAX_ADDRESS} characters")
    return email


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


NormalisedEmail = Annotated[EmailStr, AfterValidator(normalise_email), AfterValidator(check_email_lengths)]
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]


class LeadEvent(BaseModel):
    """Something a lead told us (`attributes`) or did (`properties`), from one source."""

    # Built at first use, not at import: building it imports email-validator, whose regexes cost ~15 ms to
    # compile, and a cold start that never parses an event (the decay job) need not pay for that.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    event_id: str = Field(min_length=1, max_length=256, description="The provider's own id (idempotency).")
    source: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    type: EventType
    occurred_at: UtcDatetime
    received_at: UtcDatetime
    email: NormalisedEmail
    attributes: dict[str, Scalar] = Field(default_factory=dict)
    properties: dict[str, Scalar] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _outcome_properties(self) -> LeadEvent:
        if self.type.value in OUTCOME_TYPES:
            check_outcome_properties(self.type.value, self.properties)
        return self

    @property
    def email_domain(self) -> str:
        return self.email.rpartition("@")[2]
