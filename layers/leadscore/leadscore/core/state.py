"""ScoreState: a lead's score under one model, plus what makes updates idempotent and alerts exactly-once."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

ZERO = Decimal(0)

# The score item remembers the fingerprints of its lead's most recent events, so redeliveries change nothing.
# The exact path trims to the newest SEEN_KEEP once SEEN_MAX are stored; the fast path may append only while
# that cannot happen. 6-character fingerprints keep 24 of them near 170 bytes of a 1 KB write unit.
SEEN_MAX = 24
SEEN_KEEP = 16
# Stage history: the last STAGE_LOG_MAX stage changes per model, (stage entered, epoch s), oldest first. Written
# by the exact path's own write when the stage moves (about 15 bytes each); the fast path never moves a stage.
STAGE_LOG_MAX = 8


class Stage(StrEnum):
    LEAD = "LEAD"
    MQL = "MQL"
    SQL = "SQL"


STAGE_ORDER = {Stage.LEAD: 0, Stage.MQL: 1, Stage.SQL: 2}


@dataclass(slots=True)
class PendingAlert:
    """A sales alert that was decided but not yet confirmed published (the outbox)."""

    alert_id: str
    created_at: int
    lease_until: int
    total: Decimal
    stage: Stage
    # When the alert sender began publishing it (None: no attempt yet). Set before the SNS call and cleared
    # with the outbox: a sender that finds it set cannot know whether the earlier attempt reached SNS.
    publishing_at: int | None = None
    # Raised by the model's predictive block (p_stage reached SQL), not by the rule total: the message says so.
    predictive: bool = False


class StoredFactor(NamedTuple):
    """One of the probability's top factors as the score item keeps it: the factor's key (`eng:demo_request`,
    `size`…), its signed logit contribution and the details its words need (a count, days, a band: see
    leadscore/predictive/words.py, which words it from the rule model's descriptions, no artefact needed).

    An item written before factors were stored by key holds the words themselves: `label`, with no key."""

    feature: str
    contribution: Decimal
    details: tuple[int | str | None, ...] = ()
    label: str = ""


@dataclass(frozen=True, slots=True)
class Activity:
    """What a lead did, as sales reads it: a rule, the last UTC day (yymmdd) it matched, how often it did."""

    rule_id: str
    last_day: int
    count: int


@dataclass(slots=True)
class ScoreState:
    """Everything the scorer needs about a lead under one model, as stored in its score item."""

    lead_id: str
    model_id: str
    model_version: str
    version: int = 0  # optimistic-concurrency counter; 0 = not stored yet
    fit: Decimal = ZERO
    engagement: Decimal = ZERO
    total: Decimal = ZERO
    stage: Stage = Stage.LEAD
    stage_changed_at: int | None = None
    recycled_at: int | None = None
    points: dict[str, Decimal] = field(default_factory=dict)  # rule id -> points it contributed
    hits: dict[str, int] = field(default_factory=dict)  # rule id -> how often it matched (0-point hits too)
    attributes: dict[str, str | Decimal] = field(default_factory=dict)  # fit-relevant attributes
    attributes_at: int | None = None  # occurred_at of the newest event whose attributes were applied
    attributes_digest: str | None = None  # digest of the last event's attributes, when state reflects them
    seen: list[str] = field(default_factory=list)  # fingerprints of recent events, oldest first
    rule_days: dict[str, int] = field(default_factory=dict)  # engagement rule id -> last day it matched (yymmdd)
    # capped rule id -> {period id: points awarded in it}. One counter per period, so an event in a new
    # period starts a new counter without reading the old one; the exact path prunes old periods.
    caps: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    last_activity_at: int | None = None
    alert_armed: bool = True
    alert_pending: PendingAlert | None = None
    alerts_sent: int = 0
    last_alert_at: int | None = None
    suppressed: bool = False
    created_at: int | None = None
    updated_at: int | None = None
    decayed_day: int | None = None  # UTC epoch day decay was last applied (decay is idempotent per day)
    decay_due: int | None = None  # yyyymmdd the decay job looks at the lead again (None: from its last activity)
    stage_log: list[tuple[Stage, int]] = field(default_factory=list)  # (stage entered, when), oldest first
    # Predictive serving (core/prediction.py), as of the last write that knew the full state; all None (and
    # never stored) under a model without a predictive block. They never feed the rule total, stage or alerts.
    probability: Decimal | None = None
    p_factors: tuple[StoredFactor, ...] = ()  # top factors: key, signed logit contribution, details
    p_stage: Stage | None = None
    p_version: str | None = None
    p_armed: bool = True  # a predictive alert is owed on reaching SQL; re-armed below the MQL probability

    def recent(self) -> list[Activity]:
        """Engagement by rule, most recent first; within a day, the rules worth most first."""
        activity = [Activity(rule, day, self.hits.get(rule, 0)) for rule, day in self.rule_days.items()]

        def order(item: Activity) -> tuple[int, Decimal, str]:
            return (-item.last_day, -abs(self.points.get(item.rule_id, ZERO)), item.rule_id)

        return sorted(activity, key=order)
