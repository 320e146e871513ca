"""The fast path: an update computed from the event alone, plus the conditions under which it is exact.

Most events change a lead's score by a fixed amount: no threshold is crossed, no cap period rolls over, the
attributes are the ones we already have. For those, the store applies `FastPathPlan` in one conditional
write without reading the lead first. When any condition fails, the store hands back the current state
and the caller falls back to `score_event` (the exact transition).

Invariant (property-tested): `plan.applies_to(state)` implies
`plan.apply(state) == score_event(facts, model, state, now=plan.now, ...).state`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from leadscore.core.identity import attributes_digest
from leadscore.core.rules import ZERO, CompiledModel
from leadscore.core.scoring import EventFacts, count_cap_use, engagement_hits
from leadscore.core.stages import day_code, day_number, period_id, stale_periods
from leadscore.core.state import SEEN_MAX, ScoreState
from leadscore.models.scoring_model import INACTIVITY_RULE

# Appending must not reach SEEN_MAX, where the exact path would trim instead.
SEEN_APPEND_LIMIT = SEEN_MAX - 1


@dataclass(frozen=True, slots=True)
class CapCheck:
    """The capped rule's counter for `period` (absent = 0) has room for `points` (used <= max_used).

    Applying it also removes the counters of `stale` periods, exactly as the exact path does.
    """

    rule_id: str
    period: str
    points: Decimal
    max_used: Decimal
    stale: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LevelGuard:
    """The total stays on one side of a level: total < below OR total >= at_or_above."""

    below: Decimal
    at_or_above: Decimal

    def holds(self, total: Decimal) -> bool:
        return total < self.below or total >= self.at_or_above


@dataclass(frozen=True, slots=True)
class FastPathPlan:
    model_version: str
    fingerprint: str
    attributes_digest: str | None  # None: the event carries no attributes
    attributes_at: int | None  # set with the digest: the stored attributes must not be newer
    engagement_delta: Decimal
    total_delta: Decimal
    points: dict[str, Decimal]  # non-zero points per rule
    hits: dict[str, int]
    # yymmdd of the event: each matched rule's last day (monotone: out-of-order events go exact). None for
    # automated activity, which records no day (not the lead's activity; and no ordering guard covers it).
    day: int | None
    caps: tuple[CapCheck, ...]
    guards: tuple[LevelGuard, ...]
    activity_at: int | None  # occurred_at, when the event is engagement activity
    now: int

    @property
    def activity_day(self) -> int | None:
        return None if self.activity_at is None else day_number(self.activity_at)

    def applies_to(self, state: ScoreState) -> bool:
        """The conditions the store checks atomically, in Python (for the in-memory store and tests)."""
        if not state.version or state.model_version != self.model_version or state.alert_pending is not None:
            return False
        if self.fingerprint in state.seen or len(state.seen) >= SEEN_APPEND_LIMIT:
            return False
        if self.attributes_digest is not None and (
            state.attributes_digest != self.attributes_digest
            or (
                state.attributes_at is not None
                and self.attributes_at is not None
                and state.attributes_at > self.attributes_at
            )
        ):
            return False
        if any(state.caps.get(check.rule_id, {}).get(check.period, ZERO) > check.max_used for check in self.caps):
            return False
        if not all(guard.holds(state.total) for guard in self.guards):
            return False
        # Not an out-of-order event; and activity ends an inactivity penalty, which the exact path removes.
        return self.activity_at is None or (
            INACTIVITY_RULE not in state.points
            and (state.last_activity_at is None or state.last_activity_at <= self.activity_at)
        )

    def apply(self, state: ScoreState) -> ScoreState:
        """The state after the update (what the store's single write produces)."""
        points = dict(state.points)
        for rule, value in self.points.items():
            points[rule] = points.get(rule, ZERO) + value
        hits = dict(state.hits)
        rule_days = dict(state.rule_days)
        for rule, count in self.hits.items():
            hits[rule] = hits.get(rule, 0) + count
            if self.day is not None:
                rule_days[rule] = self.day
        caps = {rule: dict(periods) for rule, periods in state.caps.items()}
        for check in self.caps:
            count_cap_use(caps.setdefault(check.rule_id, {}), check.period, check.points, check.stale)
        return replace(
            state,
            version=state.version + 1,
            engagement=state.engagement + self.engagement_delta,
            total=state.total + self.total_delta,
            points=points,
            hits=hits,
            caps=caps,
            attributes=dict(state.attributes),
            attributes_at=self.attributes_at if self.attributes_digest is not None else state.attributes_at,
            seen=[*state.seen, self.fingerprint],
            rule_days=rule_days,
            last_activity_at=self.activity_at if self.activity_at is not None else state.last_activity_at,
            decay_due=None if self.activity_at is not None else state.decay_due,
            updated_at=self.now,
        )


def _guards(model: CompiledModel, delta: Decimal) -> tuple[LevelGuard, ...]:
    """One guard per level the total must not cross: stage thresholds and, going down, the re-arm level.

    Rising through the re-arm level changes nothing: a lead is disarmed only at or above it (the exact path
    re-arms whenever a disarmed lead's total ends below it), so only a fall can re-arm.
    """
    if delta == ZERO:
        return ()
    thresholds = model.model.thresholds
    levels = sorted({thresholds.mql, thresholds.sql} | ({model.model.rearm_level} if delta < ZERO else set()))
    up, down = max(delta, ZERO), min(delta, ZERO)
    # Crossing L means min(t, t+d) < L <= max(t, t+d), i.e. L - up <= t < L - down.
    return tuple(LevelGuard(below=level - up, at_or_above=level - down) for level in levels)


def plan_fast_path(facts: EventFacts, model: CompiledModel, *, now: int) -> FastPathPlan | None:
    """The blind update for `facts`, or None when no blind update can be exact (or there is nothing to do)."""
    if facts.suppresses:
        return None  # suppressing a lead cancels alerts and leaves the decay index: the exact path's job
    rules = engagement_hits(facts, model)
    if not rules and not facts.attributes:
        return None
    points: dict[str, Decimal] = {}
    hits: dict[str, int] = {}
    caps: list[CapCheck] = []
    for rule in rules:
        hits[rule.id] = hits.get(rule.id, 0) + 1
        if rule.cap is not None and rule.points > ZERO:
            if rule.points > rule.cap.points:
                return None
            period = period_id(facts.occurred_at, rule.cap.per)
            stale = stale_periods(facts.occurred_at, rule.cap.per)
            caps.append(CapCheck(rule.id, period, rule.points, rule.cap.points - rule.points, stale))
        if rule.points != ZERO:
            points[rule.id] = points.get(rule.id, ZERO) + rule.points
    engagement_delta = sum(points.values(), ZERO)
    total_delta = engagement_delta * model.model.weights.engagement
    return FastPathPlan(
        model_version=model.version,
        fingerprint=facts.fingerprint,
        attributes_digest=attributes_digest(facts.attributes) if facts.attributes else None,
        attributes_at=facts.occurred_at if facts.attributes else None,
        engagement_delta=engagement_delta,
        total_delta=total_delta,
        points=points,
        hits=hits,
        day=None if facts.automated else day_code(facts.occurred_at),
        caps=tuple(caps),
        guards=_guards(model, total_delta),
        activity_at=facts.occurred_at if rules and not facts.automated else None,
        now=now,
    )
