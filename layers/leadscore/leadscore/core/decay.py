"""apply_decay: a lead's engagement fading while it is quiet, computed from elapsed days, never from run counts.

Pure and deterministic. Time is counted in whole UTC days ("epoch days"). The state remembers the last day
decay was applied (`decayed_day`); applying again on the same day changes nothing, and a run after missed
days applies all of them at once, with the same result as daily runs:

- half-life: a rule's positive points are multiplied by 0.5 ** (d / half_life) for the d days since the
  later of the last decay and the rule's last match. Powers multiply (x**a * x**b = x**(a+b)), so one run
  over n days equals n daily runs up to the rounding of stored points (POINT_PLACES decimals, documented
  and tested: within 0.0005 per rule per year of daily runs).
- step penalty (a rule's, or the lead's `inactivity`): after `after_days` quiet days, `points` every
  `every_days`. The number of steps due is an integer function of (day, last activity): the steps of a run
  are steps_due(today) - steps_due(last decay day), exact under any schedule.

Invariants: fit never changes; negative points never fade; a rule's points never change sign; decay never
takes engagement below the model's floor and never raises it; stages only move down ("recycled"), alerts
are never raised, and a disarmed lead that falls below the re-arm level is re-armed in the same write.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from typing import NamedTuple

from leadscore.core.rules import ZERO, CompiledModel
from leadscore.core.scoring import move_stage, rearm_below_level
from leadscore.core.stages import DAY_SECONDS
from leadscore.core.state import ScoreState, Stage
from leadscore.models.scoring_model import INACTIVITY_RULE, HalfLife, Inactivity, RuleDecay, StepPenalty

POINT_PLACES = Decimal("0.000001")  # stored precision of decayed points
NEGLIGIBLE = Decimal("0.005")  # points below this are gone (shown as 0.00 anyway): the lead can reach the floor
NEVER = 99_991_231  # decay_due of a lead with nothing left to decay: it leaves the index until it is active again
HALF = Decimal("0.5")


class DecayResult(NamedTuple):
    state: ScoreState
    changed: bool  # points, stage or alert changed (False: only the next due day may have moved)
    stage_before: Stage
    rearmed: bool
    points_removed: Decimal  # engagement before minus after (>= 0)


def epoch_day(epoch_seconds: int) -> int:
    return epoch_seconds // DAY_SECONDS


@lru_cache(maxsize=4096)
def day_of_code(code: int) -> int:
    """The epoch day of a stored yymmdd rule day."""
    return int(datetime.strptime(f"{code:06d}", "%y%m%d").replace(tzinfo=UTC).timestamp()) // DAY_SECONDS


@lru_cache(maxsize=4096)
def yyyymmdd(day: int) -> int:
    return int(datetime.fromtimestamp(day * DAY_SECONDS, UTC).strftime("%Y%m%d"))


def steps_due(day: int, quiet_since: int, policy: StepPenalty) -> int:
    """Penalty steps owed by `day` for a quiet spell that started on `quiet_since` (0 before `after_days`)."""
    quiet = day - quiet_since
    if quiet < policy.after_days:
        return 0
    return (quiet - policy.after_days) // policy.every_days + 1


@lru_cache(maxsize=8192)  # a Decimal power is costly, and a run sees few distinct (days, half-life) pairs
def half_life_factor(days: int, half_life_days: Decimal) -> Decimal:
    return HALF ** (Decimal(days) / half_life_days) if days > 0 else Decimal(1)


def policy_for(rule_id: str, points: Decimal, model: CompiledModel) -> RuleDecay | None:
    """A rule's decay policy: its own, else the default (positive rules only). Fit and negative points: None."""
    decay = model.model.decay
    if points <= ZERO or rule_id not in model.engagement_ids:
        return None
    return decay.rules.get(rule_id, decay.default)


def _rule_points_after(points: Decimal, policy: RuleDecay, start: int, today: int, quiet_since: int) -> Decimal:
    if isinstance(policy, HalfLife):
        faded = points * half_life_factor(today - start, policy.half_life_days)
    else:
        steps = steps_due(today, quiet_since, policy) - steps_due(start, quiet_since, policy)
        faded = points + policy.points * steps
    faded = max(ZERO, faded).quantize(POINT_PLACES, rounding=ROUND_HALF_EVEN)
    return ZERO if faded < NEGLIGIBLE else faded


def _last_active_day(state: ScoreState) -> int | None:
    return None if state.last_activity_at is None else epoch_day(state.last_activity_at)


def apply_decay(state: ScoreState, model: CompiledModel, *, now: int) -> DecayResult:
    """The state after decay up to `now`'s UTC day (a copy; the input is never mutated).

    A suppressed lead, or one decayed already today, is returned unchanged (changed=False).
    """
    today = epoch_day(now)
    last_active = _last_active_day(state)
    if state.suppressed or last_active is None or (state.decayed_day is not None and state.decayed_day >= today):
        return DecayResult(state, False, state.stage, False, ZERO)
    # Decay counts from the later of the last run and each rule's own last match (never from the lead's
    # last activity: points earned long ago keep fading when something else happens today).
    since = state.decayed_day if state.decayed_day is not None else 0

    points = dict(state.points)
    for rule_id, value in state.points.items():
        policy = policy_for(rule_id, value, model)
        if policy is None:
            continue
        rule_day = state.rule_days.get(rule_id)
        quiet_since = day_of_code(rule_day) if rule_day else last_active
        start = max(since, quiet_since)
        if start < today:
            points[rule_id] = _rule_points_after(value, policy, start, today, quiet_since)

    inactivity = model.model.decay.inactivity
    if inactivity is not None:
        steps = steps_due(today, last_active, inactivity) - steps_due(max(since, last_active), last_active, inactivity)
        if steps > 0:
            penalty = points.get(INACTIVITY_RULE, ZERO) + inactivity.points * steps
            if inactivity.limit is not None:
                penalty = max(penalty, inactivity.limit)
            points[INACTIVITY_RULE] = penalty

    engagement = _engagement(points, model, state)
    engagement, points = _respect_floor(state, points, engagement, model)
    new = replace(state, points=points, engagement=engagement, decayed_day=today)
    weights = model.model.weights
    new.total = new.fit * weights.fit + new.engagement * weights.engagement
    changed = new.engagement != state.engagement or points != state.points
    rearmed = False
    if changed:
        move_stage(new, model, now)
        rearmed = rearm_below_level(new, model)
        new.points = {rule: value for rule, value in new.points.items() if value != ZERO}
        new.updated_at = now
    new.decay_due = decay_due_day(new, model)
    return DecayResult(new, changed, state.stage, rearmed, state.engagement - new.engagement)


def _engagement(points: dict[str, Decimal], model: CompiledModel, state: ScoreState) -> Decimal:
    """Engagement = the state's engagement moved by exactly the points decay changed (other entries as they are)."""
    delta = sum((points.get(rule, ZERO) - state.points.get(rule, ZERO) for rule in points), ZERO)
    return state.engagement + delta


def _respect_floor(
    state: ScoreState, points: dict[str, Decimal], engagement: Decimal, model: CompiledModel
) -> tuple[Decimal, dict[str, Decimal]]:
    """Decay never takes engagement below the floor: shrink every change in proportion when it would."""
    floor = model.model.decay.floor
    if engagement >= floor or engagement >= state.engagement:
        return engagement, points
    allowed = max(ZERO, state.engagement - floor)  # how much decay may still remove
    wanted = state.engagement - engagement
    share = allowed / wanted
    scaled = {
        rule: (state.points.get(rule, ZERO) + (value - state.points.get(rule, ZERO)) * share).quantize(POINT_PLACES)
        for rule, value in points.items()
    }
    scaled_engagement = _engagement(scaled, model, state)
    if scaled_engagement < floor:  # rounding: give the shortfall back to the entry that lost most
        rule = min(scaled, key=lambda r: scaled[r] - state.points.get(r, ZERO))
        scaled[rule] += floor - scaled_engagement
        scaled_engagement = floor
    return scaled_engagement, scaled


def decay_due_day(state: ScoreState, model: CompiledModel) -> int:
    """The UTC day (yyyymmdd) from which the job must look at this lead again; NEVER when nothing can decay
    until the lead is active again (suppressed, at the floor, or no policy applies to what it has)."""
    last_active = _last_active_day(state)
    decay = model.model.decay
    if state.suppressed or last_active is None or state.engagement <= decay.floor:
        return NEVER
    after = (state.decayed_day if state.decayed_day is not None else last_active - 1) + 1
    due: list[int] = []
    for rule_id, value in state.points.items():
        policy = policy_for(rule_id, value, model)
        if isinstance(policy, HalfLife):
            due.append(after)
        elif isinstance(policy, StepPenalty):
            rule_day = state.rule_days.get(rule_id)
            quiet_since = day_of_code(rule_day) if rule_day else last_active
            due.append(max(after, _next_step_day(after, quiet_since, policy)))
    inactivity: Inactivity | None = decay.inactivity
    if inactivity is not None and (
        inactivity.limit is None or state.points.get(INACTIVITY_RULE, ZERO) > inactivity.limit
    ):
        due.append(max(after, _next_step_day(after, last_active, inactivity)))
    return yyyymmdd(min(due)) if due else NEVER


def _next_step_day(after: int, quiet_since: int, policy: StepPenalty) -> int:
    """The first day >= `after` on which one more step is owed."""
    first = quiet_since + policy.after_days
    if after <= first:
        return first
    steps_done = (after - first - 1) // policy.every_days + 1
    return first + steps_done * policy.every_days
