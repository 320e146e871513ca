"""Is one score's AUC clearly above another's on the same examples? A paired bootstrap over leads.

"A clear margin" is a statistic here, not an adjective: the difference AUC(challenger) - AUC(baseline) on
the same examples, with a 95 % percentile interval from resampling LEADS with replacement (a cluster
bootstrap). Leads, not examples, because the weekly examples of one lead are near copies of each other:
resampling them one by one would count a single lead's snapshots as independent evidence and narrow the
interval several times too much (DeLong's variance has the same flaw unless it is made cluster-aware).
Each replicate weighs every example by how many times its lead was drawn; both scores are judged on the
same replicate (paired), so what they share (which leads happen to be in the sample) cancels out.

With an oracle score (the generator's true probability), the baseline-to-oracle gap and the share of it
the challenger closes are reported too, with intervals from the same replicates. A share of a gap that is
not clearly there (its interval reaches zero) means nothing, and `summary` says so instead of a ratio.

Weighted AUC in one pass per replicate: the examples are sorted by score once; a replicate's positive and
negative weights are summed per tied score group (`np.add.reduceat`), and AUC = sum over groups of
positive weight x (negative weight below + half the tied negative weight) / (total positive x negative).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

DEFAULT_REPLICATES = 1000
DEFAULT_LEVEL = 0.95
BATCH = 50  # replicates weighed at once (BATCH x examples floats in memory)


@dataclass(frozen=True, slots=True)
class Interval:
    estimate: float  # on the examples as they are
    low: float
    high: float

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def text(self, digits: int = 3, *, signed: bool = True) -> str:
        sign = "+" if signed else ""
        return f"{self.estimate:{sign}.{digits}f} [{self.low:{sign}.{digits}f}, {self.high:{sign}.{digits}f}]"


@dataclass(frozen=True, slots=True)
class AucComparison:
    """AUC of a challenger against a baseline (and an oracle) on the same examples, leads resampled."""

    auc_challenger: float
    auc_baseline: float
    auc_oracle: float | None
    difference: Interval  # AUC(challenger) - AUC(baseline)
    gap: Interval | None  # AUC(oracle) - AUC(baseline): how much better ranking there is to find
    gap_closed: Interval | None  # (AUC(challenger) - AUC(baseline)) / (AUC(oracle) - AUC(baseline))
    share_not_better: float  # replicates where the challenger did not beat the baseline (one-sided p-value)
    replicates: int
    level: float
    leads: int
    examples: int

    @property
    def clear(self) -> bool:
        """The interval of the difference lies entirely above zero."""
        return self.difference.low > 0

    def summary(self, challenger: str = "predictive", baseline: str = "rules") -> str:
        percent = round(self.level * 100)
        line = (
            f"AUC {challenger} - {baseline} {self.difference.text()} ({percent} % interval, {self.replicates} "
            f"paired bootstrap replicates over {self.leads:,} leads): "
            + ("clearly better" if self.clear else "worse" if self.difference.high < 0 else "not clearly better")
        )
        if self.gap is not None and self.gap.low <= 0:
            line += f"; {baseline}-to-oracle gap {self.gap.text()}: not clearly there, nothing to close"
        elif self.gap_closed is not None:
            closed = self.gap_closed
            line += f"; {baseline}-to-oracle gap closed {closed.estimate:.0%} [{closed.low:.0%}, {closed.high:.0%}]"
        return line


def _groups(scores: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The order that sorts the scores ascending, and where each run of tied scores starts in it."""
    order = np.argsort(scores, kind="stable")
    ranked = scores[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    return order, starts


def weighted_auc(scores: ArrayLike, labels: ArrayLike, weights: ArrayLike | None = None) -> NDArray[np.float64] | float:
    """AUC with example weights (ties count half). `weights` may be one vector or a (replicates, examples)
    matrix: then one AUC per row. With integer weights it equals the plain AUC of the examples repeated
    that many times; NaN where a row has no positive or no negative weight."""
    values = np.asarray(scores, dtype=np.float64)
    outcome = np.asarray(labels, dtype=bool)
    matrix = np.ones((1, len(values))) if weights is None else np.atleast_2d(np.asarray(weights, dtype=np.float64))
    order, starts = _groups(values)
    result = _auc_rows(order, starts, outcome, matrix)
    return float(result[0]) if weights is None or np.ndim(weights) == 1 else result


def _auc_rows(
    order: NDArray[np.intp], starts: NDArray[np.intp], outcome: NDArray[np.bool_], weights: NDArray[np.float64]
) -> NDArray[np.float64]:
    ranked = weights[:, order]
    positive = np.add.reduceat(ranked * outcome[order], starts, axis=1)
    negative = np.add.reduceat(ranked * ~outcome[order], starts, axis=1)
    below = np.cumsum(negative, axis=1) - negative
    pairs = positive.sum(axis=1) * negative.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray((positive * (below + 0.5 * negative)).sum(axis=1) / pairs, dtype=np.float64)


def compare_auc(
    challenger: ArrayLike,
    baseline: ArrayLike,
    labels: ArrayLike,
    leads: Sequence[str] | ArrayLike,
    *,
    oracle: ArrayLike | None = None,
    replicates: int = DEFAULT_REPLICATES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> AucComparison:
    """Paired bootstrap over leads of AUC(challenger) - AUC(baseline) (and the gap to the oracle closed).

    `leads[i]` names the lead example i belongs to. Deterministic for a given `seed`.
    """
    outcome = np.asarray(labels, dtype=bool)
    if outcome.all() or not outcome.any():
        raise ValueError("AUC needs both converting and non-converting examples")
    _, lead_index = np.unique(np.asarray(leads), return_inverse=True)
    lead_count = int(lead_index.max()) + 1
    named = {"challenger": challenger, "baseline": baseline, **({} if oracle is None else {"oracle": oracle})}
    prepared = {name: _groups(np.asarray(values, dtype=np.float64)) for name, values in named.items()}
    point = {
        name: float(_auc_rows(order, starts, outcome, np.ones((1, len(outcome))))[0])
        for name, (order, starts) in prepared.items()
    }
    rng = np.random.default_rng(seed)
    draws: dict[str, list[NDArray[np.float64]]] = {name: [] for name in prepared}
    for begin in range(0, replicates, BATCH):
        size = min(BATCH, replicates - begin)
        counts = rng.multinomial(lead_count, np.full(lead_count, 1.0 / lead_count), size=size)
        weights = counts[:, lead_index].astype(np.float64)
        for name, (order, starts) in prepared.items():
            draws[name].append(_auc_rows(order, starts, outcome, weights))
    auc = {name: np.concatenate(rows) for name, rows in draws.items()}
    valid = np.isfinite(auc["challenger"]) & np.isfinite(auc["baseline"])
    difference = (auc["challenger"] - auc["baseline"])[valid]
    tail = (1 - level) / 2
    gap_closed = gap_interval = None
    if "oracle" in auc:
        gap = auc["oracle"][valid] - auc["baseline"][valid]
        point_gap = point["oracle"] - point["baseline"]
        gap_interval = _interval(point_gap, gap, tail)
        if point_gap > 0:
            with np.errstate(invalid="ignore", divide="ignore"):
                closed = difference / gap
            closed = closed[np.isfinite(closed)]
            gap_closed = _interval((point["challenger"] - point["baseline"]) / point_gap, closed, tail)
    return AucComparison(
        auc_challenger=point["challenger"],
        auc_baseline=point["baseline"],
        auc_oracle=point.get("oracle"),
        difference=_interval(point["challenger"] - point["baseline"], difference, tail),
        gap=gap_interval,
        gap_closed=gap_closed,
        share_not_better=float((difference <= 0).mean()),
        replicates=int(valid.sum()),
        level=level,
        leads=lead_count,
        examples=len(outcome),
    )


def _interval(estimate: float, draws: NDArray[np.float64], tail: float) -> Interval:
    low, high = np.quantile(draws, [tail, 1 - tail])
    return Interval(float(estimate), float(low), float(high))
