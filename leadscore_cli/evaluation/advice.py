"""Advice with its backtest: thresholds that hit a target, and the half-life per rule that fits the outcomes.

Every piece of advice comes with "what it would have changed" on the same ledger: MQL per week, the sales
acceptance rate of the leads that would have reached SQL, and the AUC, before and after.

Threshold backtests need no replay: a lead reaches threshold T before its outcome exactly when its highest
total before that outcome (`peak_total`, from the ledger) is at least T. Half-lives change every score, so
each candidate is replayed through the pure core on the same events (see `search_half_lives`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from leadscore.models.scoring_model import HalfLife, ScoringModel
from leadscore_cli.evaluation.metrics import LeadRow

MIN_LEADS = 5  # an acceptance rate over fewer leads is noise, not advice
HALF_LIFE_GRID = (7, 14, 30, 60, 120)


@dataclass(frozen=True, slots=True)
class Backtest:
    """What a model (or a threshold) would have produced on the evaluated ledger."""

    mql_per_week: float
    sql_per_week: float
    acceptance: float | None  # share of the leads reaching SQL before their outcome that sales accepted
    auc: float | None


@dataclass(frozen=True, slots=True)
class Advice:
    what: str  # e.g. "MQL threshold" or "half-life of pricing_interest"
    current: str
    advised: str
    reason: str
    before: Backtest
    after: Backtest


def reaching(leads: Sequence[LeadRow], threshold: float) -> list[LeadRow]:
    return [row for row in leads if row.peak_total >= threshold]


def backtest(leads: Sequence[LeadRow], *, mql: float, sql: float, weeks: int, auc: float | None) -> Backtest:
    """Counts of leads reaching each threshold before their outcome, per week of the ledger."""
    sql_leads = reaching(leads, sql)
    accepted = sum(1 for row in sql_leads if row.accepted)
    return Backtest(
        mql_per_week=len(reaching(leads, mql)) / weeks,
        sql_per_week=len(sql_leads) / weeks,
        acceptance=accepted / len(sql_leads) if sql_leads else None,
        auc=auc,
    )


def _candidates(leads: Sequence[LeadRow]) -> list[int]:
    peaks = sorted({max(1, int(row.peak_total)) for row in leads if row.peak_total > 0})
    return peaks or [1]


def advise_mql_threshold(
    leads: Sequence[LeadRow], model: ScoringModel, *, target_per_week: float, weeks: int, auc: float | None
) -> Advice:
    """The whole-number MQL threshold whose weekly MQL count comes closest to the target (ties: the higher)."""
    mql, sql = float(model.thresholds.mql), float(model.thresholds.sql)
    candidates = [t for t in _candidates(leads) if t < sql] or [int(mql)]
    best = min(candidates, key=lambda t: (abs(len(reaching(leads, t)) / weeks - target_per_week), -t))
    return Advice(
        what="MQL threshold",
        current=f"{mql:g}",
        advised=f"{best:g}",
        reason=f"closest to the target of {target_per_week:g} MQL a week",
        before=backtest(leads, mql=mql, sql=sql, weeks=weeks, auc=auc),
        after=backtest(leads, mql=best, sql=sql, weeks=weeks, auc=auc),  # a threshold never changes the ranking
    )


def advise_sql_threshold(
    leads: Sequence[LeadRow],
    model: ScoringModel,
    *,
    target_acceptance: float,
    weeks: int,
    auc: float | None,
    min_leads: int = MIN_LEADS,
) -> Advice:
    """The lowest SQL threshold above MQL whose leads sales accepted at the target rate (at least min_leads).

    When none reaches the target, the threshold with the best acceptance, and the reason says so.
    """
    mql, sql = float(model.thresholds.mql), float(model.thresholds.sql)
    rated: list[tuple[int, float]] = []
    for threshold in _candidates(leads):
        if threshold <= mql:
            continue
        group = reaching(leads, threshold)
        if len(group) >= min_leads:
            rated.append((threshold, sum(1 for row in group if row.accepted) / len(group)))
    meeting = [threshold for threshold, rate in rated if rate >= target_acceptance]
    if meeting:
        best, reason = min(meeting), f"the lowest total at which sales accepted at least {target_acceptance:.0%}"
    elif rated:
        best, top = max(rated, key=lambda item: (item[1], -item[0]))
        reason = f"no threshold reaches {target_acceptance:.0%} acceptance; this one has the best ({top:.0%})"
    else:
        best, reason = int(sql), "too few leads reach any threshold above MQL to advise"
    return Advice(
        what="SQL threshold",
        current=f"{sql:g}",
        advised=f"{best:g}",
        reason=reason,
        before=backtest(leads, mql=mql, sql=sql, weeks=weeks, auc=auc),
        after=backtest(leads, mql=mql, sql=best, weeks=weeks, auc=auc),
    )


def with_half_life(model: ScoringModel, rule_id: str, days: float) -> ScoringModel:
    """A copy of `model` where `rule_id`'s points fade with a half-life of `days` (a new model version)."""
    document: dict[str, Any] = model.model_dump(mode="python", exclude_none=True)
    decay = document.setdefault("decay", {})
    decay.setdefault("rules", {})[rule_id] = {"half_life_days": Decimal(str(days))}
    document["version"] = f"{model.version}+{rule_id}-hl{days:g}"
    return ScoringModel.model_validate(document)


def current_half_life(model: ScoringModel, rule_id: str) -> float | None:
    if model.decay is None:
        return None
    policy = model.decay.rules.get(rule_id, model.decay.default)
    return float(policy.half_life_days) if isinstance(policy, HalfLife) else None


def decayable_rules(model: ScoringModel, points_by_rule: dict[str, float], *, limit: int) -> list[str]:
    """The positive engagement rules whose points fade by a half-life, those giving most points first."""
    rules = [
        rule.id
        for rule in model.engagement_rules
        if rule.points > 0 and current_half_life(model, rule.id) is not None and points_by_rule.get(rule.id, 0) > 0
    ]
    return sorted(rules, key=lambda rule: -points_by_rule.get(rule, 0))[:limit]


Scorer = Callable[[ScoringModel], tuple[float | None, Backtest]]


@dataclass(frozen=True, slots=True)
class HalfLifeSearch:
    chosen: dict[str, float]  # rule -> advised half-life (only rules where another value fits better)
    tried: dict[str, dict[float, float | None]]  # rule -> half-life -> AUC
    advice: Advice | None


def half_life_tries(model: ScoringModel, rules: Sequence[str], grid: Sequence[float]) -> int:
    """How many replays search_half_lives runs at most (for a progress bar): baseline, tries, combined."""
    return 2 + sum(sum(1 for days in grid if days != current_half_life(model, rule)) for rule in rules)


def search_half_lives(
    model: ScoringModel,
    rules: Sequence[str],
    score: Scorer,
    *,
    grid: Sequence[float] = HALF_LIFE_GRID,
    step: Callable[[str], None] | None = None,
) -> HalfLifeSearch:
    """One coordinate pass: for each rule, the half-life from `grid` with the best AUC, others unchanged.

    `score(model)` replays the same events under `model` and returns its AUC and backtest. A change is kept
    only if it beats the current AUC by more than 0.001 (noise is not advice). The chosen half-lives are then
    replayed together for the before → after backtest.
    """
    if step:
        step("replaying the current model")
    baseline_auc, baseline = score(model)
    tried: dict[str, dict[float, float | None]] = {}
    chosen: dict[str, float] = {}
    for rule in rules:
        current = current_half_life(model, rule)
        results: dict[float, float | None] = {current: baseline_auc} if current is not None else {}
        for days in grid:
            if days == current:
                continue
            if step:
                step(f"{rule} half-life {days:g} days")
            results[days], _ = score(with_half_life(model, rule, days))
        tried[rule] = results
        best_days, best_auc = max(results.items(), key=lambda item: (item[1] or 0.0, -abs(item[0] - (current or 0))))
        if best_auc is not None and baseline_auc is not None and best_auc > baseline_auc + 0.001:
            chosen[rule] = best_days
    if not chosen:
        return HalfLifeSearch(chosen, tried, None)
    combined = model
    for rule, days in chosen.items():
        combined = with_half_life(combined, rule, days)
    if step:
        step("the advised half-lives together")
    _, after = score(combined)
    advice = Advice(
        what="half-lives",
        current=", ".join(f"{rule} {current_half_life(model, rule):g} d" for rule in chosen),
        advised=", ".join(f"{rule} {days:g} d" for rule, days in chosen.items()),
        reason="the half-life per rule whose replayed scores rank the accepted leads best (AUC)",
        before=baseline,
        after=after,
    )
    return HalfLifeSearch(chosen, tried, advice)
