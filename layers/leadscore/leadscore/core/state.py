"""ScoreState: a lead's score under one model, plus what makes updates idempotent and alerts exactly-once."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal(0)

# The score item remembers the most recent events (for dedup and "recent activity"). The exact path trims
# to the newest SEEN_KEEP once SEEN_MAX are stored; the fast path may append only while that cannot happen.
# Sized so a typical score item stays under 1 KB (one write request unit).
SEEN_MAX = 12
SEEN_KEEP = 6


class Stage(StrEnum):
    LEAD = "LEAD"
    MQL = "MQL"
    SQL = "SQL"


STAGE_ORDER = {Stage.LEAD: 0, Stage.MQL: 1, Stage.SQL: 2}


@dataclass(slots=True)
class CapUse:
    """Points already awarded by one capped rule in one period (e.g. '2026-11-22')."""

    period: str
    used: Decimal


@dataclass(slots=True)
class PendingAlert:
    """A sales alert that was decided but not yet confirmed published (the outbox)."""

    alert_id: str
    created_at: int
    lease_until: int
    total: Decimal
    stage: Stage


@dataclass(frozen=True, slots=True)
class Activity:
    """One remembered event as sales reads it: UTC day (yymmdd) and the rule that scored it (or its type)."""

    day: str
    label: str

    def encode(self) -> str:
        return f"{self.day}|{self.label}"

    @classmethod
    def decode(cls, entry: str) -> Activity:
        day, _, label = entry.partition("|")
        return cls(day, label)


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
    activity: list[str] = field(default_factory=list)  # Activity.encode() of the same events, same order
    caps: dict[str, CapUse] = field(default_factory=dict)
    last_activity_at: int | None = None
    alert_armed: bool = True
    alert_pending: PendingAlert | None = None
    alerts_sent: int = 0
    last_alert_at: int | None = None
    suppressed: bool = False
    created_at: int | None = None
    updated_at: int | None = None

    def recent(self) -> list[Activity]:
        """Remembered events, newest first."""
        return [Activity.decode(entry) for entry in reversed(self.activity)]
