"""LedgerRecord: one accepted LeadEvent under one model, as the scorer recorded it (contract C2), and its JSON line.

The ledger is append-only and at-least-once: an SQS redelivery appends the event again (usually with
result "duplicate"). Readers dedupe by (source, event_id, model_id) with `dedupe`, preferring the
"applied" record. No email address ever enters a record: the lead is its keyed hash (`lead_id`), personal
fields (names, phone, email) are kept as keys with null values, and an email address inside any value is
replaced by "[email]".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from leadscore.core.scoring import EventFacts, RuleHit
from leadscore.core.state import ScoreState, Stage
from leadscore.models.events import LeadEvent, Scalar
from leadscore.models.outcomes import AMOUNT, CURRENCY, OUTCOME_TYPES, REASON

LEDGER_VERSION = 2  # 2: `sequence` (optional: version 1 lines have none and still read)
Result = Literal["applied", "duplicate", "no_op"]
StageName = Literal["LEAD", "MQL", "SQL"]

# Kept as keys (the event did carry them: replay needs "this event told us something") but never as values.
PERSONAL_FIELDS = frozenset(
    {"email", "first_name", "last_name", "name", "full_name", "phone", "mobile", "mobilephone", "phone_number"}
)
_EMAIL_LIKE = re.compile(r"[^@\s/?&=:]+(?:@|%40)[^@\s/?&=]+\.[^@\s/?&=]+", re.IGNORECASE)
REDACTED_EMAIL = "[email]"
# Preference among records of one (source, event_id, model_id): the attempt that applied the event wins.
_RESULT_RANK = {"applied": 0, "no_op": 1, "duplicate": 2}


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


UtcInstant = Annotated[datetime, PlainSerializer(_iso, return_type=str)]


class LedgerHit(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str
    points: float  # what the hit added after caps (0 when capped or worth 0)


class LedgerOutcome(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: str | None = None
    amount: float | None = None
    currency: str | None = None


class LedgerRecord(BaseModel):
    """One (event x model) line of the ledger (contract C2).

    `fit`, `engagement`, `total`, `stage` and `stage_before` are the lead's values after the event. The
    scorer leaves them null on a "no_op" record of a lead it did not read (an event no rule of the model
    matched costs no DynamoDB request); `replay` always fills them. `email_domain` (not in C2's first draft)
    lets fit rules on the address's domain replay without the address.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    ledger_version: int = LEDGER_VERSION
    event_id: str
    source: str
    type: str
    occurred_at: UtcInstant
    recorded_at: UtcInstant
    lead_id: str
    model_id: str
    model_version: str
    result: Result
    hits: tuple[LedgerHit, ...] = ()
    fit: float | None = None
    engagement: float | None = None
    total: float | None = None
    stage: StageName | None = None
    stage_before: StageName | None = None
    email_domain: str | None = None
    attributes: dict[str, Scalar] = Field(default_factory=dict)
    properties: dict[str, Scalar] = Field(default_factory=dict)
    outcome: LedgerOutcome | None = None
    # The model's predictive probability after the event, when the scorer knew it (C3; null: no predictive
    # block, or a lead the scorer did not read).
    probability: float | None = None
    # C2 v2: the lead's score item version under this model after the event (the order the scorer applied
    # the lead's events: strictly increasing over the events that changed the item; an event that did not
    # change it carries the version it found). Null on version 1 lines and when the scorer did not read the
    # lead (an event no rule of the model matched). Readers order a lead's events of one second by it.
    sequence: int | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies the record across redeliveries."""
        return (self.source, self.event_id, self.model_id)


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """An event as the ledger keeps it: the lead's keyed id and email domain instead of the address, and
    no personal values. Replay scores these, so replaying LeadEvents and replaying their ledger agree."""

    lead_id: str
    email_domain: str
    event_id: str
    source: str
    type: str
    occurred_at: datetime
    attributes: Mapping[str, Scalar]
    properties: Mapping[str, Scalar]
    # The scorer's order among the lead's events of one second (C2 v2 `sequence` of one model's lines;
    # None: not known, the ledger's reading order stands).
    sequence: int | None = None

    @classmethod
    def of(cls, event: LeadEvent, lead_id: str) -> LedgerEvent:
        return cls(
            lead_id=lead_id,
            email_domain=event.email_domain,
            event_id=event.event_id,
            source=event.source,
            type=event.type.value,
            occurred_at=event.occurred_at,
            attributes=_clean(event.attributes),
            properties=_clean(event.properties),
        )

    @classmethod
    def from_record(cls, record: LedgerRecord, *, sequence: int | None = None) -> LedgerEvent:
        return cls(
            lead_id=record.lead_id,
            email_domain=record.email_domain or "",
            event_id=record.event_id,
            source=record.source,
            type=record.type,
            occurred_at=record.occurred_at,
            attributes=record.attributes,
            properties=record.properties,
            sequence=sequence,
        )

    def facts(self) -> EventFacts:
        return EventFacts(
            source=self.source,
            event_id=self.event_id,
            type=self.type,
            occurred_at=int(self.occurred_at.timestamp()),
            attributes=self.attributes,
            properties=self.properties,
            email_domain=self.email_domain,
        )


def to_json_line(record: LedgerRecord) -> bytes:
    """The record as one UTF-8 JSON line, newline included (Firehose concatenates records as given)."""
    return record.model_dump_json().encode("utf-8") + b"\n"


def from_json_line(line: bytes | str) -> LedgerRecord:
    return LedgerRecord.model_validate_json(line)


def read_json_lines(lines: Iterable[bytes | str]) -> Iterator[LedgerRecord]:
    """Records from JSON lines (blank lines skipped)."""
    for line in lines:
        if line.strip():
            yield from_json_line(line)


def dedupe(records: Iterable[LedgerRecord]) -> list[LedgerRecord]:
    """One record per (source, event_id, model_id): the applied one if any, else the earliest recorded.

    The ledger is at-least-once (a redelivered SQS message appends its records again), so every reader
    must do this (the SQL readers do the same with ROW_NUMBER()). Order of first appearance is kept.
    """
    best: dict[tuple[str, str, str], LedgerRecord] = {}
    for record in records:
        kept = best.get(record.key)
        if kept is None or (_RESULT_RANK[record.result], record.recorded_at) < (
            _RESULT_RANK[kept.result],
            kept.recorded_at,
        ):
            best[record.key] = record
    return list(best.values())


def _clean(values: Mapping[str, Scalar]) -> dict[str, Scalar]:
    """No personal value ever reaches the ledger: personal keys become null, email addresses inside a value
    (a tracked link's query string) become "[email]", so rules on the rest of the value still replay."""
    return {key: None if key in PERSONAL_FIELDS else _redacted(value) for key, value in values.items()}


def _redacted(value: Scalar) -> Scalar:
    if isinstance(value, str) and ("@" in value or "%40" in value):
        return _EMAIL_LIKE.sub(REDACTED_EMAIL, value)
    return value


def _number(value: Scalar) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def outcome_of(event_type: str, properties: Mapping[str, Scalar]) -> LedgerOutcome | None:
    if event_type not in OUTCOME_TYPES:
        return None
    reason = properties.get(REASON)
    currency = properties.get(CURRENCY)
    return LedgerOutcome(
        reason=reason if isinstance(reason, str) else None,
        amount=_number(properties.get(AMOUNT)),
        currency=currency if isinstance(currency, str) else None,
    )


def _float(value: Decimal) -> float:
    return float(value)


class Standing(NamedTuple):
    """Where a lead stands under one model: what a ledger line records after each event."""

    fit: Decimal
    engagement: Decimal
    total: Decimal
    stage: Stage
    version: int | None = None  # the score item's version (the line's `sequence`)

    @classmethod
    def of(cls, state: ScoreState) -> Standing:
        return cls(state.fit, state.engagement, state.total, state.stage, state.version)


def build_record(
    event: LedgerEvent,
    *,
    model_id: str,
    model_version: str,
    result: Result,
    hits: Sequence[RuleHit],
    standing: Standing | None,
    stage_before: Stage | None,
    recorded_at: int,
    probability: Decimal | None = None,
) -> LedgerRecord:
    """The ledger line for `event` under one model; `standing`: the lead after it (None: not read)."""
    return LedgerRecord(
        event_id=event.event_id,
        source=event.source,
        type=event.type,
        occurred_at=event.occurred_at,
        recorded_at=datetime.fromtimestamp(recorded_at, UTC),
        lead_id=event.lead_id,
        model_id=model_id,
        model_version=model_version,
        result=result,
        hits=tuple(LedgerHit(rule=hit.rule_id, points=_float(hit.points)) for hit in hits),
        fit=None if standing is None else _float(standing.fit),
        engagement=None if standing is None else _float(standing.engagement),
        total=None if standing is None else _float(standing.total),
        stage=None if standing is None else standing.stage.value,
        stage_before=None if stage_before is None else stage_before.value,
        email_domain=event.email_domain,
        attributes=dict(event.attributes),
        properties=dict(event.properties),
        outcome=outcome_of(event.type, event.properties),
        probability=None if probability is None else _float(probability),
        sequence=None if standing is None else standing.version,
    )
