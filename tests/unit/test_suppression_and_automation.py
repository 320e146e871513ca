"""Suppression (hard bounce, complaint, unsubscribe) and automated activity (machine opens, scanner clicks)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from leadscore.core.fast_path import plan_fast_path
from leadscore.core.rules import automated_rule_id
from leadscore.models.events import EventType
from tests.unit.builders import (
    DAY,
    MONDAY,
    a_form_event,
    a_model,
    an_email_event,
    an_engagement_rule,
    facts,
    score,
    score_all,
    the_default_model,
)

SALES_READY = [
    a_form_event(title="VP Engineering", size=250, industry="Software", country="GB", form_id="other"),
    a_form_event(form_id="demo-request", at=MONDAY + 60),
]


def test_machine_opens_score_nothing_by_default_but_show_in_the_breakdown() -> None:
    # Given the default model (email_open is worth 1)
    model = the_default_model()

    # When a lead has one human open and three machine opens
    state, _ = score_all(
        [
            an_email_event(at=MONDAY),
            *(an_email_event(at=MONDAY + 60 * i, automated="machine_open") for i in range(1, 4)),
        ],
        model,
    )

    # Then only the human open counts, and the machine opens are listed apart with 0 points
    assert state.engagement == Decimal(1)
    assert state.points.get("email_open") == Decimal(1)
    assert state.hits[automated_rule_id("email_open")] == 3
    assert state.points.get(automated_rule_id("email_open"), Decimal(0)) == Decimal(0)
    assert automated_rule_id("email_open") in model.descriptions
    assert automated_rule_id("email_open") not in state.rule_days  # not "recent activity" for sales or decay


def test_scanner_clicks_do_not_count_as_activity() -> None:
    # Given a lead whose last real activity was Monday
    model = the_default_model()
    state, _ = score_all([an_email_event(EventType.EMAIL_CLICKED, at=MONDAY, link_url="https://x.example/a")], model)

    # When a link scanner clicks two days later
    result = score(
        an_email_event(
            EventType.EMAIL_CLICKED, at=MONDAY + 2 * DAY, link_url="https://x.example/b", automated="link_scanner"
        ),
        model,
        state,
    )

    # Then nothing is added and the lead is not more recently active (decay must not be postponed)
    assert result.state.engagement == state.engagement
    assert result.state.last_activity_at == MONDAY
    plan = plan_fast_path(
        facts(an_email_event(EventType.EMAIL_CLICKED, at=MONDAY + 3 * DAY, automated="link_scanner")), model, now=MONDAY
    )
    assert plan is not None
    assert plan.activity_at is None


def test_a_model_may_give_automated_activity_points_of_its_own() -> None:
    # Given a model whose opens are worth 2, machine opens 0.5
    model = a_model(engagement_rules=[an_engagement_rule("open", 2, event="email_opened", automated_points=0.5)])

    # When a machine open arrives
    result = score(an_email_event(automated="machine_open"), model, score_all([], model)[0])

    # Then it gives 0.5 under its own breakdown entry
    assert result.state.engagement == Decimal("0.5")
    assert result.state.points[automated_rule_id("open")] == Decimal("0.5")


@pytest.mark.parametrize(
    ("event_type", "properties"),
    [
        (EventType.EMAIL_BOUNCED, {"bounce_type": "hard"}),
        (EventType.EMAIL_COMPLAINED, {}),
        (EventType.EMAIL_UNSUBSCRIBED, {}),
    ],
)
def test_suppressing_events_apply_their_points_and_mark_the_lead(
    event_type: EventType, properties: dict[str, str]
) -> None:
    # Given a known lead
    model = the_default_model()
    state, _ = score_all([an_email_event(at=MONDAY)], model)

    # When a suppressing event arrives
    result = score(an_email_event(event_type, at=MONDAY + 60, **properties), model, state)

    # Then the model's negative points apply and the lead is suppressed; only the exact path does this
    assert result.state.suppressed
    assert result.state.engagement < state.engagement
    assert plan_fast_path(facts(an_email_event(event_type, **properties)), model, now=MONDAY) is None


def test_a_soft_bounce_does_not_suppress() -> None:
    model = the_default_model()
    state, _ = score_all(
        [an_email_event(at=MONDAY), an_email_event(EventType.EMAIL_BOUNCED, bounce_type="soft")], model
    )
    assert not state.suppressed


def test_a_suppressed_lead_never_alerts_sales() -> None:
    # Given a lead that hard-bounced
    model = the_default_model()
    state, _ = score_all([an_email_event(EventType.EMAIL_BOUNCED, at=MONDAY - DAY, bounce_type="hard")], model)

    # When it then does everything a sales-ready lead does
    state, results = score_all(SALES_READY, model, state)

    # Then its score rises but no alert is raised
    assert state.total >= model.model.thresholds.sql
    assert all(result.new_alert is None for result in results)
    assert state.alert_pending is None


def test_suppression_cancels_an_alert_that_has_not_gone_out() -> None:
    # Given a lead with an alert pending (decided, not yet published)
    model = the_default_model()
    state, _ = score_all(SALES_READY, model)
    assert state.alert_pending is not None

    # When its address hard-bounces before the alert went out
    result = score(an_email_event(EventType.EMAIL_BOUNCED, at=MONDAY + 120, bounce_type="hard"), model, state)

    # Then the pending alert is dropped: sales never gets an alert for an address that bounced
    assert result.state.alert_pending is None
    assert result.state.suppressed


def test_a_suppressing_event_the_model_has_no_rule_for_still_suppresses() -> None:
    # Given a model with no rule for unsubscribes
    model = a_model(engagement_rules=[an_engagement_rule("open", 1, event="email_opened")])
    state, _ = score_all([an_email_event(at=MONDAY)], model)

    # When the lead unsubscribes / Then the lead is suppressed (not a no-op)
    result = score(an_email_event(EventType.EMAIL_UNSUBSCRIBED, at=MONDAY + 60), model, state)
    assert result.state.suppressed
