"""Decay properties (hypothesis): random decay policies, random activity, random run schedules.

What must hold for every model and every lead: decay is monotone in time, never below the floor (and never
raises engagement), two half-lives leave a quarter, fit never changes, a second run on the same day changes
nothing, suppressed leads are untouched, and catching up after missed runs gives the daily runs' result.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.core.decay import NEVER, POINT_PLACES, apply_decay, decay_due_day, epoch_day, yyyymmdd
from leadscore.core.rules import CompiledModel
from leadscore.core.state import STAGE_ORDER, ScoreState
from leadscore.models.events import LeadEvent
from tests.unit.builders import (
    DAY,
    MONDAY,
    a_form_event,
    a_model,
    a_page_view,
    an_email_event,
    score_all,
    the_default_model,
)

PROPERTY_SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# The engagement rules of `a_model` (tests/unit/builders.py) that give positive points, and an event for each.
EVENTS = {
    "demo_request": lambda at: a_form_event(form_id="demo", at=at),
    "whitepaper": lambda at: a_form_event(form_id="paper", at=at),
    "email_open": lambda at: an_email_event(at=at),
    "email_click": lambda at: an_email_event("email_clicked", at=at),
    "product_page": lambda at: a_page_view("https://www.example.com/product", at=at),
    "pricing_page": lambda at: a_page_view("https://www.example.com/pricing", at=at),
    "blog": lambda at: a_page_view("https://www.example.com/blog", at=at),
}
FIT_EVENT = {"title": "VP Engineering", "size": 250}  # fit 30 in `a_model`

half_lives = st.builds(lambda days: {"half_life_days": days}, st.integers(1, 120) | st.sampled_from([0.5, 2.5, 7.5]))
step_penalties = st.builds(
    lambda after, points, every: {"after_days": after, "points": points, "every_days": every},
    st.integers(1, 60),
    st.integers(-1000, -1).map(lambda cents: cents / 100),
    st.integers(1, 30),
)
rule_policies = half_lives | step_penalties


@st.composite
def decay_policies(draw: st.DrawFn) -> dict[str, Any]:
    policy: dict[str, Any] = {
        "floor": draw(st.integers(-10, 10)),
        "rules": draw(st.dictionaries(st.sampled_from(sorted(EVENTS)), rule_policies, max_size=4)),
    }
    if draw(st.booleans()):
        policy["default"] = draw(rule_policies)
    if draw(st.booleans()):
        inactivity = dict(draw(step_penalties))
        if draw(st.booleans()):
            inactivity["limit"] = draw(st.integers(-60, -1))
        policy["inactivity"] = inactivity
    return policy


activity = st.lists(st.tuples(st.sampled_from(sorted(EVENTS)), st.integers(0, 30)), min_size=1, max_size=10)


@dataclass(frozen=True)
class Lead:
    """A lead scored under a random decay policy; printed as what was drawn when a property fails."""

    decay: dict[str, Any]
    fit: bool
    activity: list[tuple[str, int]]  # (rule, day after MONDAY), in order

    @cached_property
    def model(self) -> CompiledModel:
        return a_model(decay=self.decay)

    @property
    def state(self) -> ScoreState:  # a fresh copy each time: a test may change it
        events: list[LeadEvent] = []
        if self.fit:
            events.append(a_form_event(form_id="contact", at=MONDAY, **FIT_EVENT))  # type: ignore[arg-type]
        events += [EVENTS[rule](MONDAY + day * DAY + 60 + i) for i, (rule, day) in enumerate(self.activity)]
        state, _ = score_all(events, self.model)
        return state

    @property
    def last_active(self) -> int:
        return self.activity[-1][1]


@st.composite
def quiet_leads(draw: st.DrawFn) -> Lead:
    return Lead(draw(decay_policies()), draw(st.booleans()), sorted(draw(activity), key=lambda item: item[1]))


def run_on(state: ScoreState, model: CompiledModel, days: list[int]) -> ScoreState:
    """The decay job on each of `days` (days after MONDAY, at the same time of day), in order."""
    for day in days:
        state = apply_decay(state, model, now=MONDAY + day * DAY).state
    return state


@PROPERTY_SETTINGS
@given(lead=quiet_leads(), first=st.integers(0, 200), gap=st.integers(0, 400))
def test_decay_is_monotone_in_time_and_stays_between_the_floor_and_where_it_started(
    lead: Lead, first: int, gap: int
) -> None:
    # Given a lead that has been quiet since its last activity
    state, model = lead.state, lead.model
    floor = model.model.decay.floor

    # When the job runs once, and once more later (and, separately, only at the later date)
    earlier = run_on(state, model, [first])
    later = run_on(earlier, model, [first + gap])
    only_later = run_on(state, model, [first + gap])

    # Then engagement only goes down with time, never below the floor, never up; fit never moves
    assert later.engagement <= earlier.engagement <= state.engagement
    assert only_later.engagement <= earlier.engagement
    assert later.engagement >= min(floor, state.engagement)
    assert later.fit == earlier.fit == state.fit
    assert later.total == later.fit + later.engagement
    assert later.engagement == sum(later.points.values()) - later.fit
    # and stages only move down, without raising an alert; a disarmed lead is never below the re-arm level
    assert STAGE_ORDER[later.stage] <= STAGE_ORDER[state.stage]
    assert later.alert_pending == state.alert_pending
    assert later.alert_armed or later.total >= model.model.rearm_level


@PROPERTY_SETTINGS
@given(
    points=st.integers(5, 100_000).map(lambda cents: Decimal(cents) / 100),
    half_life=st.integers(1, 365),
    runs=st.sets(st.integers(1, 729), max_size=20),
)
def test_two_half_lives_leave_a_quarter_of_the_points_however_often_the_job_ran(
    points: Decimal, half_life: int, runs: set[int]
) -> None:
    # Given a rule worth `points` that halves every `half_life` days, no floor in the way
    model = a_model(
        engagement_rules=[{"id": "visit", "points": points, "event": "page_viewed", "when": []}],
        decay={"floor": -1000, "rules": {"visit": {"half_life_days": half_life}}},
    )
    state, _ = score_all([a_page_view(at=MONDAY)], model)

    # When the job ran on some days before day 2 x half-life, and on that day
    after = run_on(state, model, [*sorted(day for day in runs if day < 2 * half_life), 2 * half_life])

    # Then a quarter is left, up to the stored precision (one rounding per day, each under half a unit)
    quarter = points / 4
    assert abs(after.engagement - quarter) <= POINT_PLACES * half_life


@PROPERTY_SETTINGS
@given(lead=quiet_leads(), horizon=st.integers(1, 400), missed=st.sets(st.integers(1, 399), max_size=200))
def test_catching_up_after_missed_runs_equals_running_every_day(lead: Lead, horizon: int, missed: set[int]) -> None:
    # Given a quiet lead; one job runs every day, the other misses some days
    state, model, last_active = lead.state, lead.model, lead.last_active
    days = list(range(last_active, last_active + horizon + 1))

    # When both have run on the last day
    daily = run_on(state, model, days)
    patchy = run_on(state, model, [day for day in days if day - last_active not in missed or day == days[-1]])

    # Then they agree exactly: same engagement, points, stage, alert and next due day
    assert patchy.engagement == daily.engagement
    assert patchy.total == daily.total
    assert patchy.stage is daily.stage
    assert patchy.alert_armed is daily.alert_armed
    assert patchy.decay_due == daily.decay_due
    assert patchy.points == daily.points  # on the floor too: the last cut is shared as on the day it came


@PROPERTY_SETTINGS
@given(lead=quiet_leads(), day=st.integers(0, 400), seconds=st.integers(0, DAY - 1))
def test_a_second_run_on_the_same_day_changes_nothing(lead: Lead, day: int, seconds: int) -> None:
    # Given the job already ran today
    state, model = lead.state, lead.model
    once = apply_decay(state, model, now=MONDAY + day * DAY)

    # When it runs again later the same UTC day
    again_at = (epoch_day(MONDAY + day * DAY) * DAY) + seconds
    twice = apply_decay(once.state, model, now=again_at)

    # Then nothing changes, and nothing says it did
    assert not twice.changed
    assert twice.state == once.state
    assert twice.points_removed == 0
    assert not twice.rearmed


@PROPERTY_SETTINGS
@given(lead=quiet_leads(), day=st.integers(0, 400))
def test_a_suppressed_lead_is_never_touched_nor_due(lead: Lead, day: int) -> None:
    # Given a suppressed lead
    state, model = lead.state, lead.model
    state.suppressed = True

    # When the job runs on it anyway
    result = apply_decay(state, model, now=MONDAY + day * DAY)

    # Then it is returned as it was, and the index never needs it
    assert result.state is state
    assert not result.changed
    assert decay_due_day(state, model) == NEVER


@PROPERTY_SETTINGS
@given(lead=quiet_leads(), day=st.integers(0, 400))
def test_the_due_day_is_never_later_than_the_next_change(lead: Lead, day: int) -> None:
    # Given the state the job left on some day, and the day it says the lead is due again
    state, model = lead.state, lead.model
    after = run_on(state, model, [day])
    due = after.decay_due
    assert due is not None

    # When the job would run on every day before that (the index does not return the lead)
    skipped = [d for d in range(day + 1, day + 400) if yyyymmdd(epoch_day(MONDAY + d * DAY)) < due]

    # Then none of those runs would have changed anything: skipping the lead loses no decay
    for skipped_day in skipped[:60]:
        assert not apply_decay(after, model, now=MONDAY + skipped_day * DAY).changed


# The shipped model (scoring/default.yaml), with its own events: the policy users start from.
DEFAULT_EVENTS = {
    "pricing": lambda at: a_page_view("https://www.example.com/pricing", at=at),
    "demo": lambda at: a_form_event(form_id="demo-request", at=at),
    "open": lambda at: an_email_event(at=at),
    "newsletter": lambda at: a_form_event(form_id="newsletter-signup", at=at),
    "webinar": lambda at: a_form_event(form_id="webinar-registration", at=at),
}
default_activity = st.lists(st.tuples(st.sampled_from(sorted(DEFAULT_EVENTS)), st.integers(0, 20)), min_size=1)


@PROPERTY_SETTINGS
@given(items=default_activity, horizon=st.integers(1, 200), missed=st.sets(st.integers(1, 199), max_size=100))
def test_with_the_default_model_catching_up_equals_daily_runs_and_decay_only_goes_down(
    items: list[tuple[str, int]], horizon: int, missed: set[int]
) -> None:
    # Given a lead of the shipped model, quiet after its last activity
    model = the_default_model()
    ordered = sorted(items, key=lambda item: item[1])
    events = [DEFAULT_EVENTS[kind](MONDAY + day * DAY + i) for i, (kind, day) in enumerate(ordered)]
    state, _ = score_all(events, model)
    days = list(range(ordered[-1][1], ordered[-1][1] + horizon + 1))

    # When one job runs daily and another misses some days
    daily = run_on(state, model, days)
    patchy = run_on(state, model, [day for day in days if day - days[0] not in missed or day == days[-1]])

    # Then both store the same, and decay only took points away, down to the floor at most
    assert patchy.points == daily.points
    assert (patchy.engagement, patchy.stage, patchy.decay_due) == (daily.engagement, daily.stage, daily.decay_due)
    assert min(model.model.decay.floor, state.engagement) <= daily.engagement <= state.engagement
    assert daily.fit == state.fit
