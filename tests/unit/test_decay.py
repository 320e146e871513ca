"""Decay: the math (half-lives, step penalties, inactivity, floor), stages recycling, alerts re-arming."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from leadscore.core.decay import NEVER, apply_decay, decay_due_day, epoch_day, yyyymmdd
from leadscore.core.rules import CompiledModel
from leadscore.core.state import ScoreState, Stage
from leadscore.models.model_files import ModelFileError, load_model_file
from leadscore.models.scoring_model import INACTIVITY_RULE
from tests.unit.builders import (
    DAY,
    DEFAULT_MODEL_FILE,
    MONDAY,
    a_form_event,
    a_model,
    a_page_view,
    an_email_event,
    an_engagement_rule,
    score,
    score_all,
    the_default_model,
)

PRICING = "https://www.example.com/pricing"


def decayed(state: ScoreState, model: CompiledModel, *days: float) -> ScoreState:
    """Run the decay job on each of `days` (days after MONDAY), in order."""
    for day in days:
        state = apply_decay(state, model, now=MONDAY + int(day * DAY)).state
    return state


def a_pricing_lead(model: CompiledModel | None = None) -> tuple[ScoreState, CompiledModel]:
    chosen = model or the_default_model()
    state, _ = score_all([a_page_view(PRICING, at=MONDAY)], chosen)  # pricing_interest: 10, half-life 14 days
    return state, chosen


def test_two_half_lives_leave_a_quarter_of_the_points() -> None:
    state, model = a_pricing_lead()
    after = decayed(state, model, 28)
    assert after.points["pricing_interest"] == Decimal("2.5")
    assert after.engagement == Decimal("2.5")
    assert after.fit == state.fit


def test_running_twice_the_same_day_changes_nothing_the_second_time() -> None:
    state, model = a_pricing_lead()
    once = apply_decay(state, model, now=MONDAY + 10 * DAY)
    twice = apply_decay(once.state, model, now=MONDAY + 10 * DAY + 3600)
    assert once.changed
    assert not twice.changed
    assert twice.state == once.state


def test_a_suppressed_lead_is_left_alone() -> None:
    model = the_default_model()
    state, _ = score_all([a_page_view(PRICING, at=MONDAY)], model)
    state.suppressed = True
    result = apply_decay(state, model, now=MONDAY + 100 * DAY)
    assert not result.changed
    assert result.state is state
    assert decay_due_day(state, model) == NEVER


def test_points_fade_from_the_rules_own_last_match() -> None:
    # Given pricing visits on day 0 and day 14
    model = the_default_model()
    state, _ = score_all([a_page_view(PRICING, at=MONDAY), a_page_view(PRICING, at=MONDAY + 14 * DAY)], model)

    # When decay first runs on day 28 / Then all 20 points count 14 days (from the latest match): halved
    assert decayed(state, model, 28).points["pricing_interest"] == Decimal(10)


def test_a_step_penalty_takes_points_each_period_after_the_quiet_days() -> None:
    # Given a newsletter signup (2 points; -1 every 30 days after 60 quiet days), no other decay
    model = a_model(
        engagement_rules=[an_engagement_rule("newsletter", 2, event="form_submitted")],
        decay={"rules": {"newsletter": {"after_days": 60, "points": -1, "every_days": 30}}},
    )
    state, _ = score_all([a_form_event(form_id="newsletter-signup", at=MONDAY)], model)

    # Then nothing before day 60, -1 on day 60, -2 by day 90, and never below zero
    assert decayed(state, model, 59).points.get("newsletter") == Decimal(2)
    assert decayed(state, model, 60).points.get("newsletter") == Decimal(1)
    assert "newsletter" not in decayed(state, model, 90).points
    assert decayed(state, model, 400).engagement >= 0


def test_inactivity_adds_negative_points_weekly_after_thirty_quiet_days_down_to_its_limit() -> None:
    # Given a lead with a demo request (40 points, half-life 90 days) and nothing since
    model = the_default_model()
    state, _ = score_all([a_form_event(form_id="demo-request", at=MONDAY)], model)

    # When the job runs on days 29, 30, 37, 58 and 200
    day29, day30, day37, day58, day200 = (decayed(state, model, day) for day in (29, 30, 37, 58, 200))

    # Then the penalty starts on day 30 and grows by 5 a week, to -20 at most, shown under its own id;
    # and once the demo request has faded, the floor (0) stops both
    assert INACTIVITY_RULE not in day29.points
    assert day30.points[INACTIVITY_RULE] == Decimal(-5)
    assert day37.points[INACTIVITY_RULE] == Decimal(-10)
    assert day58.points[INACTIVITY_RULE] == Decimal(-20)
    assert day200.engagement == Decimal(0)
    assert day200.points[INACTIVITY_RULE] >= Decimal(-20)


def test_activity_ends_the_inactivity_penalty() -> None:
    model = the_default_model()
    state, _ = score_all([a_form_event(form_id="demo-request", at=MONDAY)], model)
    quiet = decayed(state, model, 45)
    assert quiet.points[INACTIVITY_RULE] == Decimal(-15)

    result = score(a_page_view(PRICING, at=MONDAY + 45 * DAY + 60), model, quiet)

    assert INACTIVITY_RULE not in result.state.points
    assert result.state.engagement == quiet.engagement + 15 + 10


def test_an_sql_lead_that_goes_quiet_is_recycled_to_mql_and_re_armed_without_an_alert() -> None:
    # Given a sales-ready lead that was alerted (fit 55 + demo 40 + pricing 10 = 105)
    model = the_default_model()
    state, _ = score_all(
        [
            a_form_event(title="VP Engineering", size=250, industry="Software", country="GB", form_id="x", at=MONDAY),
            a_form_event(form_id="demo-request", at=MONDAY + 60),
            a_page_view(PRICING, at=MONDAY + 120),
        ],
        model,
    )
    assert state.stage is Stage.SQL
    state.alert_pending = None  # published
    state.alert_armed = False

    # When it stays quiet for ten weeks
    result = apply_decay(decayed(state, model, 7, 14, 28, 42, 56), model, now=MONDAY + 70 * DAY)
    after = result.state

    # Then it falls below the sales threshold: recycled to MQL, with the date; re-armed (below 60), no alert
    assert after.stage is Stage.MQL
    assert after.recycled_at is not None
    assert after.total < model.model.rearm_level
    assert after.alert_armed
    assert after.alert_pending is None


def test_automated_points_fade_by_their_rules_policy() -> None:
    # Given a real open and a machine open (worth 1 and 0.5; email opens halve every 10 days)
    model = a_model(
        engagement_rules=[an_engagement_rule("email_open", 1, event="email_opened", automated_points=0.5)],
        decay={"rules": {"email_open": {"half_life_days": 10}}},
    )
    state, _ = score_all([an_email_event(at=MONDAY), an_email_event(at=MONDAY + 60, automated="machine_open")], model)
    assert state.points == {"email_open": Decimal(1), "email_open:automated": Decimal("0.5")}

    # When the job runs ten days later
    after = decayed(state, model, 10)

    # Then both halved, shown apart as before
    assert abs(after.points["email_open"] - Decimal("0.5")) <= Decimal("0.00001")
    assert abs(after.points["email_open:automated"] - Decimal("0.25")) <= Decimal("0.00001")
    assert after.engagement == after.points["email_open"] + after.points["email_open:automated"]


def test_a_lead_below_a_floor_it_never_reached_is_not_raised_to_it() -> None:
    # Given a lead whose engagement (1) is already below the model's floor (2), with an inactivity penalty due
    model = a_model(
        engagement_rules=[an_engagement_rule("visit", 1, event="page_viewed")],
        decay={"floor": 2, "inactivity": {"after_days": 1, "points": -1, "every_days": 1}},
    )
    state, _ = score_all([a_page_view(at=MONDAY)], model)

    # When the job runs a week later
    result = apply_decay(state, model, now=MONDAY + 7 * DAY)

    # Then nothing changed: decay neither lowers it further nor lifts it to the floor
    assert not result.changed
    assert result.state.engagement == Decimal(1)
    assert result.state.points == state.points
    assert decay_due_day(result.state, model) == NEVER


def test_decay_never_takes_engagement_below_the_floor() -> None:
    model = a_model(
        engagement_rules=[an_engagement_rule("visit", 10, event="page_viewed")],
        decay={"floor": 4, "default": {"half_life_days": 1}, "inactivity": {"after_days": 1, "points": -5}},
    )
    state, _ = score_all([a_page_view(at=MONDAY)], model)
    after = decayed(state, model, 30)
    assert after.engagement == Decimal(4)
    assert sum(after.points.values()) == Decimal(4)
    assert decay_due_day(after, model) == NEVER


def test_the_next_due_day_follows_the_policy() -> None:
    # Half-life: every day; step only: the day the next step is owed
    state, model = a_pricing_lead()
    after = decayed(state, model, 3)
    assert decay_due_day(after, model) == yyyymmdd(epoch_day(MONDAY) + 4)
    steps = a_model(
        engagement_rules=[an_engagement_rule("visit", 10, event="page_viewed")],
        decay={"rules": {"visit": {"after_days": 30, "points": -2, "every_days": 7}}},
    )
    state, _ = score_all([a_page_view(at=MONDAY)], steps)
    assert decay_due_day(state, steps) == yyyymmdd(epoch_day(MONDAY) + 30)
    assert decay_due_day(decayed(state, steps, 30), steps) == yyyymmdd(epoch_day(MONDAY) + 37)


@pytest.mark.parametrize(
    ("decay", "problem"),
    [
        ({"rules": {"exec_title": {"half_life_days": 5}}}, "fit rules never decay"),
        ({"rules": {"nope": {"half_life_days": 5}}}, "no engagement rule"),
        ({"rules": {"visit": {"half_life_days": 0}}}, "greater than 0"),
        ({"rules": {"visit": {"after_days": 3, "points": 5}}}, "less than 0"),
        ({"rules": {"visit": {"half_life_days": -14}}}, "greater than 0"),
        ({"default": {"after_days": 0, "points": -5}}, "greater than or equal to 1"),
        ({"inactivity": {"after_days": 30, "points": -5, "limit": 5}}, "less than 0"),
    ],
)
def test_invalid_decay_policies_are_refused(decay: dict[str, object], problem: str) -> None:
    from pydantic import ValidationError  # noqa: PLC0415

    with pytest.raises(ValidationError, match=problem):
        a_model(
            fit_rules=[{"id": "exec_title", "when": [{"field": "job_title", "exists": True}], "points": 5}],
            engagement_rules=[an_engagement_rule("visit", 10, event="page_viewed")],
            decay=decay,
        )


@pytest.mark.parametrize(
    ("written", "mistake", "reported", "other_kind"),
    [
        (
            "pricing_interest: { half_life_days: 14 }",
            "pricing_interest: { half_life_days: -14 }",
            "decay.rules.pricing_interest.half_life_days: Input should be greater than 0",
            "after_days",
        ),
        (
            "default: { half_life_days: 30 }",
            "default: { after_days: 30, points: 5 }",
            "decay.default.points: Input should be less than 0",
            "half_life",
        ),
    ],
)
def test_a_bad_decay_policy_in_a_model_file_is_reported_at_its_yaml_path(
    tmp_path: Path, written: str, mistake: str, reported: str, other_kind: str
) -> None:
    # Given the shipped model with one decay policy made invalid (a negative half-life, a penalty that adds)
    text = DEFAULT_MODEL_FILE.read_text()
    assert written in text
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace(written, mistake))

    # When it is loaded / Then the error is at the path as written, naming only the kind of policy meant
    with pytest.raises(ModelFileError) as error:
        load_model_file(path)
    assert reported in str(error.value)
    assert other_kind not in str(error.value)


def test_the_inactivity_rule_id_is_reserved() -> None:
    from pydantic import ValidationError  # noqa: PLC0415

    with pytest.raises(ValidationError, match="reserved"):
        a_model(engagement_rules=[an_engagement_rule("inactivity", 1, event="page_viewed")])
