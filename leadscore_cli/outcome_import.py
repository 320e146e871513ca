"""CSV rows of a CRM export -> outcome LeadEvents, with every bad row reported by its line number.

The plain shape (no mapping): columns `email` or `lead_id`, `outcome` (sales_accepted, sales_rejected,
deal_won, deal_lost), `date` (ISO-8601; a date alone is 00:00 UTC), `reason` (sales_rejected: bad_fit,
no_intent, wrong_contact, duplicate, competitor, other), `amount` and `currency` (deal_won / deal_lost;
ISO-4217). A mapping YAML (scoring/outcome_maps/hubspot.yaml, salesforce.yaml, or your own) names the
columns of another export and translates its values.

Event ids are derived from the row's content, so importing the same file twice sends the same events:
the scorer and every ledger reader treat them as one (idempotent re-import).
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from leadscore.models.events import EventType, LeadEvent, Scalar
from leadscore.models.outcomes import (
    DEAL_TYPES,
    OUTCOME_TYPES,
    REJECTION_REASONS,
    SALES_REJECTED,
    check_outcome_properties,
)

ROOT = Path(__file__).resolve().parents[1]
BUILTIN_MAPS = ROOT / "scoring" / "outcome_maps"
Column = Literal["email", "lead_id", "outcome", "date", "reason", "amount", "currency"]
COLUMNS: tuple[Column, ...] = ("email", "lead_id", "outcome", "date", "reason", "amount", "currency")


class OutcomeMapping(BaseModel):
    """How one CRM export names and words things (all optional: the plain CSV shape needs none of it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")] = "csv"
    columns: dict[Column, list[str]] = Field(default_factory=dict)
    date_formats: list[str] = Field(default_factory=list)
    outcomes: dict[str, str] = Field(default_factory=dict, description="CRM value (lower case) -> outcome type")
    reasons: dict[str, str] = Field(default_factory=dict, description="CRM reason (lower case) -> fixed reason")
    default_reason: str | None = None
    default_currency: str | None = None


def load_mapping(name_or_path: str | None) -> OutcomeMapping:
    """`hubspot`, `salesforce` (shipped), a YAML file, or None for the plain CSV shape."""
    if name_or_path is None:
        return OutcomeMapping()
    path = BUILTIN_MAPS / f"{name_or_path}.yaml" if "/" not in name_or_path and "." not in name_or_path else None
    path = path if path is not None and path.exists() else Path(name_or_path)
    return OutcomeMapping.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class RowError:
    line: int  # the file's line number (1 is the header)
    problem: str


@dataclass
class ImportPlan:
    events: list[LeadEvent] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0


def _pick(row: Mapping[str, str], names: Iterable[str]) -> str:
    lowered = {key.strip().lower(): value for key, value in row.items() if key is not None}
    for name in names:
        value = lowered.get(name.strip().lower())
        if value is not None and value.strip():
            return value.strip()
    return ""


def _parse_date(text: str, formats: list[str]) -> datetime:
    for pattern in formats:
        try:
            moment = datetime.strptime(text, pattern)  # noqa: DTZ007 - naive is read as UTC just below
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _amount(text: str) -> float:
    return float(text.replace(",", "").replace(" ", ""))


def event_id_for(key: str, outcome: str, occurred_at: datetime, properties: Mapping[str, Scalar]) -> str:
    """A stable id from what the row says: the same row imported again is the same event."""
    canonical = "|".join([key, outcome, occurred_at.isoformat(), *(f"{k}={properties[k]}" for k in sorted(properties))])
    return "outcome-" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


class _RowProblem(ValueError):
    pass


@dataclass(frozen=True)
class ParsedRow:
    line: int
    email: str  # "" when the row names the lead by id
    lead_id: str
    outcome: str
    occurred_at: datetime
    properties: dict[str, Scalar]

    @property
    def event_id(self) -> str:
        key = self.email.lower() or f"lead:{self.lead_id}"
        return event_id_for(key, self.outcome, self.occurred_at, self.properties)


def _parse_row(line: int, row: Mapping[str, str], mapping: OutcomeMapping) -> ParsedRow:
    columns = {name: [*mapping.columns.get(name, []), name] for name in COLUMNS}
    email, lead_id = _pick(row, columns["email"]), _pick(row, columns["lead_id"])
    if not email and not lead_id:
        raise _RowProblem("no email and no lead_id")
    raw_outcome = _pick(row, columns["outcome"])
    outcome = mapping.outcomes.get(raw_outcome.lower(), raw_outcome.lower())
    if outcome not in OUTCOME_TYPES:
        raise _RowProblem(f"outcome {raw_outcome!r} is not one of {', '.join(sorted(OUTCOME_TYPES))} (nor mapped)")
    raw_date = _pick(row, columns["date"])
    if not raw_date:
        raise _RowProblem("no date")
    try:
        occurred_at = _parse_date(raw_date, mapping.date_formats)
    except ValueError:
        raise _RowProblem(f"date {raw_date!r} is not a date (ISO-8601, or the mapping's date_formats)") from None
    properties: dict[str, Scalar] = {}
    raw_reason = _pick(row, columns["reason"])
    reason = mapping.reasons.get(raw_reason.lower(), raw_reason.lower().replace(" ", "_")) if raw_reason else ""
    if outcome == SALES_REJECTED and reason not in REJECTION_REASONS:
        reason = mapping.default_reason or reason
    if reason and (outcome == SALES_REJECTED or reason in REJECTION_REASONS):
        properties["reason"] = reason
    if outcome in DEAL_TYPES:
        raw_amount = _pick(row, columns["amount"])
        try:
            properties["amount"] = _amount(raw_amount) if raw_amount else None
        except ValueError:
            raise _RowProblem(f"amount {raw_amount!r} is not a number") from None
        properties["currency"] = (_pick(row, columns["currency"]) or mapping.default_currency or "").upper()
    try:
        check_outcome_properties(outcome, properties)
    except ValueError as exc:
        raise _RowProblem(str(exc).replace("properties.", "")) from None
    return ParsedRow(line, email, lead_id, outcome, occurred_at, properties)


def _event(row: ParsedRow, source: str, email: str, received_at: datetime) -> LeadEvent:
    try:
        return LeadEvent(
            event_id=row.event_id,
            source=source,
            type=EventType(row.outcome),
            occurred_at=row.occurred_at,
            received_at=received_at,
            email=email,
            properties=row.properties,
        )
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{where}: {message}" if where else message)
        raise _RowProblem("; ".join(problems)) from None


def plan_import(
    lines: Iterable[str],
    mapping: OutcomeMapping,
    *,
    received_at: datetime,
    resolve: Callable[[list[str]], dict[str, str]] | None = None,
) -> ImportPlan:
    """Every row as an outcome event, or as an error naming its line. `resolve` maps lead ids to emails
    (the leads' profile items); a row whose lead id it does not know is an error."""
    plan = ImportPlan()
    reader = csv.DictReader(lines)
    parsed: list[ParsedRow] = []
    line = reader.line_num
    for row in reader:
        plan.rows += 1
        start, line = line + 1, reader.line_num  # a quoted field may span lines: report where the row starts
        try:
            parsed.append(_parse_row(start, row, mapping))
        except _RowProblem as problem:
            plan.errors.append(RowError(start, str(problem)))
    by_id = [row.lead_id for row in parsed if not row.email]
    emails = resolve(by_id) if by_id and resolve else {}
    for item in parsed:
        email = item.email or emails.get(item.lead_id)
        if not email:
            plan.errors.append(RowError(item.line, f"lead_id {item.lead_id!r} is not a known lead"))
            continue
        try:
            plan.events.append(_event(item, mapping.source, email, received_at))
        except _RowProblem as problem:
            plan.errors.append(RowError(item.line, str(problem)))
    plan.errors.sort(key=lambda error: error.line)
    return plan
