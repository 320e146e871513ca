"""Properties of the scoring core, checked on random event sequences (Hypothesis).

The fast-path invariant is the one the store's blind write relies on: whenever a plan's conditions hold,
applying it gives exactly the state the exact transition would have produced.
"""

from __future__ import annotations

import copy
import os
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings, target
from hypothesis import strategies as st

from leadscore.core.decay import apply_decay
from leadscore.core.fast_path import plan_fast_path
from leadscore.core.rules import CompiledModel, compile_model
from leadscore.core.scoring import Outcome, facts_from_event, score_event
from leadscore.core.state import SEEN_KEEP, SEEN_MAX, ScoreState, Stage
from leadscore.models.events import EventType, LeadEvent, Scalar
from leadscore.models.scoring_model import ScoringModel
from tests.unit.builders import (
    DAY,
    DEFAULT_MODEL_FILE,
    LEASE_SECONDS,
    MONDAY,
    a_form_event,
    a_lead_event,
    a_model,
    a_new_lead,
    an_email_event,
    score,
    score_all,
    the_default_model,
)

# The profile (tests/unit/conftest.py) decides randomness: fixed examples in CI, fresh ones elsewhere.
# PROPERTY_EXAMPLES=5000 makes a deep search.
EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "200"))
PROPERTY_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---- What the default model scores, as event kinds ---------------------------------------------------------

URL = "https://www.example.com"


@dataclass(frozen=True)
class Kind:
    type: EventType
    properties: tuple[tuple[str, str], ...] = ()


def kind(type_: EventType, **properties: str) -> Kind:
    return Kind(type_, tuple(sorted(properties.items())))


FORM_KINDS = [
    kind(EventType.FORM_SUBMITTED, form_id=form_id)
    for form_id in (
        "demo-request",
        "contact-sales",
        "free-trial",
        "webinar-registration",
        "case-study-download",
        "whitepaper-download",
        "newsletter-signup",
        "other-form",
    )
] + [kind(EventType.FORM_SUBMITTED, form_id="newsletter-signup", page_url=f"{URL}/pricing")]

PAGE_KINDS = [
    kind(EventType.PAGE_VIEWED, page_url=f"{URL}{path}")
    for path in (
        "/pricing",
        "/product",
        "/integrations/slack",
        "/features",
        "/about",
        "/blog/x",
        "/careers",
        "/docs",
    )
]

EMAIL_KINDS = [
    kind(EventType.EMAIL_OPENED),
    kind(EventType.EMAIL_OPENED, automated="machine_open"),
    kind(EventType.EMAIL_CLICKED, link_url=f"{URL}/pricing"),
    kind(EventType.EMAIL_CLICKED, link_url=f"{URL}/pricing", automated="link_scanner"),
    kind(EventType.EMAIL_CLICKED, link_url=f"{URL}/docs"),
    kind(EventType.EMAIL_BOUNCED, bounce_type="hard"),
    kind(EventType.EMAIL_BOUNCED, bounce_type="soft"),
    kind(EventType.EMAIL_COMPLAINED),
    kind(EventType.EMAIL_UNSUBSCRIBED),
    kind(EventType.EMAIL_DELIVERED),
]

ENGAGEMENT_KINDS = FORM_KINDS + PAGE_KINDS + EMAIL_KINDS

PROFILES: list[dict[str, Scalar]] = [
    {"job_title": "VP Sales", "company_size": 250, "industry": "Software", "country": "GB"},
    {"job_title": "PhD Student", "country": "NO"},
    {"job_title": "Head of Data", "company_size": 3000},
    {"company_size": 5, "industry": "Retail"},
]


@dataclass(frozen=True)
class Spec:
    """An event before it gets its id: what, when, and what the lead told us (if anything)."""

    kind: Kind
    at: int
    profile: int | None = None

    def build(self, event_id: str) -> LeadEvent:
        return a_lead_event(
            self.kind.type,
            at=self.at,
            event_id=event_id,
            attributes=dict(PROFILES[self.profile]) if self.profile is not None else {},
            properties=dict(self.kind.properties),
        )


# A few days around MONDAY, with week and month boundaries (2026-11-30 is the next Monday and a new month).
times = st.builds(
    lambda day, second: MONDAY - 9 * 3600 + day * DAY + second,
    st.sampled_from([0, 0, 0, 1, 2, 6, 7, 8, 14, 40]),
    st.integers(0, DAY - 1),
)
profiles = st.sampled_from([None, None, None, *range(len(PROFILES))])  # mostly events that tell us nothing


def specs(kinds: Sequence[Kind] = ENGAGEMENT_KINDS, *, with_profiles: bool = True) -> st.SearchStrategy[Spec]:
    profile = profiles if with_profiles else st.none()
    return st.builds(Spec, st.sampled_from(list(kinds)), times, profile)


def with_ids(items: Sequence[Spec], prefix: str = "e") -> list[LeadEvent]:
    return [spec.build(f"{prefix}{index}") for index, spec in enumerate(items)]


# ---- Model variants -------------------------------------------------------------------------------------


def _default_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(DEFAULT_MODEL_FILE.read_text(encoding="utf-8"))
    return document


@cache
def default_without_caps() -> CompiledModel:
    document = _default_document()
    for rule in document["engagement_rules"]:
        rule.pop("cap", None)
    return compile_model(ScoringModel.model_validate(document))


@cache
def default_reweighted() -> CompiledModel:
    """Weights, a cap that is not a multiple of the points, and a rule worth more than its cap."""
    document = _default_document()
    document["version"] = "reweighted"
    document["weights"] = {"fit": 1.5, "engagement": 0.5}
    for rule in document["engagement_rules"]:
        if rule["id"] == "email_click":
            rule["cap"] = {"points": 10, "per": "day"}
        if rule["id"] == "email_open":
            rule["points"] = 5
            rule["cap"] = {"points": 3, "per": "day"}
    return compile_model(ScoringModel.model_validate(document))


def publish(state: ScoreState, at: int) -> ScoreState:
    """complete_alert: the pending alert was published."""
    if state.alert_pending is None:
        return state
    return replace(state, alert_pending=None, alerts_sent=state.alerts_sent + 1, last_alert_at=at)


# ---- a. Additive rules are order-independent -------------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    profile=profiles,
    items=st.lists(specs(with_profiles=False), min_size=1, max_size=14),
    data=st.data(),
)
def test_without_caps_the_order_of_events_does_not_matter(
    profile: int | None, items: list[Spec], data: st.DataObject
) -> None:
    # Given a model without caps, a lead who may have told us who they are, and some engagement events
    model = default_without_caps()
    start = a_new_lead(model)
    if profile is not None:
        told = a_lead_event(EventType.FORM_SUBMITTED, at=MONDAY - DAY, attributes=dict(PROFILES[profile]))
        start = score(told, model, start).state
    events = with_ids(items)
    shuffled = data.draw(st.permutations(events), label="permutation")

    # When they are applied in the drawn order and in another order
    in_order, _ = score_all(events, model, start)
    permuted, _ = score_all(shuffled, model, start)

    # Then fit, engagement, total, stage and the breakdown are the same
    assert (permuted.fit, permuted.engagement, permuted.total, permuted.stage) == (
        in_order.fit,
        in_order.engagement,
        in_order.total,
        in_order.stage,
    )
    assert permuted.points == in_order.points
    assert permuted.hits == in_order.hits
    assert permuted.rule_days == in_order.rule_days
    assert permuted.last_activity_at == in_order.last_activity_at


# ---- b. Caps hold ---------------------------------------------------------------------------------------

# Independent of the engine: the capped rules of default.yaml, which kinds they match, and their calendar.
CAPPED: dict[str, tuple[int, int, str]] = {  # rule -> (points, cap, per)
    "email_open": (1, 3, "day"),
    "email_click": (4, 12, "day"),
    "pricing_interest": (10, 20, "day"),
    "product_pages": (3, 9, "week"),
    "company_pages": (1, 3, "week"),
    "integrations": (3, 9, "week"),
    "demo_page": (8, 16, "day"),
    "security_review": (6, 12, "week"),
    "customer_stories": (4, 8, "day"),
    "docs": (2, 4, "day"),
}
UNCAPPED_POINTS = {"pricing_link_click": 6}


def expected_rules(spec: Spec) -> list[str]:
    properties = dict(spec.kind.properties)
    url = properties.get("page_url", "")
    if "automated" in properties:
        return []  # the default model gives automated activity 0 points (its own breakdown entries)
    if spec.kind.type is EventType.EMAIL_OPENED:
        return ["email_open"]
    if spec.kind.type is EventType.EMAIL_CLICKED:
        return ["email_click"] + (["pricing_link_click"] if "/pricing" in properties["link_url"] else [])
    rules = []
    if "/pricing" in url:
        rules.append("pricing_interest")
    if "/demo" in url:
        rules.append("demo_page")
    if "/security" in url:
        rules.append("security_review")
    if "/customers" in url:
        rules.append("customer_stories")
    if "/integrations" in url:
        rules.append("integrations")
    if any(part in url for part in ("/product", "/features")):
        rules.append("product_pages")
    if "/docs" in url:
        rules.append("docs")
    if any(part in url for part in ("/about", "/blog")):
        rules.append("company_pages")
    return rules


def calendar_period(at: int, per: str) -> str:
    moment = datetime.fromtimestamp(at, UTC)
    if per == "day":
        return moment.date().isoformat()
    if per == "week":
        iso = moment.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    return f"{moment.year}-{moment.month:02d}"


CAPPED_KINDS = [
    kind(EventType.EMAIL_OPENED),
    kind(EventType.EMAIL_OPENED, automated="machine_open"),
    kind(EventType.EMAIL_CLICKED, link_url=f"{URL}/pricing"),
    kind(EventType.EMAIL_CLICKED, link_url=f"{URL}/pricing", automated="link_scanner"),
    kind(EventType.EMAIL_CLICKED, link_url=f"{URL}/docs"),
    kind(EventType.PAGE_VIEWED, page_url=f"{URL}/pricing"),
    kind(EventType.PAGE_VIEWED, page_url=f"{URL}/product"),
    kind(EventType.PAGE_VIEWED, page_url=f"{URL}/integrations"),
    kind(EventType.PAGE_VIEWED, page_url=f"{URL}/blog"),
    kind(EventType.PAGE_VIEWED, page_url=f"{URL}/about"),
    kind(EventType.PAGE_VIEWED, page_url=f"{URL}/demo"),
    kind(EventType.PAGE_VIEWED, page_url=f"{URL}/security"),
    kind(EventType.PAGE_VIEWED, page_url=f"{URL}/customers/acme"),
    kind(EventType.PAGE_VIEWED, page_url=f"{URL}/docs/api"),
    kind(EventType.PAGE_VIEWED, page_url=f"{URL}/careers"),
]


@PROPERTY_SETTINGS
@given(items=st.lists(specs(CAPPED_KINDS, with_profiles=False), min_size=1, max_size=40))
def test_caps_hold_per_rule_and_period(items: list[Spec]) -> None:
    # Given capped events in the order they happened
    model = the_default_model()
    items = sorted(items, key=lambda spec: spec.at)

    # When they are scored
    state, results = score_all(with_ids(items), model)

    # Then no rule gives more than its cap in any period ...
    awarded: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for spec, result in zip(items, results, strict=True):
        for hit in result.hits:
            if hit.rule_id in CAPPED:
                awarded[(hit.rule_id, calendar_period(spec.at, CAPPED[hit.rule_id][2]))] += hit.points
    for (rule_id, _), points in awarded.items():
        assert points <= CAPPED[rule_id][1]

    # ... and engagement is the sum of min(cap, matches x points) per rule and period, computed here
    matches: Counter[tuple[str, str]] = Counter()
    uncapped = 0
    for spec in items:
        for rule_id in expected_rules(spec):
            if rule_id in CAPPED:
                matches[(rule_id, calendar_period(spec.at, CAPPED[rule_id][2]))] += 1
            else:
                uncapped += UNCAPPED_POINTS[rule_id]
    expected = uncapped + sum(
        min(CAPPED[rule_id][1], count * CAPPED[rule_id][0]) for (rule_id, _), count in matches.items()
    )
    assert state.engagement == expected
    assert state.total == state.fit + expected
    target(float(sum(1 for result in results for hit in result.hits if hit.capped)), label="capped hits")


@PROPERTY_SETTINGS
@given(items=st.lists(specs(CAPPED_KINDS, with_profiles=False), min_size=1, max_size=40))
def test_out_of_order_events_never_exceed_the_cap_of_the_latest_period(items: list[Spec]) -> None:
    # Given capped events delivered in any order
    model = the_default_model()

    # When they are scored
    _, results = score_all(with_ids(items), model)

    # Then, per rule, the latest period it was hit in never gets more than the cap
    # (late events from periods no longer tracked are awarded up to the cap each: see test_scoring)
    awarded: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    latest: dict[str, str] = {}
    for spec, result in zip(items, results, strict=True):
        for hit in result.hits:
            if hit.rule_id in CAPPED:
                period = calendar_period(spec.at, CAPPED[hit.rule_id][2])
                awarded[(hit.rule_id, period)] += hit.points
                latest[hit.rule_id] = max(latest.get(hit.rule_id, period), period)
    for rule_id, period in latest.items():
        assert awarded[(rule_id, period)] <= CAPPED[rule_id][1]


# ---- c. Idempotency -------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(items=st.lists(specs(), min_size=1, max_size=40), data=st.data())
def test_redelivered_events_change_nothing(items: list[Spec], data: st.DataObject) -> None:
    # Given a sequence of distinct events
    model = the_default_model()
    events = with_ids(items)

    # ... and the same sequence with redeliveries interleaved, each within the last SEEN_KEEP events
    with_duplicates: list[LeadEvent] = []
    for index, item in enumerate(events):
        with_duplicates.append(item)
        while data.draw(st.booleans(), label=f"redeliver after {index}"):
            back = data.draw(st.integers(0, min(index, SEEN_KEEP - 1)), label="how far back")
            with_duplicates.append(events[index - back])

    # When both are scored
    clean, _ = score_all(events, model)
    noisy, results = score_all(with_duplicates, model)

    # Then the final states are identical, and every redelivery was recognised (or was a no-op anyway)
    assert noisy == clean
    duplicates = len(with_duplicates) - len(events)
    recognised = sum(1 for result in results if result.outcome is Outcome.DUPLICATE)
    no_ops_redelivered = duplicates - recognised
    assert no_ops_redelivered >= 0
    event("redeliveries" if duplicates else "no redeliveries")


# ---- d. The fast-path invariant -------------------------------------------------------------------------

PUBLISH = "publish"
FAST_MODELS = [the_default_model, default_reweighted]

# Capped kinds weigh more, so caps are often near full when the next event comes.
FAST_KINDS = ENGAGEMENT_KINDS + CAPPED_KINDS + [kind(EventType.EMAIL_OPENED)] * 4
# DECAY: the decay job runs on the lead some weeks later (so fast and exact paths meet decayed states too).
DECAY = "decay"
steps = st.lists(
    st.one_of(specs(FAST_KINDS), specs(FAST_KINDS), st.just(PUBLISH), st.just(DECAY)), min_size=2, max_size=30
)


def next_spec(applied: Sequence[Spec], fresh: Spec) -> st.SearchStrategy[Spec]:
    """The next event: a fresh one, or one like an earlier one, soon after the latest activity."""
    if not applied:
        return st.just(fresh)
    latest = max(spec.at for spec in applied)
    told = [spec for spec in applied if spec.profile is not None]
    latest_profile = max(told, key=lambda spec: spec.at).profile if told else None
    return st.one_of(
        st.just(fresh),
        st.builds(
            lambda earlier, seconds, profile: Spec(earlier.kind, latest + seconds, profile),
            st.sampled_from(list(applied)),
            st.integers(-60, 3600),
            st.sampled_from([None, None, latest_profile]),
        ),
    )


def replay(model: CompiledModel, plan: Sequence[Spec | str]) -> tuple[ScoreState, list[Spec], int]:
    state = a_new_lead(model)
    applied: list[Spec] = []
    clock = MONDAY - DAY
    for index, step in enumerate(plan):
        if step == PUBLISH:
            state = publish(state, clock)
            continue
        if step == DECAY:
            clock += 40 * DAY
            decayed = apply_decay(state, model, now=clock)
            if decayed.state is not state:
                state = replace(decayed.state, version=state.version + 1)
            continue
        assert isinstance(step, Spec)
        clock = max(clock, step.at) + 1
        result = score_event(
            facts_from_event(step.build(f"s{index}")),
            model,
            state,
            now=clock,
            alert_lease_seconds=LEASE_SECONDS,
        )
        state = result.state
        applied.append(step)
    return state, applied, clock


def test_fast_path_invariant() -> None:
    """plan.applies_to(state) implies plan.apply(state) == score_event(...).state, and it does apply often."""
    tally: Counter[str] = Counter()

    @settings(PROPERTY_SETTINGS, max_examples=max(300, EXAMPLES))
    @given(
        model_index=st.integers(0, len(FAST_MODELS) - 1),
        plan_steps=steps,
        data=st.data(),
        delay=st.integers(0, 5 * DAY),
    )
    def check(model_index: int, plan_steps: list[Spec | str], data: st.DataObject, delay: int) -> None:
        # Given a lead in a state reached by random events (and published alerts)
        model = FAST_MODELS[model_index]()
        state, applied, clock = replay(model, plan_steps)
        if state.version and data.draw(st.booleans(), label="older history"):
            # ... whose seen list is as long as earlier events left it (up to SEEN_MAX - 1)
            length = data.draw(
                st.sampled_from([SEEN_MAX - 1, SEEN_MAX - 2]) | st.integers(len(state.seen), SEEN_MAX - 1),
                label="seen length",
            )
            state.seen = [f"old{i:03d}" for i in range(length - len(state.seen))] + state.seen
        snapshot = copy.deepcopy(state)

        # ... and a next event, often like an earlier one
        spec = data.draw(next_spec(applied, data.draw(specs(FAST_KINDS), label="fresh")), label="next")
        facts = facts_from_event(spec.build("next"))
        now = clock + delay

        # When the fast path is planned for it
        plan = plan_fast_path(facts, model, now=now)
        if plan is None or not plan.applies_to(state):
            tally["exact"] += 1
            event("exact")
            return
        tally["fast"] += 1
        event("fast")

        # Then the blind update gives exactly what the exact transition gives
        exact = score_event(facts, model, state, now=plan.now, alert_lease_seconds=LEASE_SECONDS)
        assert exact.outcome is Outcome.APPLIED
        assert exact.new_alert is None
        assert exact.state.stage is state.stage
        assert plan.apply(state) == exact.state
        assert state == snapshot  # neither path touched the state it was given

    check()

    # And the property is not vacuous: a good share of the examples took the fast path
    total = tally["fast"] + tally["exact"]
    assert tally["fast"] >= total // 20, tally


def test_a_second_open_the_same_day_is_fast_path_applicable() -> None:
    # Given an existing lead below the thresholds who opened one email this morning
    model = the_default_model()
    state, _ = score_all([a_form_event(title="Engineer", form_id="other"), an_email_event(at=MONDAY)], model)
    assert state.stage is Stage.LEAD

    # When a second open arrives the same day
    second = facts_from_event(an_email_event(at=MONDAY + 600))
    plan = plan_fast_path(second, model, now=MONDAY + 601)

    # Then the plan applies, and gives what the exact path gives
    assert plan is not None
    assert plan.applies_to(state)
    applied = plan.apply(state)
    assert applied == score_event(second, model, state, now=MONDAY + 601, alert_lease_seconds=60).state
    assert applied.engagement == state.engagement + 1


@PROPERTY_SETTINGS
@given(items=st.lists(specs(), min_size=1, max_size=20), next_spec=specs())
def test_the_fast_path_never_applies_across_model_versions(items: list[Spec], next_spec: Spec) -> None:
    # Given a lead scored under the default model
    state, _ = score_all(with_ids(items), the_default_model())

    # When a plan is made under another version / Then it never applies
    plan = plan_fast_path(facts_from_event(next_spec.build("n")), default_reweighted(), now=MONDAY)
    assert plan is None or not plan.applies_to(state)


# ---- e. Alerts ------------------------------------------------------------------------------------------

ALERT_KINDS = [
    kind(EventType.FORM_SUBMITTED, form_id="demo"),  # +30
    kind(EventType.FORM_SUBMITTED, form_id="paper"),  # +5
    kind(EventType.EMAIL_CLICKED),  # +4 (capped 12/day)
    kind(EventType.EMAIL_BOUNCED),  # -20
    kind(EventType.EMAIL_UNSUBSCRIBED),  # -15
    kind(EventType.PAGE_VIEWED, page_url=f"{URL}/pricing"),  # +5
]


@PROPERTY_SETTINGS
@given(plan=st.lists(st.one_of(specs(ALERT_KINDS, with_profiles=False), st.just(PUBLISH)), min_size=1, max_size=50))
def test_one_alert_per_crossing_and_none_without_a_rearm(plan: list[Spec | str]) -> None:
    # Given a small model (sql 50, re-arm below 40) and points going up and down, alerts published at times
    model = a_model()
    state = a_new_lead(model)
    alerts = rearms = 0
    since_last_alert: list[bool] = []

    # When every step is applied
    for index, step in enumerate(plan):
        if step == PUBLISH:
            state = publish(state, MONDAY)
            continue
        assert isinstance(step, Spec)
        before = state
        result = score(step.build(f"a{index}"), model, state)
        state = result.state
        rearms += result.rearmed
        since_last_alert.append(result.rearmed)
        if result.new_alert is not None:
            # Then an alert comes only at or above sql, from an armed lead with nothing pending ...
            assert result.state.total >= model.model.thresholds.sql
            assert before.alert_pending is None
            assert not before.suppressed
            # ... and never twice without a re-arm in between
            assert alerts == 0 or any(since_last_alert)
            alerts += 1
            since_last_alert = []
        if result.rearmed:
            assert result.state.total < model.model.rearm_level

    # Then there are never more alerts than re-arms plus the first one
    assert alerts <= 1 + rearms
    target(float(alerts), label="alerts")
