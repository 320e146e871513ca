"""apply_decay: a lead's engagement fading while it is quiet, computed from elapsed days, never from run counts.

Pure and deterministic. Time is counted in whole UTC days ("epoch days"). The state remembers the last day
decay was applied (`decayed_day`); applying again on the same day changes nothing, and a run after missed
days applies all of them at once, with the same result as daily runs:

- half-life: each day multiplies a rule's positive points by 0.5 ** (1 / half_life), counted from the later
  of the last decay and the rule's last match, and stores them rounded (POINT_PLACES; below NEGLIGIBLE they
  are gone). A catch-up over n days takes the same n rounded steps (`fade`, cached), so it stores exactly
  what n daily runs would; two half-lives leave a quarter up to one rounding a day (< POINT_PLACES each).
- step penalty (a rule's, or the lead's `inactivity`): after `after_days` quiet days, `points` every
  `every_days`. The number of steps due is an integer function of (day, last activity): the steps of a run
  are steps_due(today) - steps_due(last decay day), exact under any schedule.
- floor: the day decay first goes below it, every change of that day shrinks in proportion so engagement
  lands on it; a catch-up finds that day (engagement falls monotonically) and shares the cut the same way.
- exact while the lead is quiet; if a rule matched during days the job missed, its older points fade from
  that match only (they would have faded on the missed days before it): see docs/decay.md, "Known limit".

Invariants: fit never changes; negative points never fade; a rule's points never change sign; decay never
takes engagement below the model's floor and never raises it; stages only move down ("recycled"), alerts
are never raised, and a disarmed lead that falls below the re-arm level is re-armed in the same write.

API:

- ``apply_decay(state, model, *, now) -> DecayResult``: a new state (the input is never mutated) with decay
  applied up to `now`'s UTC day. ``changed`` is False when only ``decay_due`` / ``decayed_day`` moved.
  Suppressed leads and leads already decayed today come back as the same object. Never raises an alert,
  never touches ``alert_pending`` (an expired lease is the service's to retry) and does not bump
  ``version``: the caller writes under ``expected_version=state.version``.
- ``decay_due_day(state, model) -> int``: the yyyymmdd UTC day from which the lead next needs the job;
  ``NEVER`` when it does not until it is active again. apply_decay stores it in ``state.decay_due``.
- State fields (stored as ``dz`` / ``dd``): ``decayed_day`` is the UTC epoch day decay was last applied
  (None: not since the points were earned), so "twice the same day is a no-op" holds by construction;
  ``decay_due`` is decay_due_day after the last decay (None: index from the last-activity day).
- Values: half-lives fade one rounded day at a time (exact catch-up), so "two half-lives" is a quarter only
  to the 6th decimal (20 points, 14-day half-life, 28 days: 5.000001): compare with a tolerance of about
  0.000001 per day, or at 2 decimals as points are shown.
"""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from operator import attrgetter
from typing import NamedTuple

from leadscore.core.rules import AUTOMATED_SUFFIX, ZERO, CompiledModel
from leadscore.core.scoring import move_stage, rearm_below_level
from leadscore.core.stages import DAY_SECONDS
from leadscore.core.state import ScoreState, Stage
from leadscore.models.scoring_model import INACTIVITY_RULE, HalfLife, Inactivity, RuleDecay, StepPenalty

POINT_PLACES = Decimal("0.000001")  # stored precision of decayed points
NEGLIGIBLE = Decimal("0.005")  # points below this are gone (shown as 0.00 anyway): the lead can reach the floor
NEVER = 99_991_231  # decay_due of a lead with nothing left to decay: it leaves the index until it is active again
HALF = Decimal("0.5")
CATCH_UP_DAYS = 3660  # half-life gaps up to ten years are stepped day by day (exactly as daily runs)


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


@lru_cache(maxsize=65_536)  # first runs after an event start from the rule's own points: few distinct inputs
def fade(points: Decimal, days: int, half_life_days: Decimal) -> Decimal:
    """`points` after `days` of half-life decay, one stored (rounded) day at a time.

    Stepping day by day makes a catch-up over n days give exactly what n daily runs store, rounding
    included; a daily run is one step. Gaps over CATCH_UP_DAYS (only for data imported years old) use
    one power instead: within POINT_PLACES per day of the daily result.
    """
    if days > CATCH_UP_DAYS:
        return _stored(points * half_life_factor(days, half_life_days))
    daily = half_life_factor(1, half_life_days)
    for _ in range(days):
        points = max(ZERO, points * daily).quantize(POINT_PLACES, rounding=ROUND_HALF_EVEN)  # _stored, inlined
        if points < NEGLIGIBLE:
            return ZERO
    return points


def _stored(points: Decimal) -> Decimal:
    """Points as stored: POINT_PLACES decimals, and nothing once below NEGLIGIBLE."""
    points = max(ZERO, points).quantize(POINT_PLACES, rounding=ROUND_HALF_EVEN)
    return ZERO if points < NEGLIGIBLE else points


_POLICIES: dict[int, tuple[CompiledModel, dict[str, RuleDecay | None]]] = {}


def _policies(model: CompiledModel) -> dict[str, RuleDecay | None]:
    """Every engagement rule id (and its automated entry) of the model -> its policy, built once per model
    (a replay asks for each entry of each state at every run: millions of times).

    A rule's policy is its own, else the default; automated points ('<rule>:automated', machine opens and
    scanner clicks) fade by their rule's. Fit rules and other ids are absent; the callers skip points <= 0.
    """
    cached = _POLICIES.get(id(model))
    if cached is not None and cached[0] is model:  # the model is held, so its id() is not reused while cached
        return cached[1]
    decay = model.model.decay
    table: dict[str, RuleDecay | None] = {}
    for entry in (*model.engagement_ids, *(f"{rule_id}{AUTOMATED_SUFFIX}" for rule_id in model.engagement_ids)):
        rule_id = entry.removesuffix(AUTOMATED_SUFFIX)
        if rule_id in model.engagement_ids:
            table[entry] = decay.rules.get(rule_id, decay.default)
    if len(_POLICIES) >= 64:
        _POLICIES.clear()
    _POLICIES[id(model)] = (model, table)
    return table


def _rule_points_after(points: Decimal, policy: RuleDecay, start: int, today: int, quiet_since: int) -> Decimal:
    if isinstance(policy, HalfLife):
        return fade(points, today - start, policy.half_life_days)
    steps = steps_due(today, quiet_since, policy) - steps_due(start, quiet_since, policy)
    return _stored(points + policy.points * steps)


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
    points = _decayed_points(state, model, today, last_active)
    engagement = _engagement(points, state)
    if engagement < model.model.decay.floor and engagement < state.engagement:
        # The floor stops decay. Daily runs would have stopped on the first day it did, sharing that day's
        # cut in proportion; find that day (engagement falls monotonically) and do exactly the same.
        state_before, points = _the_day_the_floor_stops_decay(state, model, today, last_active)
        engagement = _engagement(points, state_before)
        engagement, points = _respect_floor(state_before, points, engagement, model)
    points = {rule: value for rule, value in points.items() if value != ZERO}  # faded away or never started
    new = _shallow_copy(state)  # dataclasses.replace inspects the fields on every call (a replay's hot loop)
    new.points, new.engagement, new.decayed_day = points, engagement, today
    weights = model.model.weights
    new.total = new.fit * weights.fit + new.engagement * weights.engagement
    changed = new.engagement != state.engagement or points != state.points
    rearmed = False
    if changed:
        move_stage(new, model, now)
        rearmed = rearm_below_level(new, model)
        new.updated_at = now
    new.decay_due = decay_due_day(new, model)
    return DecayResult(new, changed, state.stage, rearmed, state.engagement - new.engagement)


_STATE_FIELDS = attrgetter(*(field.name for field in fields(ScoreState)))


def _shallow_copy(state: ScoreState) -> ScoreState:
    """A new state sharing the input's values (what dataclasses.replace gives, without its per-call work)."""
    return ScoreState(*_STATE_FIELDS(state))


def _decayed_points(state: ScoreState, model: CompiledModel, today: int, last_active: int) -> dict[str, Decimal]:
    """Every entry after decay up to `today`, before the floor (entries that faded away are 0)."""
    # Decay counts from the later of the last run and each rule's own last match (never from the lead's
    # last activity: points earned long ago keep fading when something else happens today).
    since = state.decayed_day if state.decayed_day is not None else 0
    points = dict(state.points)
    policies = _policies(model)
    for rule_id, value in state.points.items():
        policy = policies.get(rule_id) if value > ZERO else None  # positive points only: fit ids are not in it
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
    return points


def _the_day_the_floor_stops_decay(
    state: ScoreState, model: CompiledModel, today: int, last_active: int
) -> tuple[ScoreState, dict[str, Decimal]]:
    """The state daily runs would have stored the day before decay first went below the floor, and the
    entries that day's run would have computed (before the floor). `today` is such a day."""
    floor = model.model.decay.floor

    def below_floor(day: int) -> bool:
        return _engagement(_decayed_points(state, model, day, last_active), state) < floor

    if state.decayed_day is not None:
        low = state.decayed_day  # nothing changed by then
    else:
        low = min([last_active, *(day_of_code(code) for code in state.rule_days.values())])
    high = today  # below_floor(high) holds; find the first such day after `low`
    while high - low > 1:
        middle = (low + high) // 2
        if below_floor(middle):
            high = middle
        else:
            low = middle
    before = {rule: value for rule, value in _decayed_points(state, model, low, last_active).items() if value}
    state_before = replace(state, points=before, engagement=_engagement(before, state), decayed_day=low)
    return state_before, _decayed_points(state_before, model, high, last_active)


def _engagement(points: dict[str, Decimal], state: ScoreState) -> Decimal:
    """Engagement = the state's engagement moved by exactly what decay changed (an entry missing is 0)."""
    changed = points.keys() | state.points.keys()
    return state.engagement + sum((points.get(rule, ZERO) - state.points.get(rule, ZERO) for rule in changed), ZERO)


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
    # Land exactly on the floor (a lead already below it stays where it is): the rounding error of the
    # scaled entries goes to one changed entry, the one farthest from zero (so no entry changes sign), and
    # the inactivity penalty only when nothing else changed (it never passes its limit).
    lowest = min(floor, state.engagement)
    error = _engagement(scaled, state) - lowest
    if error:
        changed = [rule for rule in scaled if scaled[rule] != state.points.get(rule, ZERO)] or list(scaled)
        absorbers = [rule for rule in changed if rule != INACTIVITY_RULE] or changed
        scaled[max(absorbers, key=lambda rule: abs(scaled[rule]))] -= error
    return lowest, scaled


def decay_due_day(state: ScoreState, model: CompiledModel) -> int:
    """The UTC day (yyyymmdd) from which the job must look at this lead again; NEVER when nothing can decay
    until the lead is active again (suppressed, at the floor, or no policy applies to what it has)."""
    last_active = _last_active_day(state)
    decay = model.model.decay
    if state.suppressed or last_active is None or state.engagement <= decay.floor:
        return NEVER
    after = (state.decayed_day if state.decayed_day is not None else last_active - 1) + 1
    due: list[int] = []
    policies = _policies(model)
    for rule_id, value in state.points.items():
        policy = policies.get(rule_id) if value > ZERO else None
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
