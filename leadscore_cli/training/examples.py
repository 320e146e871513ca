"""Training examples that do not leak the future: a lead as the scorer knew it at a reference time.

For each reference time t (weekly by default) and each lead that had been seen by t and had not yet been
accepted or rejected by sales:

- the lead's state is its events with `occurred_at <= t`, scored in order with the daily decay job's runs
  applied between them and up to t (exactly `leadscore.ledger.replay`'s rules: `decay_as_the_job_would`);
- its features are `leadscore.predictive.features.lead_features(state, model, t)`, the function the scorer
  serves with;
- its label is a conversion in (t, t + horizon]: the first `sales_accepted` or `deal_won` (a won deal was
  accepted first, even if the CRM sent only the win). `sales_accepted` is the target because it is what
  sales decides from the lead (a deal's outcome depends on the sales cycle and price), and it is what the
  simulated population's truth is.

Nothing at or after a lead's outcome reaches its features: examples stop at the first outcome, and the
label only looks after t.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from leadscore.core.rules import CompiledModel
from leadscore.core.scoring import Outcome, new_state, score_event
from leadscore.core.stages import DAY_SECONDS
from leadscore.core.state import ScoreState
from leadscore.ledger.records import LedgerEvent
from leadscore.ledger.replay import ALERT_LEASE_SECONDS, DEFAULT_DECAY_AT, decay_as_the_job_would, last_run_at
from leadscore.predictive.features import lead_features

CONVERSION_TYPES = frozenset({"sales_accepted", "deal_won"})
REJECTION_TYPES = frozenset({"sales_rejected"})
OUTCOME_TYPES = frozenset({"sales_accepted", "sales_rejected", "deal_won", "deal_lost"})
TARGET = "sales_accepted (or deal_won) within {days} days of the reference time"


@dataclass(frozen=True, slots=True)
class Example:
    """One lead at one reference time: what was known then, and whether it converted within the horizon."""

    lead_id: str
    at: int  # the reference time (epoch seconds)
    features: dict[str, float]
    rule_total: float  # the rule model's total at that time (decay applied), for the comparison
    label: bool
    converted_at: int | None  # the first conversion, if any (after `at` by construction)


@dataclass(frozen=True, slots=True)
class LeadOutcome:
    converted_at: int | None = None
    rejected_at: int | None = None

    def closed_by(self, moment: int) -> bool:
        """Sales had already decided on the lead at `moment`: nothing left to predict."""
        return any(when is not None and when <= moment for when in (self.converted_at, self.rejected_at))


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def lead_outcomes(events: Iterable[LedgerEvent]) -> dict[str, LeadOutcome]:
    """Each lead's first conversion and first rejection (epoch seconds)."""
    converted: dict[str, int] = {}
    rejected: dict[str, int] = {}
    for event in events:
        at = _seconds(event.occurred_at)
        if event.type in CONVERSION_TYPES and at < converted.get(event.lead_id, at + 1):
            converted[event.lead_id] = at
        elif event.type in REJECTION_TYPES and at < rejected.get(event.lead_id, at + 1):
            rejected[event.lead_id] = at
    return {lead: LeadOutcome(converted.get(lead), rejected.get(lead)) for lead in converted.keys() | rejected.keys()}


def reference_times(first: int, last: int, *, every_days: int, horizon_days: int) -> list[int]:
    """Reference times every `every_days` days (at the decay run's hour) from a week after `first`, while
    the horizon after them is still inside the data (last - horizon): their labels are fully observed."""
    step = every_days * DAY_SECONDS
    offset = DEFAULT_DECAY_AT.hour * 3600 + DEFAULT_DECAY_AT.minute * 60
    start = (first // DAY_SECONDS + every_days) * DAY_SECONDS + offset
    end = last - horizon_days * DAY_SECONDS
    return list(range(start, end + 1, step))


def snapshots(
    history: Sequence[LedgerEvent], model: CompiledModel, times: Sequence[int]
) -> Iterator[tuple[int, ScoreState]]:
    """The lead's state at each of `times` (ascending) from its events up to then, as the scorer and the
    daily decay job would have stored it. Times before the lead's first event are skipped."""
    state: ScoreState | None = None
    index = 0
    for moment in times:
        while index < len(history) and _seconds(history[index].occurred_at) <= moment:
            event = history[index]
            index += 1
            facts = event.facts()
            if state is not None:
                state = decay_as_the_job_would(state, model, last_run_at(facts.occurred_at, DEFAULT_DECAY_AT))
            scored = score_event(
                facts, model, state or new_state(event.lead_id, model), now=facts.occurred_at,
                alert_lease_seconds=ALERT_LEASE_SECONDS,
            )  # fmt: skip
            if scored.outcome is Outcome.APPLIED:
                state = scored.state
                _deliver_alert(state, facts.occurred_at)
        if state is not None:
            yield moment, decay_as_the_job_would(state, model, last_run_at(moment, DEFAULT_DECAY_AT))


def _deliver_alert(state: ScoreState, now: int) -> None:
    """As `leadscore.ledger.replay` does: the scorer publishes a new alert at once and empties the outbox
    (`alerts_sent` is a feature, and a pending alert changes how the next crossing is handled)."""
    if state.alert_pending is not None:
        state.alert_pending = None
        state.alerts_sent += 1
        state.last_alert_at = now


def build_examples(
    events: Iterable[LedgerEvent],
    model: CompiledModel,
    times: Sequence[int],
    *,
    horizon_days: int,
    progress: Callable[[int, int], None] | None = None,
) -> list[Example]:
    """Examples for every lead at every reference time it was open (seen, not yet accepted or rejected).

    `progress(done, leads)` is called after each lead (long ledgers take minutes).
    """
    by_lead: dict[str, list[LedgerEvent]] = defaultdict(list)
    outcome_events: list[LedgerEvent] = []
    for event in events:
        (outcome_events if event.type in OUTCOME_TYPES else by_lead[event.lead_id]).append(event)
    outcomes = lead_outcomes(outcome_events)
    horizon = horizon_days * DAY_SECONDS
    times = sorted(times)
    examples: list[Example] = []
    for done, lead_id in enumerate(sorted(by_lead), start=1):
        history = sorted(by_lead[lead_id], key=lambda event: event.occurred_at)
        outcome = outcomes.get(lead_id, LeadOutcome())
        closed = bisect_right(times, _closing_time(outcome))
        for moment, state in snapshots(history, model, times[:closed]):
            converted = outcome.converted_at
            examples.append(
                Example(
                    lead_id=lead_id,
                    at=moment,
                    features=lead_features(state, model, moment),
                    rule_total=float(state.total),
                    label=converted is not None and moment < converted <= moment + horizon,
                    converted_at=converted,
                )
            )
        if progress is not None:
            progress(done, len(by_lead))
    return examples


def _closing_time(outcome: LeadOutcome) -> int:
    """The last reference time at which the lead is still open: just before its first outcome."""
    times = [when for when in (outcome.converted_at, outcome.rejected_at) if when is not None]
    return min(times) - 1 if times else 2**62
