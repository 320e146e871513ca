"""The fast path's conditions at their edges: each one decides between the blind write and the exact path."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from leadscore.core.fast_path import plan_fast_path
from leadscore.core.scoring import facts_from_event, score_event
from leadscore.core.state import SEEN_MAX, ScoreState, Stage
from leadscore.models.events import EventType, LeadEvent
from tests.unit.builders import (
    DAY,
    LEASE_SECONDS,
    MONDAY,
    a_form_event,
    a_model,
    a_page_view,
    an_email_event,
    score,
    score_all,
    the_default_model,
)


def fast_result(event: LeadEvent, state: ScoreState, model=None) -> ScoreState | None:  # type: ignore[no-untyped-def]
    """The state the blind write gives, checked against the exact path; None when the plan does not apply."""
    model = model or the_default_model()
    facts = facts_from_event(event)
    plan = plan_fast_path(facts, model, now=MONDAY + DAY)
    if plan is None or not plan.applies_to(state):
        return None
    applied = plan.apply(state)
    assert applied == score_event(facts, model, state, now=plan.now, alert_lease_seconds=LEASE_SECONDS).state
    return applied


def a_lead_with(*events: LeadEvent) -> ScoreState:
    state, _ = score_all(
        [a_form_event(title="Engineer", form_id="other", at=MONDAY - 60), *events], the_default_model()
    )
    return state


def test_a_new_lead_never_takes_the_fast_path() -> None:
    # Given a lead with no score item / When an open arrives / Then the plan needs an existing item
    model = the_default_model()
    plan = plan_fast_path(facts_from_event(an_email_event()), model, now=MONDAY)
    assert plan is not None
    assert not plan.applies_to(replace(score_all([], model)[0]))


def test_the_cap_decides_up_to_the_last_point_of_room() -> None:
    # Given two opens today (cap 3 per day)
    state = a_lead_with(an_email_event(at=MONDAY), an_email_event(at=MONDAY + 1))

    # When a third and then a fourth arrive
    third = fast_result(an_email_event(at=MONDAY + 2), state)
    assert third is not None
    fourth = fast_result(an_email_event(at=MONDAY + 3), third)

    # Then the third is fast (room for 1), the fourth is not (the exact path awards 0)
    assert third.caps["email_open"] == {"261123": 3}
    assert fourth is None


def test_the_first_capped_hit_of_a_new_period_starts_its_own_counter_on_the_fast_path() -> None:
    # Given an open yesterday (one counter per period, so nothing needs resetting)
    state = a_lead_with(an_email_event(at=MONDAY))

    # When one arrives today
    today = fast_result(an_email_event(at=MONDAY + DAY), state)

    # Then it is fast and today's counter starts beside yesterday's
    assert today is not None
    assert today.caps["email_open"] == {"261123": 1, "261124": 1}


def test_a_late_event_goes_exact() -> None:
    # Given activity at 10:00 / When an 09:00 event arrives afterwards / Then it goes exact
    state = a_lead_with(a_page_view("https://x.example/docs"), an_email_event(at=MONDAY + 3600))
    assert fast_result(an_email_event(at=MONDAY + 60), state) is None


def test_the_seen_list_must_have_room_to_grow_without_trimming() -> None:
    # Given a lead whose seen list is one short of SEEN_MAX, and one two short
    state = a_lead_with(a_page_view("https://x.example/pricing"))
    full = replace(state, seen=[f"f{i:05d}" for i in range(SEEN_MAX - 1)])
    room = replace(state, seen=[f"f{i:05d}" for i in range(SEEN_MAX - 2)])

    # When a pricing view arrives / Then only the one with room takes the fast path
    view = a_page_view("https://x.example/pricing", at=MONDAY + 60)
    assert fast_result(view, full) is None
    assert fast_result(view, room) is not None


def test_a_threshold_crossing_goes_exact_and_staying_on_one_side_does_not() -> None:
    # Given a lead at 40 under the small model (mql 20, sql 50, re-arm level 40)
    model = a_model()
    state, _ = score_all(
        [a_form_event(form_id="paper"), a_form_event(form_id="paper"), a_form_event(form_id="demo")], model
    )
    assert state.total == 40

    # When +5 (to 45, still MQL) and +30 (to 70, SQL) arrive
    small = fast_result(a_form_event(form_id="paper", at=MONDAY + 1), state, model)
    big = fast_result(a_form_event(form_id="demo", at=MONDAY + 1), state, model)

    # Then the small step is fast and the crossing is exact
    assert small is not None
    assert small.total == 45
    assert small.stage is Stage.MQL
    assert big is None


def test_a_pending_alert_forces_the_exact_path() -> None:
    # Given a lead with an alert not yet published
    model = a_model()
    state, _ = score_all([a_form_event(form_id="demo"), a_form_event(form_id="demo")], model)
    assert state.alert_pending is not None

    # When a small event arrives / Then it goes exact (the outbox must be looked at)
    assert fast_result(a_form_event(form_id="paper", at=MONDAY + 1), state, model) is None


def test_repeated_attributes_are_fast_and_new_ones_are_not() -> None:
    # Given a lead who told us they are a CTO at a 300-person company
    told = {"title": "CTO", "size": 300}
    state = a_lead_with(a_form_event(form_id="other", at=MONDAY, **told))  # type: ignore[arg-type]

    # When the same answers come again, and then different ones
    same = fast_result(a_form_event(form_id="whitepaper-download", at=MONDAY + 60, **told), state)  # type: ignore[arg-type]
    other = fast_result(a_form_event(form_id="whitepaper-download", at=MONDAY + 60, title="CFO", size=300), state)

    # Then the repeat is fast, the change is exact (fit must be recomputed)
    assert same is not None
    assert same.engagement == state.engagement + 5
    assert other is None


def test_a_rule_worth_more_than_its_cap_has_no_plan() -> None:
    # Given opens worth 5 with a cap of 3 per day
    model = a_model(
        engagement_rules=[
            {"id": "email_open", "points": 5, "event": "email_opened", "cap": {"points": 3, "per": "day"}}
        ]
    )

    # When an open is planned / Then there is no blind write for it
    assert plan_fast_path(facts_from_event(an_email_event()), model, now=MONDAY) is None


def test_an_event_nobody_scores_has_no_plan() -> None:
    # Given a delivery with no attributes / Then there is nothing to write
    plan = plan_fast_path(facts_from_event(an_email_event(EventType.EMAIL_DELIVERED)), the_default_model(), now=MONDAY)
    assert plan is None


def test_rising_through_the_rearm_level_stays_fast_and_falling_through_it_goes_exact() -> None:
    # Given an armed lead at 35 (re-arm level 40, sales threshold 50)
    model = a_model()
    state, _ = score_all([a_form_event(form_id="paper"), a_form_event(form_id="demo")], model)

    # When +5 takes it to exactly 40 / Then nothing but the total changes: the fast path applies
    rising = fast_result(a_form_event(form_id="paper", at=MONDAY + 1), state, model)
    assert rising is not None
    assert rising.total == 40

    # Given an alerted (disarmed) lead that has since fallen to 45: MQL, still above the re-arm level
    alerted, _ = score_all([a_form_event(form_id="demo"), a_form_event(form_id="demo", at=MONDAY + 1)], model)
    cooled = replace(alerted, alert_pending=None, engagement=Decimal(45), total=Decimal(45), stage=Stage.MQL)
    assert not cooled.alert_armed

    # When -20 takes it to 25: no stage threshold is crossed, only the re-arm level
    bounce = an_email_event(EventType.EMAIL_BOUNCED, at=MONDAY + 2)

    # Then only the exact path may apply it, because it re-arms the lead
    assert fast_result(bounce, cooled, model) is None
    assert score(bounce, model, cooled).state.alert_armed
