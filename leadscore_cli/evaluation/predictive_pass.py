"""One replay of the ledger for predictive evaluation: each lead's state at its outcome cutoff AND its weekly
snapshots for the drift figures, from the same walk through its events.

Both figures need the lead's events scored in order through the pure core with the decay job's runs between
them (`leadscore.ledger.replay`'s rules). Evaluating the probability needs the state after the last event at
or before the lead's cutoff (`cutoff_of`: its first outcome); drift needs the state at each reference time
while the lead is open (`leadscore_cli.training.examples.snapshots`, what the model learned from). Replaying
twice cost twice the scoring, and the old path held every event of the ledger in Python (pydantic records,
then LedgerEvents) for both. Here each lead is walked once, its snapshots taken as the walk passes their
times and its cutoff state kept as the walk passes its cutoff, and the walk stops when neither needs more.

Leads come one at a time (`LeadHistory`): from events already in memory (`histories_from_events`, a
candidate's replay) or streamed from the ledger files by DuckDB in (lead, occurred_at, file position) order
(`leadscore_cli.evaluation.ledger_stream`), so memory holds one lead's events, not the ledger's.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from leadscore.core.rules import CompiledModel
from leadscore.core.scoring import EventFacts, Outcome, new_state, score_event
from leadscore.core.state import ScoreState
from leadscore.ledger.records import LedgerEvent
from leadscore.ledger.replay import (
    ALERT_LEASE_SECONDS,
    DEFAULT_DECAY_AT,
    decay_as_the_job_would,
    last_run_at,
    replay_order,
)
from leadscore.models.outcomes import OUTCOME_TYPES
from leadscore_cli.evaluation.metrics import LeadRow

CONVERSION_TYPES = frozenset({"sales_accepted", "deal_won"})  # training.examples' target
REJECTION_TYPES = frozenset({"sales_rejected"})
NEVER = 2**62


@dataclass(frozen=True, slots=True)
class LeadHistory:
    """One lead's events before the evaluation's end, outcomes included, in replay order (occurred_at, then
    the order the ledger holds them)."""

    lead_id: str
    events: Sequence[EventFacts]


@dataclass(frozen=True, slots=True)
class PointInTime:
    state: ScoreState
    at: int  # epoch seconds of the lead's last kept event: where its features are taken


# on_snapshot(lead_id, reference time, state at that time, first conversion or None)
SnapshotSink = Callable[[str, int, ScoreState, int | None], None]


def histories_from_events(events: Iterable[LedgerEvent], *, until: datetime | None = None) -> Iterator[LeadHistory]:
    """LeadHistories from events in memory: before `until`, by lead id, each lead's in `replay`'s order
    (occurred_at, the scorer's sequence where known, then the input order)."""
    kept = [event for event in events if until is None or event.occurred_at < until]
    kept.sort(key=replay_order)
    for lead_id, group in groupby(kept, key=lambda event: event.lead_id):
        yield LeadHistory(lead_id, [event.facts() for event in group])


def _seconds(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def first_outcomes(events: Sequence[EventFacts]) -> tuple[int | None, int | None]:
    """(first conversion, first rejection) of one lead, epoch seconds (training.examples.lead_outcomes)."""
    converted = rejected = None
    for facts in events:
        if facts.type in CONVERSION_TYPES and (converted is None or facts.occurred_at < converted):
            converted = facts.occurred_at
        elif facts.type in REJECTION_TYPES and (rejected is None or facts.occurred_at < rejected):
            rejected = facts.occurred_at
    return converted, rejected


def walk[T](
    histories: Iterable[LeadHistory],
    model: CompiledModel,
    leads: Sequence[LeadRow],
    times: Sequence[int],
    on_snapshot: SnapshotSink | None,
    *,
    cutoff_of: Callable[[datetime | None], datetime | None],
    keep: Callable[[PointInTime], T],
) -> dict[str, T]:
    """Walk every lead once. Returns each evaluated lead's state at its cutoff (its non-outcome events at or
    before `cutoff_of(outcome_at)`; a fresh state when it has none) and calls `on_snapshot` for every
    reference time in `times` (ascending) at which the lead had been seen and was still open (before its
    first conversion or rejection), in lead order then time order. `keep(point)` is what is kept of each
    cutoff state (the state itself, or only its probability: a state is kilobytes, 100,000 leads are many)."""
    cutoffs: Mapping[str, float | None] = {row.lead_id: _seconds(cutoff_of(row.outcome_at)) for row in leads}
    times = sorted(times)
    points: dict[str, T] = {}
    for history in histories:
        lead_id = history.lead_id
        converted, rejected = first_outcomes(history.events)
        closing = min((when for when in (converted, rejected) if when is not None), default=NEVER + 1) - 1
        lead_times = times[: bisect_right(times, closing)] if on_snapshot is not None else []
        evaluated = lead_id in cutoffs
        cutoff = cutoffs.get(lead_id)
        point = _walk_lead(
            history,
            model,
            lead_times=lead_times,
            evaluated=evaluated,
            cutoff=cutoff,
            on_snapshot=on_snapshot,
            converted=converted,
        )
        if point is not None:
            points[lead_id] = keep(point)
    for row in leads:
        if row.lead_id not in points:  # no event before the end: nothing scored
            points[row.lead_id] = keep(PointInTime(new_state(row.lead_id, model), int(row.first_touch_at.timestamp())))
    return points


def _walk_lead(
    history: LeadHistory,
    model: CompiledModel,
    *,
    lead_times: Sequence[int],
    evaluated: bool,
    cutoff: float | None,
    on_snapshot: SnapshotSink | None,
    converted: int | None,
) -> PointInTime | None:
    lead_id = history.lead_id
    state: ScoreState | None = None
    at_cutoff: ScoreState | None = None
    last_kept: int | None = None
    cut = not evaluated  # the cutoff state is known (or not wanted)
    index = 0
    for facts in history.events:
        if facts.type in OUTCOME_TYPES:
            continue
        now = facts.occurred_at
        while index < len(lead_times) and lead_times[index] < now:  # a snapshot holds the events at or before it
            _snapshot(on_snapshot, lead_id, lead_times[index], state, model, converted)
            index += 1
        if not cut and cutoff is not None and now > cutoff:
            at_cutoff, cut = state, True
        if cut and index >= len(lead_times):
            break  # neither the cutoff nor a snapshot needs a later event
        if state is not None:
            state = decay_as_the_job_would(state, model, last_run_at(now, DEFAULT_DECAY_AT))
        scored = score_event(
            facts, model, state or new_state(lead_id, model), now=now, alert_lease_seconds=ALERT_LEASE_SECONDS
        )
        if scored.outcome is Outcome.APPLIED:
            state = scored.state
            _deliver_alert(state, now)
        if not cut:
            last_kept = now
    for moment in lead_times[index:]:
        _snapshot(on_snapshot, lead_id, moment, state, model, converted)
    if not cut:
        at_cutoff = state
    if not evaluated or last_kept is None:
        return None  # not evaluated, or no event before its cutoff: `walk` gives it a fresh state
    return PointInTime(at_cutoff or new_state(lead_id, model), last_kept)


def _snapshot(  # noqa: PLR0917 - a private helper of the walk's loop
    sink: SnapshotSink | None,
    lead_id: str,
    moment: int,
    state: ScoreState | None,
    model: CompiledModel,
    converted: int | None,
) -> None:
    if sink is not None and state is not None:
        sink(lead_id, moment, decay_as_the_job_would(state, model, last_run_at(moment, DEFAULT_DECAY_AT)), converted)


def _deliver_alert(state: ScoreState, now: int) -> None:
    """As `leadscore.ledger.replay` does: the scorer publishes a new alert at once and empties the outbox."""
    if state.alert_pending is not None:
        state.alert_pending = None
        state.alerts_sent += 1
        state.last_alert_at = now
