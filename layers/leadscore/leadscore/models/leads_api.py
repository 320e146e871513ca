"""The leads API's request and response bodies (pydantic: validated at the edge, and the OpenAPI schemas)."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from leadscore.models.events import EventType
from leadscore.models.outcomes import is_currency

SCOPE_READ = "leads:read"
SCOPE_FEEDBACK = "leads:feedback"
SCOPE_ERASE = "leads:erase"
# A lead id, or an email address (its "@" may arrive percent-encoded: routing matches the raw path).
REF_PATTERN = r"^([a-z2-7]{26}|[^@\s/%]{1,64}(@|%40)[^@\s/]{1,255})$"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WON = "won"
    LOST = "lost"

    @property
    def event_type(self) -> EventType:
        return {
            Outcome.ACCEPTED: EventType.SALES_ACCEPTED,
            Outcome.REJECTED: EventType.SALES_REJECTED,
            Outcome.WON: EventType.DEAL_WON,
            Outcome.LOST: EventType.DEAL_LOST,
        }[self]


RejectReason = Literal["bad_fit", "no_intent", "wrong_contact", "duplicate", "competitor", "other"]


class FeedbackRequest(_Body):
    """What sales says about a lead. `reason` only (and always) with `rejected`; `amount` and `currency`
    (ISO-4217) together, always and only with `won` or `lost`."""

    outcome: Outcome
    reason: RejectReason | None = None
    amount: Annotated[Decimal, Field(ge=0, le=Decimal("1e12"), decimal_places=2)] | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    note: Annotated[str, Field(max_length=500)] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.outcome is Outcome.REJECTED) != (self.reason is not None):
            raise ValueError("reason is required with 'rejected' and only allowed with it")
        if (self.amount is None) != (self.currency is None):
            raise ValueError("amount and currency go together")
        deal = self.outcome in {Outcome.WON, Outcome.LOST}
        if self.amount is not None and not deal:
            raise ValueError("amount is only allowed with 'won' or 'lost'")
        # The outcome event's own contract (models/outcomes.py): a deal carries its amount and currency.
        if deal and self.amount is None:
            raise ValueError("amount and currency are required with 'won' and 'lost'")
        if self.currency is not None and not is_currency(self.currency):
            raise ValueError("currency must be an ISO-4217 code (e.g. EUR, USD)")
        return self


class ErrorBody(_Body):
    error: str | None = Field(
        None, description="Machine-readable reason (lead_not_found…); absent when API Gateway itself answers 401/403."
    )
    message: str
    details: list[dict[str, str]] | None = Field(None, description="Each invalid field: where and what.")


class RuleLine(_Body):
    rule: str
    points: float = Field(description="Points the rule holds now (decayed to now for engagement rules).")
    hits: int
    last_activity: str | None = Field(description="UTC day of the rule's last match (YYYY-MM-DD).")


class StagePeriod(_Body):
    stage: str
    entered_at: str | None = Field(description="When the lead entered the stage (ISO-8601 UTC; None: unknown).")
    left_at: str | None = Field(description="When it left the stage (None: it is still there).")


class StageHistory(_Body):
    stage: str
    entered_at: str | None = Field(description="When the lead entered its current stage (ISO-8601 UTC).")
    recycled_at: str | None = Field(description="When decay last moved it down a stage, if it did.")
    periods: list[StagePeriod] = Field(
        default_factory=list,
        description="Each stage the lead was in, oldest first, with when it entered and left it (the last "
        "8 changes are kept per model).",
    )


class PredictiveFactor(_Body):
    label: str = Field(description="What pushes the probability, in sales words.")
    contribution: float = Field(description="Signed contribution to the log-odds (positive: more likely).")


class PredictiveScore(_Body):
    """The model's predictive block, computed now from the (decayed-to-now) state, as the scorer computes it."""

    probability: float = Field(ge=0, le=1, description="Calibrated probability of conversion, 0-1 (4 places).")
    p_stage: str | None = Field(description="Stage on the probability (LEAD/MQL/SQL); null if none are set.")
    factors: list[PredictiveFactor] = Field(description="Top factors, largest contribution first.")
    artefact_version: str
    stored_probability: float | None = Field(
        description="The probability as last written (lags after fast-path events; null before the first)."
    )


class ModelScore(_Body):
    model_id: str
    model_version: str
    fit: float
    engagement: float
    total: float
    stage: str
    band: str
    stored_total: float = Field(description="The total as last written (by an event or the decay job).")
    decayed_to: str = Field(description="UTC day the scores are decayed to (today).")
    breakdown: list[RuleLine]
    stage_history: StageHistory
    alerts_sent: int
    last_alert_at: str | None
    alert_pending: bool
    awaiting_feedback_since: str | None = Field(
        None, description="When the last sales alert was sent, while no feedback has been recorded since."
    )
    sla_reported_at: str | None = Field(None, description="When ops was told that alert had waited past the SLA.")
    suppressed: bool = Field(description="Bounced hard, complained or unsubscribed: no engagement scoring.")
    last_activity_at: str | None
    predictive: PredictiveScore | None = Field(
        default=None, description="Only for a model with a predictive block: the probability beside the rules."
    )


class Activity(_Body):
    model_id: str
    rule: str
    day: str
    hits: int


class FeedbackRecord(_Body):
    event_id: str
    outcome: Outcome
    reason: str | None = None
    amount: float | None = None
    currency: str | None = None
    note: str | None = None
    recorded_at: str
    recorded_by: str | None = None


class LeadsApiSettings(BaseModel):
    """Environment of the leads API function, parsed once."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    table_name: str = Field(alias="LEADS_TABLE_NAME")
    models_dir: str = Field(alias="SCORING_MODELS_DIR")
    pepper_secret_id: str = Field(alias="LEAD_ID_PEPPER_SECRET_ID")
    queue_url: str = Field(alias="LEAD_EVENTS_QUEUE_URL")
    visitors_table: str | None = Field(None, alias="VISITORS_TABLE_NAME")
    feedback_sla_hours: int = Field(24, ge=1, le=720, alias="FEEDBACK_SLA_HOURS")


class LeadView(_Body):
    lead_id: str
    email: str | None
    attributes: dict[str, str | int | float | bool | None]
    models: list[ModelScore]
    activity: list[Activity] = Field(description="Most recent rule matches first (at most 20).")
    feedback: list[FeedbackRecord]


class HotLead(_Body):
    lead_id: str
    model_id: str
    stage: str
    band: str
    fit: float
    engagement: float
    total: float
    name: str | None = Field(None, description="First and last name from the lead's profile, if known.")
    company: str | None = None
    job_title: str | None = None
    alerted_at: str | None = Field(None, description="awaiting_feedback=true: when the sales alert was sent.")
    overdue: bool | None = Field(None, description="awaiting_feedback=true: the alert is older than the SLA.")
    sla_reported_at: str | None = Field(None, description="awaiting_feedback=true: when ops had the SLA report.")


class HotList(_Body):
    items: list[HotLead]
    cursor: str | None = Field(description="Opaque; pass it back for the next page. Null: no more leads.")


class FeedbackResult(_Body):
    event_id: str
    lead_id: str
    outcome: Outcome
    replayed: bool = Field(
        description="True when this Idempotency-Key was recorded before (its event is re-sent, same id)."
    )


class ErasureResult(_Body):
    lead_id: str
    audit_id: str
    lead_items_deleted: int
    visitors_deleted: int
    visitor_items_deleted: int
    suppression_key: str
