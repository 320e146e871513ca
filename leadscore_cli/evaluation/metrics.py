"""Evaluation metrics over one row per lead: pure Python, no numpy (100,000 rows sort in well under a second).

The label everywhere is "sales accepted the lead" (`sales_accepted`, or a deal won or lost, which implies it).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class LeadRow:
    """A lead as the evaluation sees it: its score just before its first outcome, and that outcome."""

    lead_id: str
    first_touch_at: datetime
    fit: float
    engagement: float
    total: float
    stage: str  # stage at that moment
    reached_mql: bool  # reached MQL (or SQL) at any time before its first outcome
    reached_sql: bool
    first_sql_at: datetime | None
    accepted: bool
    rejected: bool = False
    won: bool = False
    won_amount: float = 0.0
    reject_reason: str | None = None
    first_mql_at: datetime | None = None
    outcome_at: datetime | None = None
    peak_total: float = 0.0  # highest total before the first outcome (threshold backtests)


def roc_auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Area under the ROC curve by ranks (Mann-Whitney U); tied scores share their average rank.

    None when only one class is present (the area is undefined).
    """
    if len(scores) != len(labels):
        raise ValueError("scores and labels differ in length")
    positives = sum(1 for label in labels if label)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return None
    order = sorted(range(len(scores)), key=scores.__getitem__)
    rank_sum = 0.0
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[start]]:
            end += 1
        average_rank = (start + end) / 2 + 1  # ranks are 1-based
        rank_sum += average_rank * sum(1 for i in order[start : end + 1] if labels[i])
        start = end + 1
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


@dataclass(frozen=True, slots=True)
class PrecisionRecall:
    flagged: int
    true_positives: int
    positives: int

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.flagged if self.flagged else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.positives if self.positives else None


def precision_recall(flags: Sequence[bool], labels: Sequence[bool]) -> PrecisionRecall:
    """Precision and recall of a yes/no prediction (e.g. "reached MQL") against the labels."""
    return PrecisionRecall(
        flagged=sum(1 for flag in flags if flag),
        true_positives=sum(1 for flag, label in zip(flags, labels, strict=True) if flag and label),
        positives=sum(1 for label in labels if label),
    )


@dataclass(frozen=True, slots=True)
class Rate:
    leads: int
    converted: int

    @property
    def rate(self) -> float | None:
        return self.converted / self.leads if self.leads else None


def conversion_by(rows: Iterable[LeadRow], key: Callable[[LeadRow], str]) -> dict[str, Rate]:
    """Leads and accepted leads per group (band, stage…), groups sorted by name."""
    counts: dict[str, list[int]] = {}
    for row in rows:
        pair = counts.setdefault(key(row), [0, 0])
        pair[0] += 1
        pair[1] += int(row.accepted)
    return {group: Rate(*counts[group]) for group in sorted(counts)}


@dataclass(frozen=True, slots=True)
class Decile:
    decile: int  # 1 = the best-scored tenth
    leads: int
    converted: int
    rate: float
    lift: float | None  # rate / overall rate
    cumulative_share_of_conversions: float | None  # gains curve: share of all conversions in deciles 1..d


def lift_by_decile(scores: Sequence[float], labels: Sequence[bool], *, groups: int = 10) -> list[Decile]:
    """Leads sorted by score (best first; ties keep input order) cut into `groups` near-equal slices.

    Slice d holds positions [floor(d*n/groups), floor((d+1)*n/groups)). Empty slices are left out.
    """
    n = len(scores)
    if n == 0:
        return []
    order = sorted(range(n), key=lambda i: -scores[i])
    total_converted = sum(1 for label in labels if label)
    overall = total_converted / n
    deciles: list[Decile] = []
    cumulative = 0
    for d in range(groups):
        members = order[d * n // groups : (d + 1) * n // groups]
        if not members:
            continue
        converted = sum(1 for i in members if labels[i])
        cumulative += converted
        rate = converted / len(members)
        deciles.append(
            Decile(
                decile=d + 1,
                leads=len(members),
                converted=converted,
                rate=rate,
                lift=rate / overall if overall else None,
                cumulative_share_of_conversions=cumulative / total_converted if total_converted else None,
            )
        )
    return deciles


@dataclass(frozen=True, slots=True)
class StageCalibration:
    stage: str
    leads: int
    accepted: int
    rejected: int
    won: int

    @property
    def acceptance(self) -> float | None:
        return self.accepted / self.leads if self.leads else None


STAGES = ("LEAD", "MQL", "SQL")


def calibration_by_stage(rows: Iterable[LeadRow]) -> list[StageCalibration]:
    """Per stage the lead was in at the moment of its outcome (or at its last event): what sales said.

    A calibrated model has acceptance rising from LEAD to MQL to SQL; equal rates mean the stage tells sales
    nothing, falling rates mean it misleads them.
    """
    tallies = {stage: [0, 0, 0, 0] for stage in STAGES}
    for row in rows:
        tally = tallies.setdefault(row.stage, [0, 0, 0, 0])
        tally[0] += 1
        tally[1] += int(row.accepted)
        tally[2] += int(row.rejected)
        tally[3] += int(row.won)
    return [StageCalibration(stage, *tally) for stage, tally in tallies.items()]


@dataclass(frozen=True, slots=True)
class Spread:
    leads: int
    median: float | None
    p25: float | None
    p75: float | None


def spread(values: Sequence[float]) -> Spread:
    """Median and quartiles (inclusive method: the quartiles of 1..5 are 2 and 4)."""
    if not values:
        return Spread(0, None, None, None)
    if len(values) == 1:
        return Spread(1, values[0], values[0], values[0])
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return Spread(len(values), q2, q1, q3)


def days_to_sql(rows: Iterable[LeadRow]) -> Spread:
    """Days from first touch to first reaching SQL, over the leads that reached it."""
    days = [(row.first_sql_at - row.first_touch_at) / timedelta(days=1) for row in rows if row.first_sql_at is not None]
    return spread(sorted(days))


@dataclass(frozen=True, slots=True)
class RuleLift:
    rule: str
    leads_hit: int
    converted_hit: int
    leads_not: int
    converted_not: int
    points: float

    @property
    def rate_hit(self) -> float | None:
        return self.converted_hit / self.leads_hit if self.leads_hit else None

    @property
    def rate_not(self) -> float | None:
        return self.converted_not / self.leads_not if self.leads_not else None

    @property
    def lift(self) -> float | None:
        """Conversion among leads the rule hit over conversion among the others (None if undefined)."""
        hit, other = self.rate_hit, self.rate_not
        if hit is None or not other:
            return None
        return hit / other


def rule_lift(hits: Iterable[tuple[str, int, int, float]], *, leads: int, converted: int) -> list[RuleLift]:
    """From (rule, leads hit, of them converted, points) and the population totals, each rule's lift.

    Sorted by lift, highest first; rules with an undefined lift last.
    """
    lifts = [RuleLift(rule, hit, conv, leads - hit, converted - conv, points) for rule, hit, conv, points in hits]
    return sorted(lifts, key=lambda item: (item.lift is None, -(item.lift or 0.0), item.rule))


def share_in_top(scores: Sequence[float], amounts: Sequence[float], fraction: float) -> float | None:
    """Share of the total `amounts` (e.g. revenue won) held by the best-scored `fraction` of leads.

    The top slice is the first ceil(fraction * n) leads by score (ties in input order); None without amounts.
    """
    total = sum(amounts)
    if not scores or total <= 0:
        return None
    count = -(-len(scores) * int(fraction * 1000) // 1000)  # ceil without float drift for 0.3 * 10 etc.
    order = sorted(range(len(scores)), key=lambda i: -scores[i])[:count]
    return sum(amounts[i] for i in order) / total


def week_start(moment: datetime) -> datetime:
    """The Monday 00:00 of `moment`'s ISO week (what date_trunc('week', …) gives in both engines)."""
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def fill_weeks(weeks: dict[datetime, tuple[int, int]]) -> list[tuple[datetime, int, int]]:
    """Weekly (new MQL, new SQL) counts with the weeks that had none filled in as zeros."""
    if not weeks:
        return []
    first, last = min(weeks), max(weeks)
    filled: list[tuple[datetime, int, int]] = []
    week = first
    while week <= last:
        mql, sql = weeks.get(week, (0, 0))
        filled.append((week, mql, sql))
        week += timedelta(days=7)
    return filled
