"""Replay: the pure core, in occurred_at order with the daily decay runs, gives what the services stored."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.adapters.memory import InMemoryLeadStore
from leadscore.core.identity import lead_id_for
from leadscore.core.rules import CompiledModel
from leadscore.core.state import ScoreState, Stage
from leadscore.ledger.records import LedgerEvent, to_json_line
from leadscore.ledger.replay import DEFAULT_DECAY_AT, events_from_ledger, last_run_at, replay
from leadscore.models.events import EventType, LeadEvent
from leadscore.services.decay import DecayService
from tests.unit.builders import (
    DAY,
    HOUR,
    MONDAY,
    PEPPER,
    FakeClock,
    a_form_event,
    a_lead_event,
    a_page_view,
    a_scoring_rig,
    an_email_event,
    the_default_model,
)

RUN = 2 * HOUR + 15 * 60  # the decay job's daily time (template default)


def comparable(state: ScoreState) -> tuple[object, ...]:
    """What a lead's score is: totals, stage, the per-rule breakdown and what drives decay next."""
    return (
        state.fit, state.engagement, state.total, state.stage, state.points, state.hits, state.rule_days,
        state.attributes, state.last_activity_at, state.suppressed, state.alerts_sent,
    )  # fmt: skip


def run_decay_job(store: InMemoryLeadStore, models: tuple[CompiledModel, ...], now: int) -> None:
    job = DecayService(store, models)
    for segment in job.plan(now):
        job.run(segment, time_left=lambda: 900.0)


def an_event_of(kind: int, email: str, at: int) -> LeadEvent:
    """A menu of events the default model scores differently (and some it ignores)."""
    menu = [
        lambda: a_form_event(email=email, at=at, form_id="demo-request", title="VP Engineering", size=250),
        lambda: a_form_event(email=email, at=at, form_id="newsletter-signup", title="Student"),
        lambda: a_page_view("https://x.example/pricing", email=email, at=at),
        lambda: a_page_view("https://x.example/product", email=email, at=at),
        lambda: a_page_view("https://x.example/jobs", email=email, at=at),  # matches no rule
        lambda: an_email_event(EventType.EMAIL_OPENED, email=email, at=at),
        lambda: an_email_event(EventType.EMAIL_CLICKED, email=email, at=at, link_url="https://x.example/pricing"),
        lambda: an_email_event(EventType.EMAIL_OPENED, email=email, at=at, automated=True),
        lambda: an_email_event(EventType.EMAIL_BOUNCED, email=email, at=at, bounce_type="hard"),
        lambda: a_lead_event(EventType.SALES_ACCEPTED, email=email, at=at),
    ]
    return menu[kind % len(menu)]()


def play_through_services(schedule: list[tuple[int, int, int]]) -> tuple[list[LeadEvent], InMemoryLeadStore, int]:
    """Feed (gap in hours, lead, kind) through the real ScoringService, running the decay job at 02:15 daily."""
    clock = FakeClock(MONDAY)
    rig = a_scoring_rig(clock=clock)
    events: list[LeadEvent] = []
    for gap_hours, lead, kind in schedule:
        target = clock.now + gap_hours * HOUR
        while (next_run := last_run_at(clock.now, DEFAULT_DECAY_AT) + DAY) <= target:
            clock.now = next_run
            run_decay_job(rig.store, rig.models, next_run)
        clock.now = target
        event = an_event_of(kind, f"lead{lead}@example.com", clock.now)
        rig.service.process(event)
        events.append(event)
    return events, rig.store, clock.now


def test_last_run_is_the_latest_0215_at_or_before_the_moment() -> None:
    day = MONDAY - 9 * HOUR  # 2026-11-23 00:00 UTC
    assert last_run_at(day + RUN, DEFAULT_DECAY_AT) == day + RUN
    assert last_run_at(day + RUN - 1, DEFAULT_DECAY_AT) == day - DAY + RUN
    assert last_run_at(day + 23 * HOUR, DEFAULT_DECAY_AT) == day + RUN


def test_replay_of_a_quiet_lead_equals_the_stored_score_after_weeks_of_decay() -> None:
    # Given a lead that requested a demo and viewed pricing, then went quiet for 40 days of daily decay runs
    schedule = [(0, 1, 0), (2, 1, 2), (1, 1, 6), (40 * 24, 1, 4)]
    events, store, _ = play_through_services(schedule)
    lead = lead_id_for("lead1@example.com", PEPPER)

    # When the events are replayed
    result = replay(reversed(events), [the_default_model()], pepper=PEPPER)

    # Then the replayed score equals the stored one, decayed exactly as far
    stored = store.scores[(lead, "default")]
    assert stored.engagement < 60  # decay did happen
    assert comparable(result.states[(lead, "default")]) == comparable(stored)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from([0, 1, 3, 20, 30, 24 * 6, 24 * 31]), st.integers(0, 2), st.integers(0, 9)),
        min_size=1,
        max_size=25,
    )
)
def test_replay_equals_what_the_scorer_and_the_decay_job_stored(schedule: list[tuple[int, int, int]]) -> None:
    # Given three leads' events scored by the service, with the decay job running every day in between
    events, store, end = play_through_services(schedule)

    # When the same events are replayed (in the order recorded: ties in occurred_at keep it), up to that moment
    result = replay(events, [the_default_model()], pepper=PEPPER, until=datetime.fromtimestamp(end, UTC))

    # Then every lead's replayed score is exactly the stored one (and no other lead exists)
    assert result.states.keys() == store.scores.keys()
    for key, stored in store.scores.items():
        assert comparable(result.states[key]) == comparable(stored), key


def test_replaying_the_ledger_equals_replaying_the_events() -> None:
    # Given events of two leads, and the ledger a replay writes for them
    schedule = [(0, 1, 0), (1, 2, 1), (3, 1, 2), (24 * 6, 2, 3), (30, 1, 7)]
    events, _, _ = play_through_services(schedule)
    first = replay(events, [the_default_model()], pepper=PEPPER)
    lines = [to_json_line(record) for record in first.records]

    # When the ledger lines are replayed (each twice, as an at-least-once ledger may hold them)
    again = replay(events_from_ledger(lines + lines), [the_default_model()], pepper=PEPPER)

    # Then the states and the records are the same
    assert {k: comparable(v) for k, v in again.states.items()} == {k: comparable(v) for k, v in first.states.items()}
    assert again.records == first.records
    assert len(first.records) == len(events)  # one per event and model
    assert all(isinstance(event, LedgerEvent) for event in events_from_ledger(lines))


def test_records_say_what_each_event_did() -> None:
    # Given a demo request by a VP (fit 40, +40: SQL), a pricing view (+10) and a page no rule scores
    lead = "lead1@example.com"
    events = [
        a_form_event(email=lead, at=MONDAY, form_id="demo-request", title="VP Engineering", size=250),
        a_page_view("https://x.example/pricing", email=lead, at=MONDAY + HOUR),
        a_page_view("https://x.example/jobs", email=lead, at=MONDAY + 2 * HOUR),
    ]

    # When replayed
    records = replay(events, [the_default_model()], pepper=PEPPER).records

    # Then each record carries its hits, totals after and the stage move
    demo, pricing, jobs = records
    assert [(hit.rule, hit.points) for hit in demo.hits] == [("demo_request", 40.0)]
    assert (demo.stage_before, demo.stage, demo.result) == (Stage.LEAD.value, Stage.SQL.value, "applied")
    assert pricing.total == demo.total + 10
    assert pricing.stage == "SQL"
    assert (jobs.result, jobs.hits, jobs.total) == ("no_op", (), pricing.total)
