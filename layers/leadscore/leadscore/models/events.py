"""LeadEvent: the one shape every source (forms, email providers) is normalised to."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, EmailStr, Field

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


def normalise_email(email: str) -> str:
    """Lower-cased, trimmed address: the one form lead ids are derived from."""
    return email.strip().lower()


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


NormalisedEmail = Annotated[EmailStr, AfterValidator(normalise_email)]
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

    @property
    def email_domain(self) -> str:
        return self.email.rpartition("@")[2]
