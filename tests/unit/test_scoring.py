"""score_event: fit, engagement, caps, stages, alerts, idempotency, attribute merging."""

from __future__ import annotations

import copy
from dataclasses import replace
from decimal import Decimal

import pytest

from leadscore.core.scoring import Outcome
from leadscore.core.stages import period_id
from leadscore.core.state import SEEN_KEEP, SEEN_MAX, ScoreState, Stage
from leadscore.models.events import EventType, LeadEvent
from leadscore.models.scoring_model import Period
from tests.unit.builders import (
    DAY,
    HOUR,
    LEASE_SECONDS,
    MONDAY,
    a_form_event,
    a_lead_event,
    a_model,
    a_model_document,
    a_new_lead,
    a_page_view,
    an_email_event,
    epoch,
    facts,
    score,
    score_all,
    the_default_model,
)

# ---- Fit ------------------------------------------------------------------------------------------------


def test_a_vp_at_a_mid_sized_software_company_in_gb_scores_its_fit() -> None:
    # Given the default model and a VP at a 250-person software company in GB, on a company address
    model = the_default_model()
    event = a_form_event(title="VP Engineering", size=250, industry="Software", country="GB", form_id="x")

    # When the form submission is scored
    result = score(event, model, a_new_lead(model))

    # Then fit = exec_title 25 + target_company_size 15 + target_industry 10 + served_country 5
    state = result.state
    assert result.outcome is Outcome.APPLIED
    assert state.fit == 55
    assert state.points == {
        "exec_title": 25,
        "target_company_size": 15,
        "target_industry": 10,
        "served_country": 5,
    }
    assert state.engagement == 0
    assert state.total == 55
    assert state.stage is Stage.MQL


@pytest.mark.parametrize(
    ("email", "title", "rule", "points"),
    [
        ("ada@gmail.com", None, "free_webmail", -15),
        ("ada@GoogleMail.com", None, "free_webmail", -15),
        ("ada@analytical.example", "PhD student", "student_or_intern", -25),
        ("ada@analytical.example", "Summer Intern", "student_or_intern", -25),
        ("spy@hubspot.com", None, "competitor", -50),
    ],
)
def test_negative_fit(email: str, title: str | None, rule: str, points: int) -> None:
    # Given a lead that fits badly
    model = the_default_model()
    event = a_form_event(email=email, title=title, form_id="x", first_name="Ada")

    # When scored
    state = score(event, model, a_new_lead(model)).state

    # Then the negative rule counts, and only it
    assert state.points == {rule: points}
    assert state.fit == points
    assert state.total == points
    assert state.stage is Stage.LEAD


def test_a_manager_title_does_not_also_count_as_exec() -> None:
    # Given a "Head of Engineering" and a "VP, Head of Platform"
    model = the_default_model()
    head = score(a_form_event(title="Head of Engineering"), model, a_new_lead(model)).state
    vp = score(a_form_event(title="VP, Head of Platform"), model, a_new_lead(model)).state

    # Then the head scores as a manager, the VP as an exec (the negated condition excludes it)
    assert head.points == {"manager_title": 15}
    assert vp.points == {"exec_title": 25}


def test_company_size_as_text_with_a_thousands_separator_counts() -> None:
    # Given a size typed as "1,000"
    model = the_default_model()

    # When scored
    state = score(a_form_event(size="1,000"), model, a_new_lead(model)).state

    # Then it is a target-size company
    assert state.points == {"target_company_size": 15}


def test_a_new_lead_records_its_email_domain_even_without_attributes() -> None:
    # Given a first event for a gmail lead that tells us nothing else
    model = the_default_model()
    event = an_email_event(EventType.EMAIL_OPENED, email="ada@gmail.com")

    # When scored
    state = score(event, model, a_new_lead(model)).state

    # Then the webmail penalty applies from the start
    assert state.attributes == {"email_domain": "gmail.com"}
    assert state.fit == -15
    assert state.total == -15 + 1


# ---- Engagement -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (a_form_event(form_id="demo-request"), {"demo_request": 40}),
        (a_form_event(form_id="free-trial"), {"free_trial": 25}),
        (a_form_event(form_id="webinar-registration"), {"webinar": 10}),
        (
            a_form_event(form_id="demo-request", page_url="https://x.example/pricing"),
            {"demo_request": 40, "pricing_interest": 10},
        ),
        (a_page_view("https://x.example/pricing"), {"pricing_interest": 10}),
        (a_page_view("https://x.example/integrations/slack"), {"integrations": 3}),  # own rule since 2026.12.1
        (a_page_view("https://x.example/security"), {"security_review": 6}),
        (a_page_view("https://x.example/careers"), {}),  # job seekers: nothing since 2026.12.1
        (a_page_view("https://x.example/blog/launch"), {"company_pages": 1}),
        (an_email_event(EventType.EMAIL_OPENED), {"email_open": 1}),
        (
            an_email_event(EventType.EMAIL_CLICKED, link_url="https://x.example/pricing"),
            {"email_click": 4, "pricing_link_click": 6},
        ),
        (an_email_event(EventType.EMAIL_BOUNCED, bounce_type="hard"), {"hard_bounce": -20}),
        (an_email_event(EventType.EMAIL_COMPLAINED), {"spam_complaint": -40}),
        (an_email_event(EventType.EMAIL_UNSUBSCRIBED), {"unsubscribed": -15}),
    ],
    ids=lambda value: value.type.value if hasattr(value, "type") else "",
)
def test_engagement_points(event, expected: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    # Given the default model and a new lead on a company address
    model = the_default_model()

    # When one engagement event is scored
    result = score(event, model, a_new_lead(model))

    # Then the matching rules give their points
    engagement = {rule: points for rule, points in result.state.points.items() if rule in expected}
    assert engagement == expected
    assert result.state.engagement == sum(expected.values())
    assert {hit.rule_id: hit.points for hit in result.hits} == expected


# ---- Caps -----------------------------------------------------------------------------------------------


def test_the_fourth_email_open_in_a_day_gives_nothing_but_still_counts_as_a_hit() -> None:
    # Given the default model (email_open: 1 point, at most 3 per day)
    model = the_default_model()
    opens = [an_email_event(at=MONDAY + minute * 60) for minute in range(4)]

    # When four opens arrive the same day
    state, results = score_all(opens, model)

    # Then the fourth is capped at 0 but is still a hit
    assert [hit.points for result in results for hit in result.hits] == [1, 1, 1, 0]
    assert [hit.capped for result in results for hit in result.hits] == [False, False, False, True]
    assert state.engagement == 3
    assert state.hits["email_open"] == 4
    assert state.caps["email_open"] == {"261123": 3}


def test_a_new_day_resets_a_daily_cap() -> None:
    # Given three opens on Monday (the cap)
    model = the_default_model()
    state, _ = score_all([an_email_event(at=MONDAY + i) for i in range(3)], model)

    # When the lead opens again on Tuesday just after midnight UTC
    tuesday = MONDAY - 9 * HOUR + DAY + 1
    result = score(an_email_event(at=tuesday), model, state)

    # Then it counts again
    assert result.hits[0].points == 1
    assert result.state.engagement == 4
    assert result.state.caps["email_open"] == {"261123": 3, "261124": 1}


def test_a_weekly_cap_holds_until_the_next_iso_week() -> None:
    # Given product_pages: 3 points, at most 9 per ISO week
    model = the_default_model()
    views = [a_page_view("https://x.example/product", at=MONDAY + i * DAY) for i in range(4)]  # Mon-Thu
    next_monday = a_page_view("https://x.example/product", at=MONDAY + 7 * DAY)

    # When four views arrive in one week, then one the next Monday
    state, results = score_all([*views, next_monday], model)

    # Then the fourth gives 0 and the next week gives 3 again
    assert [result.hits[0].points for result in results] == [3, 3, 3, 0, 3]
    assert state.points["product_pages"] == 12
    assert state.caps["product_pages"] == {"26W48": 9, "26W49": 3}


def test_a_monthly_cap_holds_until_the_next_month() -> None:
    # Given a rule worth 1 with at most 2 per month
    model = a_model()
    blog = [a_page_view("https://x.example/blog", at=MONDAY + i * DAY) for i in range(3)]  # 23-25 Nov
    december = a_page_view("https://x.example/blog", at=MONDAY + 8 * DAY)  # 1 Dec

    # When three blog views in November and one in December are scored
    state, results = score_all([*blog, december], model)

    # Then November stops at 2 and December starts afresh
    assert [result.hits[0].points for result in results] == [1, 1, 0, 1]
    assert state.points["blog"] == 3
    assert state.caps["blog"] == {"2611": 2, "2612": 1}


def test_a_rule_worth_more_than_the_room_left_gives_the_remainder() -> None:
    # Given clicks worth 4 with a daily cap of 10
    document = a_model_document()
    document["engagement_rules"] = [
        {"id": "email_click", "points": 4, "event": "email_clicked", "cap": {"points": 10, "per": "day"}}
    ]
    model = a_model(engagement_rules=document["engagement_rules"])

    # When three clicks arrive in one day
    state, results = score_all([an_email_event(EventType.EMAIL_CLICKED, at=MONDAY + i) for i in range(3)], model)

    # Then the third gives only the 2 points left
    assert [result.hits[0].points for result in results] == [4, 4, 2]
    assert results[2].hits[0].capped is True
    assert state.engagement == 10


def test_a_late_event_counts_against_its_own_days_cap_without_disturbing_todays() -> None:
    # Given a lead that used Tuesday's whole email_open cap
    model = the_default_model()
    tuesday = MONDAY + DAY
    state, _ = score_all([an_email_event(at=tuesday + i) for i in range(3)], model)

    # When a Monday open arrives late
    result = score(an_email_event(at=MONDAY), model, state, now=tuesday + HOUR)

    # Then it scores on Monday's counter and Tuesday's counter is unchanged
    assert result.hits[0].points == 1
    assert result.state.engagement == 4
    assert result.state.caps["email_open"] == {"261124": 3, "261123": 1}
    assert result.state.rule_days["email_open"] == 261124  # the latest day stays
    assert result.state.last_activity_at == tuesday + 2


def test_a_capped_hit_drops_its_rules_counters_from_two_to_seven_periods_back() -> None:
    # Given opens on Monday, Tuesday and Wednesday
    model = the_default_model()
    opens = [an_email_event(at=MONDAY + day * DAY) for day in (0, 1, 2)]
    state, _ = score_all(opens, model)

    # Then Wednesday's open dropped Monday's counter: the item keeps today's and yesterday's
    assert state.caps["email_open"] == {"261124": 1, "261125": 1}

    # When the next open comes on Saturday / Then Tuesday's and Wednesday's counters go too
    saturday = score(an_email_event(at=MONDAY + 5 * DAY), model, state)
    assert saturday.state.caps["email_open"] == {"261128": 1}

    # When one comes nine days later still / Then Saturday's counter, beyond the window, waits for housekeeping
    later = score(an_email_event(at=MONDAY + 14 * DAY), model, saturday.state)
    assert later.state.caps["email_open"] == {"261128": 1, "261207": 1}


def test_housekeeping_keeps_only_each_capped_rules_newest_period() -> None:
    # Given opens on 24 consecutive days (one counter per day)
    model = the_default_model()
    opens = [an_email_event(at=MONDAY + day * DAY) for day in range(SEEN_MAX)]

    # When the 24th event makes the exact path trim the remembered fingerprints
    state, _ = score_all(opens, model)

    # Then the old daily counters went with them: only the newest day is left
    assert len(state.seen) == SEEN_KEEP
    assert state.caps["email_open"] == {period_id(MONDAY + (SEEN_MAX - 1) * DAY, Period.DAY): 1}
    assert state.engagement == SEEN_MAX


# ---- Stages and alerts -----------------------------------------------------------------------------------

# a_model(): mql 20, sql 50, rearm margin 10 (re-arm below 40); demo 30, whitepaper 5,
# hard_bounce -20, unsubscribed -15. The lead's address is a company one, so fit is 0.


def demo(at: int = MONDAY) -> LeadEvent:
    return a_form_event(form_id="demo", at=at)


def paper(at: int = MONDAY) -> LeadEvent:
    return a_form_event(form_id="paper", at=at)


def bounce(at: int = MONDAY) -> LeadEvent:
    return an_email_event(EventType.EMAIL_BOUNCED, at=at)


def published(state: ScoreState, at: int = MONDAY) -> ScoreState:
    """What the store holds once the pending alert was published (complete_alert)."""
    assert state.alert_pending is not None
    return replace(state, alert_pending=None, alerts_sent=state.alerts_sent + 1, last_alert_at=at)


def test_stages_move_from_lead_to_mql_to_sql() -> None:
    # Given a new lead under the small model
    model = a_model()

    # When a whitepaper (5), a demo (30 → 35) and another demo (→ 65) arrive
    _, results = score_all([paper(), demo(), demo()], model)

    # Then the stage moves LEAD → MQL → SQL, and each move is reported once
    assert [result.state.stage for result in results] == [Stage.LEAD, Stage.MQL, Stage.SQL]
    assert [result.stage_changed for result in results] == [False, True, True]
    assert [result.state.total for result in results] == [5, 35, 65]


def test_the_crossing_raises_exactly_one_pending_alert() -> None:
    # Given a lead at 35
    model = a_model()
    state, _ = score_all([paper(), demo()], model)

    # When a demo takes it to 65 (over sql 50)
    result = score(demo(), model, state, now=MONDAY + 5)

    # Then one pending alert is raised, leased to this invocation, and the lead is disarmed
    alert = result.new_alert
    assert alert is not None
    assert result.state.alert_pending == alert
    assert alert.total == 65
    assert alert.stage is Stage.SQL
    assert alert.created_at == MONDAY + 5
    assert alert.lease_until == MONDAY + 5 + LEASE_SECONDS
    assert alert.alert_id.startswith(f"{state.lead_id[:10]}-test-1-")
    assert result.state.alert_armed is False


def test_no_second_alert_while_pending_or_above_the_threshold() -> None:
    # Given a lead whose crossing raised an alert
    model = a_model()
    state, results = score_all([demo(), demo()], model)
    assert results[-1].new_alert is not None

    # When more points arrive while the alert is pending, and after it was published
    while_pending = score(paper(), model, state)
    after = score_all([paper(), demo()], model, published(while_pending.state))[1]

    # Then none of them raises another alert
    assert while_pending.new_alert is None
    assert while_pending.state.alert_pending == state.alert_pending
    assert all(result.new_alert is None for result in after)
    assert after[-1].state.alert_pending is None


def test_falling_below_sql_but_not_below_the_rearm_level_does_not_rearm() -> None:
    # Given an alerted lead at 60 (sql 50, re-arm below 40)
    model = a_model()
    state, _ = score_all([demo(), demo()], model)
    state = published(state)

    # When it falls to 40 (LEAD→MQL zone, but not below the re-arm level) and climbs back to 70
    down = score(bounce(), model, state)
    up = score(demo(), model, down.state)

    # Then it was recycled to MQL but not re-armed, so no new alert
    assert down.state.total == 40
    assert down.state.stage is Stage.MQL
    assert down.state.recycled_at is not None
    assert down.rearmed is False
    assert up.state.stage is Stage.SQL
    assert up.new_alert is None


def test_rearming_below_sql_minus_margin_allows_a_second_alert_on_the_next_crossing() -> None:
    # Given an alerted lead at 60
    model = a_model()
    state, _ = score_all([demo(), demo()], model)
    state = published(state)

    # When it falls to 40 (not re-armed), then to 20 (< 40: re-armed), then climbs to 50 and 55
    fall, _ = score_all([bounce()], model, state)
    rearm = score(bounce(), model, fall)
    climb = score(demo(), model, rearm.state)
    more = score(paper(), model, published(climb.state))

    # Then the re-arm is reported once and the next crossing raises the second alert
    assert rearm.state.total == 20
    assert rearm.rearmed is True
    assert rearm.state.alert_armed is True
    assert climb.state.total == 50
    assert climb.new_alert is not None
    assert climb.new_alert.alert_id.split("-")[2] == "2"  # the lead's second alert
    assert more.new_alert is None


def test_a_recrossing_while_the_first_alert_is_still_going_out_is_covered_by_that_alert() -> None:
    # Given a lead whose first alert is decided but not yet published (pending)
    model = a_model()
    state, _ = score_all([demo(), demo()], model)
    assert state.alert_pending is not None

    # When it falls below the re-arm level (re-armed) and climbs back over sql before the alert goes out
    fallen, _ = score_all([bounce(), bounce()], model, state)
    assert fallen.alert_armed is True
    climb = score(demo(), model, fallen)

    # Then no second alert is raised, the lead is disarmed again, and after publishing nothing more is owed
    assert climb.state.total == 50
    assert climb.new_alert is None
    assert climb.state.alert_armed is False
    later = score(paper(), model, published(climb.state))
    assert later.new_alert is None


def test_a_suppressed_lead_never_alerts() -> None:
    # Given a suppressed lead (sales asked not to be alerted)
    model = a_model()
    state = replace(a_new_lead(model), suppressed=True)

    # When it climbs well over the threshold
    final, results = score_all([demo(), demo(), demo()], model, state)

    # Then it reaches SQL, but nothing is pending
    assert final.stage is Stage.SQL
    assert all(result.new_alert is None for result in results)
    assert final.alert_pending is None


# ---- Idempotency and no-ops -----------------------------------------------------------------------------


def test_a_duplicate_event_changes_nothing() -> None:
    # Given a lead that already has an event
    model = the_default_model()
    event = a_form_event(form_id="demo-request", title="CTO")
    first = score(event, model, a_new_lead(model))

    # When the same event is delivered again, later
    again = score(event, model, first.state, now=MONDAY + 3600)

    # Then it is reported as a duplicate and the state is the same
    assert again.outcome is Outcome.DUPLICATE
    assert again.state == first.state
    assert again.hits == ()
    assert again.new_alert is None


def test_the_same_event_id_from_another_source_is_not_a_duplicate() -> None:
    # Given an event id seen from one source
    model = the_default_model()
    first = score(an_email_event(event_id="42"), model, a_new_lead(model))

    # When another source uses the same id
    other = a_lead_event(EventType.EMAIL_OPENED, event_id="42", source="mailgun", at=MONDAY + 1)
    result = score(other, model, first.state)

    # Then it is scored
    assert result.outcome is Outcome.APPLIED


def test_an_event_with_no_rule_and_no_attributes_is_a_no_op() -> None:
    # Given a scored lead
    model = the_default_model()
    state = score(a_form_event(title="CTO"), model, a_new_lead(model)).state

    # When an email is delivered (no rule scores deliveries) with no attributes
    result = score(an_email_event(EventType.EMAIL_DELIVERED), model, state)

    # Then nothing changes, and it is not even remembered as seen
    assert result.outcome is Outcome.NO_OP
    assert result.state is state


def test_attributes_alone_are_applied() -> None:
    # Given a lead with a title
    model = the_default_model()
    state = score(a_form_event(title="Engineer"), model, a_new_lead(model)).state

    # When a form that matches no engagement rule tells us the company size
    result = score(a_form_event(form_id="x", size=300, at=MONDAY + 60), model, state)

    # Then the fit changes, and only the fit
    assert result.outcome is Outcome.APPLIED
    assert result.attributes_changed is True
    assert result.state.fit == 15
    assert result.state.engagement == 0
    assert result.state.version == state.version + 1


# ---- Attributes -----------------------------------------------------------------------------------------


def test_newer_attributes_win_and_older_ones_only_fill_gaps() -> None:
    # Given a lead who said "CTO" on Tuesday
    model = the_default_model()
    tuesday = MONDAY + DAY
    state = score(a_form_event(title="CTO", at=tuesday), model, a_new_lead(model)).state

    # When an older form (Monday) arrives late saying "Intern" at a 250-person company
    older = score(a_form_event(title="Intern", size=250, at=MONDAY), model, state).state

    # Then the title stays CTO, the size fills the gap
    assert older.attributes["job_title"] == "CTO"
    assert older.attributes["company_size"] == 250
    assert older.attributes_at == tuesday
    assert older.points.get("student_or_intern") is None
    assert older.fit == 25 + 15

    # When a newer form (Wednesday) says "Student"
    newer = score(a_form_event(title="Student", at=tuesday + DAY), model, older).state

    # Then the newer title wins and the fit follows it
    assert newer.attributes["job_title"] == "Student"
    assert newer.attributes_at == tuesday + DAY
    assert newer.fit == -25 + 15


def test_only_fit_relevant_attributes_are_stored_on_the_score() -> None:
    # Given a form with a phone number and a name (no fit rule reads them)
    model = the_default_model()
    event = a_form_event(title="CTO", phone="+44 20 7946 0000", first_name="Ada")

    # When scored
    state = score(event, model, a_new_lead(model)).state

    # Then the score keeps only what the rules look at
    assert set(state.attributes) == {"job_title", "email_domain"}


# ---- Seen list ------------------------------------------------------------------------------------------


def test_the_seen_list_trims_to_seen_keep_when_it_reaches_seen_max() -> None:
    # Given SEEN_MAX - 1 events already applied
    model = the_default_model()
    events = [a_page_view("https://x.example/pricing", at=MONDAY + i * DAY) for i in range(SEEN_MAX)]
    state, _ = score_all(events[:-1], model)
    assert len(state.seen) == SEEN_MAX - 1

    # When one more event arrives
    result = score(events[-1], model, state)

    # Then the list is cut to the newest SEEN_KEEP fingerprints, the new one last
    assert len(result.state.seen) == SEEN_KEEP
    assert result.state.seen == [facts(event).fingerprint for event in events[-SEEN_KEEP:]]


def test_a_duplicate_within_the_window_is_still_recognised_after_trimming() -> None:
    # Given a lead whose seen list was just trimmed
    model = the_default_model()
    events = [a_page_view("https://x.example/pricing", at=MONDAY + i * DAY) for i in range(SEEN_MAX)]
    state, _ = score_all(events, model)

    # When the oldest event still kept is redelivered
    result = score(events[-SEEN_KEEP], model, state)

    # Then it is a duplicate
    assert result.outcome is Outcome.DUPLICATE


# ---- Purity and model versions --------------------------------------------------------------------------


def test_the_input_state_is_never_mutated() -> None:
    # Given a lead with caps, points, attributes, seen fingerprints and a pending alert
    model = a_model()
    state, _ = score_all([a_form_event(form_id="demo", title="VP"), an_email_event(), demo(), an_email_event()], model)
    assert state.alert_pending is not None
    snapshot = copy.deepcopy(state)

    # When all kinds of events are scored against it
    for event in [
        an_email_event(at=MONDAY + 1),
        a_form_event(title="Intern", size=100, at=MONDAY + 2),
        bounce(MONDAY + 3),
        a_page_view("https://x.example/blog", at=MONDAY + 4),
    ]:
        score(event, model, state)

    # Then the state passed in is exactly as it was
    assert state == snapshot


def test_a_new_model_version_recomputes_the_fit_and_drops_unknown_caps() -> None:
    # Given a VP scored under version 1 (exec_title 20) with a used email_open cap
    v1 = a_model()
    state, _ = score_all([a_form_event(title="VP", form_id="x"), an_email_event(at=MONDAY + 1)], v1)
    assert state.fit == 20
    assert "email_open" in state.caps

    # When version 2 (exec_title 35, no email_open rule) scores a whitepaper download
    document = a_model_document(version="2")
    document["fit_rules"][0]["points"] = 35
    document["engagement_rules"] = [rule for rule in document["engagement_rules"] if rule["id"] != "email_open"]
    v2 = a_model(**document)
    result = score(paper(MONDAY + 2), v2, state)

    # Then the fit follows the new rules, engagement is kept, and the stale cap is dropped
    assert result.state.model_version == "2"
    assert result.state.fit == 35
    assert result.state.points["exec_title"] == 35
    assert result.state.engagement == 1 + 5
    assert result.state.total == Decimal(35 + 6)
    assert "email_open" not in result.state.caps


def test_weights_scale_fit_and_engagement() -> None:
    # Given weights fit 2, engagement 0.5
    model = a_model(weights={"fit": 2, "engagement": 0.5})

    # When a VP requests a demo
    state = score(a_form_event(title="VP", form_id="demo"), model, a_new_lead(model)).state

    # Then total = 2 * 20 + 0.5 * 30
    assert state.fit == 20
    assert state.engagement == 30
    assert state.total == 55


def test_the_hot_loop_copy_keeps_every_field_and_shares_no_container() -> None:
    # Given a state where every field differs from its default
    from leadscore.core.scoring import _copy  # noqa: PLC0415 - the private helper is what is under test
    from leadscore.core.state import PendingAlert  # noqa: PLC0415

    state = ScoreState(
        "lead", "model", "v9", 7, Decimal(1), Decimal(2), Decimal(3), Stage.MQL, 10, 11, {"a": Decimal(1)},
        {"a": 2}, {"title": "CTO"}, 12, "digest", ["f1"], {"a": 261123}, {"a": {"261123": Decimal(1)}}, 13,
        False, PendingAlert("alert", 1, 2, Decimal(3), Stage.SQL), 4, 14, True, 15, 16,
    )  # fmt: skip

    # When it is copied for an update
    copied = _copy(state)

    # Then it is equal field by field, and its containers are its own
    assert copied == state
    for name in ("points", "hits", "attributes", "seen", "rule_days", "caps"):
        assert getattr(copied, name) is not getattr(state, name)
    assert copied.caps["a"] is not state.caps["a"]


def test_stale_periods_step_back_by_calendar_period_across_year_ends() -> None:
    # Given 10 January 2026 (ISO week 2)
    from leadscore.core.stages import stale_periods  # noqa: PLC0415

    january = epoch(2026, 1, 10)

    # Then the periods two to seven back are whole days, ISO weeks and months, into 2025
    assert stale_periods(january, Period.DAY) == ("260108", "260107", "260106", "260105", "260104", "260103")
    assert stale_periods(january, Period.WEEK) == ("25W52", "25W51", "25W50", "25W49", "25W48", "25W47")
    assert stale_periods(january, Period.MONTH) == ("2511", "2510", "2509", "2508", "2507", "2506")
