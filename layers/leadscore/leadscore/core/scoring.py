"""score_event: the exact transition of one lead's score under one model for one event.

Pure and deterministic: the same event, model, state and clock always give the same result, and the input
state is never mutated (callers retry with it on write conflicts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from leadscore.core.identity import attributes_digest, event_fingerprint
from leadscore.core.rules import ZERO, CompiledEngagementRule, CompiledModel, Fields, as_number
from leadscore.core.stages import day_code, period_id, stage_for, stale_periods
from leadscore.core.state import (
    SEEN_KEEP,
    SEEN_MAX,
    STAGE_LOG_MAX,
    STAGE_ORDER,
    PendingAlert,
    ScoreState,
    Stage,
)
from leadscore.models.events import EventType, LeadEvent, Scalar
from leadscore.models.scoring_model import INACTIVITY_RULE

EMAIL_DOMAIN = "email_domain"


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What the core needs from a LeadEvent, flattened once (no pydantic in the hot loop)."""

    source: str
    event_id: str
    type: str
    occurred_at: int
    attributes: Mapping[str, Scalar]
    properties: Mapping[str, Scalar]
    email_domain: str
    fingerprint: str = field(init=False)  # derived once: both paths and the store compare it
    automated: bool = field(init=False)  # a machine open or a scanner's click (sources flag them)
    suppresses: bool = field(init=False)  # a hard bounce, a complaint or an unsubscribe

    def __post_init__(self) -> None:
        object.__setattr__(self, "fingerprint", event_fingerprint(self.source, self.event_id))
        object.__setattr__(self, "automated", bool(self.properties.get(AUTOMATED)))
        object.__setattr__(self, "suppresses", suppresses(self.type, self.properties))


AUTOMATED = "automated"
BOUNCE_TYPE = "bounce_type"
_ALWAYS_SUPPRESS = frozenset({EventType.EMAIL_COMPLAINED.value, EventType.EMAIL_UNSUBSCRIBED.value})


def suppresses(event_type: str, properties: Mapping[str, Scalar]) -> bool:
    """Whether this event means we must stop emailing the lead (and never alert sales about them)."""
    if event_type in _ALWAYS_SUPPRESS:
        return True
    return event_type == EventType.EMAIL_BOUNCED.value and properties.get(BOUNCE_TYPE) == "hard"


def facts_from_event(event: LeadEvent) -> EventFacts:
    return EventFacts(
        source=event.source,
        event_id=event.event_id,
        type=event.type.value,
        occurred_at=int(event.occurred_at.timestamp()),
        attributes=event.attributes,
        properties=event.properties,
        email_domain=event.email_domain,
    )


class Outcome(StrEnum):
    APPLIED = "applied"  # the event changed the score state
    DUPLICATE = "duplicate"  # already applied earlier: nothing changes
    NO_OP = "no_op"  # matched no rule and told us nothing new: nothing to store


# NamedTuples rather than frozen dataclasses: both are immutable, and these two are built for every event,
# where a frozen dataclass pays an object.__setattr__ per field.
class RuleHit(NamedTuple):
    """A rule that matched this event and the points it actually gave (0 when capped or worth 0)."""

    rule_id: str
    points: Decimal
    capped: bool = False


class ScoreResult(NamedTuple):
    state: ScoreState
    outcome: Outcome
    hits: tuple[RuleHit, ...] = ()
    attributes_changed: bool = False
    stage_before: Stage = Stage.LEAD
    new_alert: PendingAlert | None = None
    rearmed: bool = False

    @property
    def stage_changed(self) -> bool:
        return self.state.stage is not self.stage_before


def new_state(lead_id: str, model: CompiledModel) -> ScoreState:
    """The state of a lead the model has never scored."""
    return ScoreState(lead_id=lead_id, model_id=model.id, model_version=model.version)


def fit_attributes(facts: EventFacts, model: CompiledModel) -> dict[str, str | Decimal]:
    """The event's attributes that the model's fit rules look at, normalised for storage and comparison."""
    values: dict[str, str | Decimal] = {}
    for name in model.fit_fields:
        raw: object = facts.email_domain if name == EMAIL_DOMAIN else facts.attributes.get(name)
        if raw is None or isinstance(raw, bool):
            continue
        number = as_number(raw) if isinstance(raw, int | float) else None
        text = str(raw).strip()
        if number is not None:
            values[name] = number
        elif text:
            values[name] = text[:128]
    return values


def score_fit(attributes: Mapping[str, str | Decimal], model: CompiledModel) -> dict[str, Decimal]:
    """Points from every fit rule that holds for `attributes` (rule id -> points, non-zero only)."""
    fields = Fields(attributes)
    return {rule.id: rule.points for rule in model.fit_rules if rule.points != ZERO and rule.applies(fields)}


def engagement_hits(facts: EventFacts, model: CompiledModel) -> tuple[CompiledEngagementRule, ...]:
    by_type = model.automated_by_type if facts.automated else model.engagement_by_type
    rules = by_type.get(facts.type, ())
    if not rules:
        return ()
    fields = Fields(facts.properties)
    return tuple(rule for rule in rules if rule.applies(fields))


def _copy(state: ScoreState) -> ScoreState:
    # Spelled out rather than dataclasses.replace, which inspects the fields on every call (hot loop).
    s = state
    return ScoreState(
        s.lead_id, s.model_id, s.model_version, s.version, s.fit, s.engagement, s.total, s.stage,
        s.stage_changed_at, s.recycled_at, dict(s.points), dict(s.hits), dict(s.attributes), s.attributes_at,
        s.attributes_digest, list(s.seen), dict(s.rule_days), {rule: dict(p) for rule, p in s.caps.items()},
        s.last_activity_at, s.alert_armed, s.alert_pending, s.alerts_sent, s.last_alert_at, s.suppressed,
        s.created_at, s.updated_at, s.decayed_day, s.decay_due, list(s.stage_log), s.probability, s.p_factors,
        s.p_stage, s.p_version, s.p_armed,
    )  # fmt: skip


def _award(rule: CompiledEngagementRule, occurred_at: int, state: ScoreState) -> RuleHit:
    """Points `rule` gives now, honouring its cap for the event's period (updates state.caps)."""
    if rule.cap is None or rule.points <= ZERO:
        return RuleHit(rule.id, rule.points)
    period = period_id(occurred_at, rule.cap.per)
    periods = state.caps.setdefault(rule.id, {})
    used = periods.get(period, ZERO)  # a late event from a pruned period starts from zero again
    points = max(ZERO, min(rule.points, rule.cap.points - used))
    count_cap_use(periods, period, points, stale_periods(occurred_at, rule.cap.per))
    return RuleHit(rule.id, points, capped=points < rule.points)


def count_cap_use(periods: dict[str, Decimal], period: str, points: Decimal, stale: tuple[str, ...]) -> None:
    """Add `points` to `period`'s counter and drop the counters of `stale` periods (both paths do this)."""
    periods[period] = periods.get(period, ZERO) + points
    if len(periods) > 1:  # usually only this period's counter is there
        for old in stale:
            periods.pop(old, None)


def _prune_caps(state: ScoreState) -> None:
    """Keep only each capped rule's newest period: older counters matter only to late events."""
    newest = {rule: max(periods) for rule, periods in state.caps.items() if periods}
    state.caps = {rule: {period: state.caps[rule][period]} for rule, period in newest.items()}


def _merge_attributes(facts: EventFacts, model: CompiledModel, state: ScoreState) -> bool:
    """Apply what the lead told us (newest wins; older events fill gaps). True if fit attributes changed."""
    incoming = fit_attributes(facts, model)
    before = dict(state.attributes)
    if state.attributes_at is None or facts.occurred_at >= state.attributes_at:
        state.attributes.update(incoming)
        state.attributes_at = facts.occurred_at
        state.attributes_digest = attributes_digest(facts.attributes)
    else:
        for name, value in incoming.items():
            state.attributes.setdefault(name, value)
    return state.attributes != before


def score_event(
    facts: EventFacts,
    model: CompiledModel,
    state: ScoreState,
    *,
    now: int,
    alert_lease_seconds: int,
) -> ScoreResult:
    """Apply one event to a lead's score under one model.

    Returns the new state (a copy), what the event contributed, the stage move, and a new pending alert
    when the lead reaches the sales threshold while armed and not suppressed. A duplicate (fingerprint
    already remembered) changes nothing; an event that matches no rule and carries no attributes is a
    no-op (decided from the event alone, so callers can skip all I/O for it).
    """
    rules = engagement_hits(facts, model)
    if not rules and not facts.attributes and not (facts.suppresses and not state.suppressed):
        return ScoreResult(state=state, outcome=Outcome.NO_OP, stage_before=state.stage)
    fingerprint = facts.fingerprint
    if fingerprint in state.seen:
        return ScoreResult(state=state, outcome=Outcome.DUPLICATE, stage_before=state.stage)

    new = _copy(state)
    attributes_changed = False
    profile_changed = False
    if facts.attributes or not state.version:  # a new lead always records its email domain
        attributes_changed = _merge_attributes(facts, model, new)
        profile_changed = new.attributes_digest != state.attributes_digest
    model_changed = new.model_version != model.version

    if attributes_changed or model_changed or not state.version:
        fit_points = score_fit(new.attributes, model)
        fit_ids = {rule.id for rule in model.fit_rules}
        new.points = {rule: points for rule, points in new.points.items() if rule not in fit_ids}
        new.points.update(fit_points)
        new.fit = sum(fit_points.values(), ZERO)
    if model_changed:
        known = {rule.id for rules_of_type in model.engagement_by_type.values() for rule in rules_of_type}
        new.caps = {rule: use for rule, use in new.caps.items() if rule in known}
        new.model_version = model.version

    hits = tuple(_award(rule, facts.occurred_at, new) for rule in rules)
    day = day_code(facts.occurred_at)
    for hit in hits:
        new.hits[hit.rule_id] = new.hits.get(hit.rule_id, 0) + 1
        if not facts.automated:  # automated activity is counted, but it is not something the lead did lately
            new.rule_days[hit.rule_id] = max(new.rule_days.get(hit.rule_id, 0), day)
        if hit.points != ZERO:
            new.points[hit.rule_id] = new.points.get(hit.rule_id, ZERO) + hit.points
            new.engagement += hit.points
    # Automated activity is not the lead being active: it must not postpone decay either.
    active = bool(rules) and not facts.automated
    if active and (new.last_activity_at is None or facts.occurred_at > new.last_activity_at):
        new.last_activity_at = facts.occurred_at
    if active:
        new.decay_due = None  # due again from its last activity (the decay job recomputes it)
        # The inactivity penalty measures the current quiet spell: activity ends it.
        new.engagement -= new.points.pop(INACTIVITY_RULE, ZERO)
    if facts.suppresses and not new.suppressed:
        new.suppressed = True
        new.alert_pending = None  # an alert not yet out must not go out for an address we may not use

    weights = model.model.weights
    new.total = new.fit * weights.fit + new.engagement * weights.engagement
    move_stage(new, model, now)
    rearmed, alert = _update_alert(new, model, fingerprint, now, alert_lease_seconds)

    new.seen.append(fingerprint)
    if len(new.seen) >= SEEN_MAX:
        # Housekeeping happens only here, where the fast path never applies, so both paths stay equal.
        new.seen = new.seen[-SEEN_KEEP:]
        _prune_caps(new)
    new.version = state.version + 1
    new.created_at = state.created_at or now
    new.updated_at = now
    return ScoreResult(
        state=new,
        outcome=Outcome.APPLIED,
        hits=hits,
        attributes_changed=attributes_changed or profile_changed,
        stage_before=state.stage,
        new_alert=alert,
        rearmed=rearmed,
    )


def rearm_below_level(state: ScoreState, model: CompiledModel) -> bool:
    """Re-arm a disarmed lead whose total fell below the re-arm level (decay lowers totals too)."""
    if not state.alert_armed and state.total < model.model.rearm_level:
        state.alert_armed = True
        return True
    return False


def move_stage(state: ScoreState, model: CompiledModel, now: int) -> None:
    """Put the lead in the stage its total says; moving down records when it was recycled."""
    stage = stage_for(state.total, model.model)
    if stage is state.stage:
        return
    if STAGE_ORDER[stage] < STAGE_ORDER[state.stage]:
        state.recycled_at = now
    log = state.stage_log
    if not log and state.stage is not Stage.LEAD and state.stage_changed_at is not None:
        log = [(state.stage, state.stage_changed_at)]  # an item from before the log: its stage since when
    state.stage = stage
    state.stage_changed_at = now
    state.stage_log = [*log, (stage, now)][-STAGE_LOG_MAX:]


def _update_alert(
    state: ScoreState, model: CompiledModel, fingerprint: str, now: int, lease_seconds: int
) -> tuple[bool, PendingAlert | None]:
    """Re-arm below sql - margin; raise one pending alert at or above sql while armed."""
    rearmed = rearm_below_level(state, model)
    if state.alert_armed and not state.suppressed and state.total >= model.model.thresholds.sql:
        pending = state.alert_pending
        if pending is not None and pending.predictive:
            if pending.publishing_at is not None:
                return rearmed, None  # a predictive alert is going out: this one stays owed (still armed)
            # A predictive alert not yet sent gives way: the rule alert shows the probability too.
        elif pending is not None:
            # Fell below the re-arm level and rose again while the alert was still going out: that alert
            # covers this crossing too. Otherwise an armed lead would sit above sql with no alert owed.
            state.alert_armed = False
            return rearmed, None
        state.alert_pending = PendingAlert(
            alert_id=f"{state.lead_id[:10]}-{state.model_id}-{state.alerts_sent + 1}-{fingerprint}",
            created_at=now,
            lease_until=now + lease_seconds,
            total=state.total,
            stage=state.stage,
        )
        state.alert_armed = False
        return rearmed, state.alert_pending
    return rearmed, None


def utc_now() -> int:
    return int(datetime.now(UTC).timestamp())
