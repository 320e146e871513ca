"""DecayService with the in-memory store: only due leads are read, races are retried, big segments continue."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from leadscore.adapters.memory import InMemoryLeadStore
from leadscore.adapters.ports import WriteResult
from leadscore.core.state import ScoreState
from leadscore.services.decay import SHARDS, DecaySegment, DecayService
from tests.unit.builders import DAY, MONDAY, a_page_view, a_scoring_rig, the_default_model

PRICING = "https://www.example.com/pricing"


def a_store_with_leads(count: int, *, at: int = MONDAY) -> InMemoryLeadStore:
    rig = a_scoring_rig()
    for index in range(count):
        rig.service.process(a_page_view(PRICING, email=f"lead{index}@corp.example", at=at))
    return rig.store


def run_all(service: DecayService, now: int, time_left: float = 300) -> tuple[int, int, int]:
    read = written = continuations = 0
    for planned in service.plan(now):
        segment: DecaySegment | None = planned
        while segment is not None:
            report = service.run(segment, lambda: time_left)
            read, written = read + report.read, written + report.written
            continuations += report.continuation is not None
            segment = report.continuation
    return read, written, continuations


def test_a_run_is_one_segment_per_model_and_shard() -> None:
    service = DecayService(store=InMemoryLeadStore(), models=[the_default_model()])
    segments = service.plan(MONDAY)
    assert [(s.model_id, s.shard) for s in segments] == [("default", shard) for shard in range(SHARDS)]
    assert {s.now for s in segments} == {MONDAY}


def test_only_due_leads_are_read_and_a_second_run_the_same_day_reads_nothing() -> None:
    # Given 30 leads with points, and 10 of them suppressed
    store = a_store_with_leads(30)
    for state in list(store.scores.values())[:10]:
        state.suppressed = True
    service = DecayService(store=store, models=[the_default_model()])

    # When the job runs 10 days later, twice
    first = run_all(service, MONDAY + 10 * DAY)
    second = run_all(service, MONDAY + 10 * DAY + 600)

    # Then the 20 decayable leads were read and written once; the rerun found nothing due
    assert first[:2] == (20, 20)
    assert second[:2] == (0, 0)


def test_a_segment_short_of_time_hands_the_rest_to_a_continuation() -> None:
    # Given many due leads and pages of 5
    store = a_store_with_leads(60)
    service = DecayService(store=store, models=[the_default_model()], page_size=5)

    # When every invocation is always short of time / Then segments continue, and every lead is still done once
    read, written, continuations = run_all(service, MONDAY + 10 * DAY, time_left=1)
    assert (read, written) == (60, 60)
    assert continuations > 0


@dataclass
class RacingStore(InMemoryLeadStore):
    """The first save of each lead loses to an event that lands just before it."""

    raced: set[str] = field(default_factory=set)

    def save(self, state: ScoreState, expected_version: int) -> WriteResult:
        if state.lead_id not in self.raced and expected_version:
            self.raced.add(state.lead_id)
            current = self.scores[(state.lead_id, state.model_id)]
            current.points["pricing_interest"] += Decimal(10)  # what the event's fast path adds
            current.engagement += 10
            current.total += 10
            current.version += 1
        return super().save(state, expected_version)


def test_a_write_that_loses_a_race_is_recomputed_from_the_new_state() -> None:
    # Given a lead whose decay write is beaten by an event
    base = a_store_with_leads(1)
    store = RacingStore(scores=base.scores)
    service = DecayService(store=store, models=[the_default_model()])

    # When the job runs two half-lives after the first visit
    run_all(service, MONDAY + 28 * DAY)

    # Then both count: the event's 10 points and the first visit's, faded together (20 x 1/4)
    [state] = store.scores.values()
    assert abs(state.points["pricing_interest"] - Decimal(5)) <= Decimal("0.00003")  # one rounding a day
    assert state.engagement == state.points["pricing_interest"]


def test_a_lead_active_today_is_read_but_not_written_just_to_move_its_due_day() -> None:
    # Given leads active today (due from today in the index: their last activity day)
    store = a_store_with_leads(5)
    service = DecayService(store=store, models=[the_default_model()])

    # When the job runs the same day
    read, written, _ = run_all(service, MONDAY + 600)

    # Then there was nothing to decay, and no write: they are due tomorrow anyway
    assert (read, written) == (5, 0)
