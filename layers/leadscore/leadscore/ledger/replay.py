"""Replay: score events through the pure core, in occurred_at order, with decay as the daily job applies it.

`replay` is what the scorer and the decay job would have stored, had they seen these events (or this
ledger) under these models: per lead and model, each event is scored by `core.scoring.score_event` at its
own time, and before it the decay job's runs since the lead's previous event are applied
(`core.decay.apply_decay` at the last scheduled run, which catches up exactly as daily runs do). Alerts are
taken as delivered at once (the outbox is emptied, as the scorer's publish does).

It reproduces the stored scores exactly when the stored scores saw the same events in the same order
relative to the decay runs (tested against the real handlers on moto). An event that reached the scorer
after a decay run that its occurred_at precedes is scored before that run here (replay cannot know when it
arrived): totals can then differ by that one day of decay.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from decimal import Decimal
from itertools import groupby

from leadscore.core.decay import NEVER, DecayResult, apply_decay, epoch_day
from leadscore.core.identity import lead_id_for
from leadscore.core.prediction import bookkeeping_changes, estimate, predict_into
from leadscore.core.rules import ZERO, CompiledModel
from leadscore.core.scoring import EventFacts, Outcome, engagement_hits, new_state, score_event
from leadscore.core.stages import DAY_SECONDS, day_number
from leadscore.core.state import ScoreState
from leadscore.ledger.records import LedgerEvent, LedgerRecord, Standing, build_record, dedupe, read_json_lines
from leadscore.models.events import LeadEvent
from leadscore.models.outcomes import OUTCOME_TYPES
from leadscore.services.decay import _worth_reindexing

# template.yaml's DecayScheduleExpression default: cron(15 2 * * ? *), UTC.
DEFAULT_DECAY_AT = time(2, 15)
ALERT_LEASE_SECONDS = 60


@dataclass
class ReplayResult:
    """Final states per (lead_id, model_id) (leads a model never stored are absent) and the ledger records
    the scorer would have written (empty when replay was asked not to build them)."""

    states: dict[tuple[str, str], ScoreState] = field(default_factory=dict)
    records: list[LedgerRecord] = field(default_factory=list)

    def state(self, lead_id: str, model_id: str) -> ScoreState | None:
        return self.states.get((lead_id, model_id))

    def of_model(self, model_id: str) -> list[ScoreState]:
        return [state for (_, model), state in self.states.items() if model == model_id]


def events_from_ledger(
    lines: Iterable[bytes | str] | Iterable[LedgerRecord], *, sequence_of: str | None = None
) -> list[LedgerEvent]:
    """The distinct events of a ledger (JSON lines or records), each once, in the order first recorded.

    One event has a record per model and maybe more per redelivery; all carry the same event.
    `sequence_of`: a model id whose lines' `sequence` (C2 v2) orders a lead's events of one second in
    `replay` (one model's: each model's score item has its own versions). None: the reading order.
    """
    records = dedupe(_records(lines))
    sequences = {(r.source, r.event_id): r.sequence for r in records if r.model_id == sequence_of}
    seen: set[tuple[str, str]] = set()
    events: list[LedgerEvent] = []
    for record in records:
        key = (record.source, record.event_id)
        if key not in seen:
            seen.add(key)
            events.append(LedgerEvent.from_record(record, sequence=sequences.get(key)))
    return events


def replay_order(event: LedgerEvent) -> tuple[str, datetime, int]:
    """A lead's events by occurred_at, then by the scorer's sequence where the ledger has it (events
    without one first); the sort is stable, so the reading order decides what is left."""
    return (event.lead_id, event.occurred_at, -1 if event.sequence is None else event.sequence)


def _records(lines: Iterable[bytes | str] | Iterable[LedgerRecord]) -> Iterator[LedgerRecord]:
    for item in lines:
        if isinstance(item, LedgerRecord):
            yield item
        else:
            yield from read_json_lines([item])


def last_run_at(moment: int, decay_at: time) -> int:
    """The epoch second of the latest scheduled decay run at or before `moment`."""
    offset = decay_at.hour * 3600 + decay_at.minute * 60 + decay_at.second
    return (moment - offset) // DAY_SECONDS * DAY_SECONDS + offset


def replay(
    events: Iterable[LeadEvent | LedgerEvent],
    models: Sequence[CompiledModel],
    *,
    pepper: bytes,
    until: datetime | None = None,
    decay_at: time | None = DEFAULT_DECAY_AT,
    with_records: bool = True,
) -> ReplayResult:
    """Score `events` (any order) under every model, as the scorer and the daily decay job would have.

    Args:
        events: LeadEvents (their lead ids derived with `pepper`) or events read back from the ledger.
        until: ignore events after it, and apply the decay runs up to it to every final state (None: stop
            at each lead's last event).
        decay_at: the decay job's daily UTC run time (None: no decay).
        with_records: build the LedgerRecords too (costs about as much as the scoring; evaluation of
            candidate models over millions of events may not need them).
    """
    end = None if until is None else int(until.timestamp())
    ledger_events = [
        event if isinstance(event, LedgerEvent) else LedgerEvent.of(event, lead_id_for(event.email, pepper))
        for event in events
    ]
    if end is not None:
        ledger_events = [event for event in ledger_events if event.occurred_at.timestamp() <= end]
    ledger_events.sort(key=replay_order)  # stable: ties keep input order
    result = ReplayResult()
    for lead_id, lead_events in groupby(ledger_events, key=lambda event: event.lead_id):
        history = list(lead_events)
        for model in models:
            state = _replay_lead(history, model, decay_at, end, result.records if with_records else None)
            if state is not None:
                result.states[(lead_id, model.id)] = state
    result.records.sort(key=lambda record: (record.occurred_at, record.lead_id))
    return result


def _replay_lead(
    history: Sequence[LedgerEvent],
    model: CompiledModel,
    decay_at: time | None,
    end: int | None,
    records: list[LedgerRecord] | None,
) -> ScoreState | None:
    state: ScoreState | None = None
    for event in history:
        facts = event.facts()
        now = facts.occurred_at
        if state is not None and decay_at is not None:
            state = decay_as_the_job_would(state, model, last_run_at(now, decay_at))
        base = state or new_state(event.lead_id, model)
        scored = score_event(facts, model, base, now=now, alert_lease_seconds=ALERT_LEASE_SECONDS)
        probability = None
        if scored.outcome is Outcome.APPLIED:
            state = scored.state
            # The predictive block, as the scorer serves it: stored at the event's time (a predictive alert
            # waits while the rule alert holds the outbox).
            predicted = predict_into(
                state, model, at=now, seed=facts.fingerprint, now=now, lease_seconds=ALERT_LEASE_SECONDS
            )
            probability = None if predicted is None else predicted.estimate.probability
            _deliver_alert(state, now)
        elif state is not None and _scorer_reads(facts, model, scored.outcome):
            probability = _probability_of(state, model, now)  # the state the scorer read, for its ledger line
        if records is not None:
            records.append(
                build_record(
                    event,
                    model_id=model.id,
                    model_version=model.version,
                    result=scored.outcome.value,
                    hits=scored.hits,
                    standing=Standing.of(scored.state),
                    stage_before=scored.stage_before,
                    recorded_at=now,
                    probability=probability,
                )
            )
    if state is not None and decay_at is not None and end is not None:
        state = decay_as_the_job_would(state, model, last_run_at(end, decay_at))
    return state


def _scorer_reads(facts: EventFacts, model: CompiledModel, outcome: Outcome) -> bool:
    """Whether the scorer reads the lead for an event that changes nothing (services/scoring.py): it does for
    a duplicate, an outcome and an event a rule could match; not for one no rule looks at (no probability)."""
    return (
        outcome is Outcome.DUPLICATE
        or facts.type in OUTCOME_TYPES
        or bool(facts.attributes)
        or bool(engagement_hits(facts, model))
    )


def _probability_of(state: ScoreState, model: CompiledModel, at: int) -> Decimal | None:
    found = estimate(state, model, at)
    return None if found is None else found.probability


def _deliver_alert(state: ScoreState, now: int) -> None:
    """The scorer publishes a new alert right after its write and completes the outbox."""
    if state.alert_pending is not None:
        state.alert_pending = None
        state.alerts_sent += 1
        state.last_alert_at = now


def decay_as_the_job_would(state: ScoreState, model: CompiledModel, run_at: int) -> ScoreState:
    """The state after the decay runs up to `run_at`: the job reads a lead only once its due day has come
    (the sparse by-decay index) and writes only what changed; one catch-up equals the daily runs."""
    if not state.version or run_at < (state.last_activity_at or 0):
        return state
    due = _due_day(state)
    if due is None or due > day_number(run_at):
        return state
    decayed = apply_decay(state, model, now=run_at)
    if decayed.state.decay_due == NEVER:
        decayed = _first_run_that_stops(state, model, run_at, decayed)
    new = decayed.state
    if model.predictive is not None:  # the job stores the probability at the run's time (services/decay.py)
        new = replace(new)  # an unchanged result is the input itself: never mutate that
        predict_into(new, model, at=run_at, seed=f"d{epoch_day(run_at)}", now=run_at, lease_seconds=ALERT_LEASE_SECONDS)
        _deliver_alert(new, run_at)
    elif new is state:
        return state
    if decayed.changed or _worth_reindexing(state, new, run_at) or bookkeeping_changes(state, new):
        new.version = state.version + 1
        return new
    return state


def _first_run_that_stops(state: ScoreState, model: CompiledModel, run_at: int, last: DecayResult) -> DecayResult:
    """Daily runs stop writing on the first day the lead leaves the decay index (at the floor, nothing left
    to fade), so their `decayed_day` stays on that day, where one catch-up would store today. That day
    matters when the lead is active again (older points fade from it), so find it: leaving the index is
    monotone in the day, and each probe is one catch-up."""
    low = state.decayed_day if state.decayed_day is not None else epoch_day(state.last_activity_at or run_at)
    high = epoch_day(run_at)
    offset = run_at - high * DAY_SECONDS
    found = last
    while high - low > 1:
        middle = (low + high) // 2
        probe = apply_decay(state, model, now=middle * DAY_SECONDS + offset)
        if probe.state.decay_due == NEVER:
            high, found = middle, probe
        else:
            low = middle
    return found


def _due_day(state: ScoreState) -> int | None:
    """The day (yyyymmdd) the by-decay index lists the lead from; None while it is not in the index."""
    if state.engagement <= ZERO or state.suppressed or state.last_activity_at is None or state.decay_due == NEVER:
        return None
    return state.decay_due or day_number(state.last_activity_at)


def records_by_lead(records: Iterable[LedgerRecord]) -> dict[tuple[str, str], list[LedgerRecord]]:
    """Deduplicated records per (lead_id, model_id), in occurred_at order."""
    grouped: dict[tuple[str, str], list[LedgerRecord]] = defaultdict(list)
    for record in dedupe(records):
        grouped[(record.lead_id, record.model_id)].append(record)
    for history in grouped.values():
        history.sort(key=lambda record: record.occurred_at)
    return grouped
