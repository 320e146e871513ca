"""Drift between a predictive model's training and now: the Population Stability Index (PSI).

PSI compares two distributions over the same bins: sum over bins of (now - then) * ln(now / then), with
each share floored at `FLOOR` so an empty bin does not make it infinite. The usual reading: below 0.1 the
population is stable, 0.1 to 0.25 it moved (watch it), above 0.25 it shifted (retrain).

The bins are the artefact's `drift_reference` (C3): per feature and for the probability, the bin `edges`
and the `shares` of the training examples in each bin. Today's values are binned on the same edges.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

FLOOR = 1e-4  # the share an empty bin counts as (a common choice; it caps one bin's term near 0.9)
STABLE, SHIFTED = 0.1, 0.25


def psi(reference: Sequence[float], current: Sequence[float], *, floor: float = FLOOR) -> float:
    """Population Stability Index of `current` shares against `reference` shares over the same bins."""
    if len(reference) != len(current):
        raise ValueError(f"{len(reference)} reference bins but {len(current)} current bins")
    total = 0.0
    for share_then, share_now in zip(reference, current, strict=True):
        then, now = max(share_then, floor), max(share_now, floor)
        total += (now - then) * math.log(now / then)
    return total


def reading(value: float | None) -> str:
    """The usual words for a PSI value."""
    if value is None:
        return "n/a"
    if value < STABLE:
        return "stable"
    if value <= SHIFTED:
        return "moved: watch it"
    return "shifted"  # the advice says what to do: retrain when it is the probability


def bin_index(value: float, edges: Sequence[float], bins: int) -> int:
    """The bin of `value`. With `bins == len(edges) + 1` the edges are the inner cut points; with
    `bins == len(edges) - 1` they include both ends (values outside go to the first or last bin). Either way
    a bin holds its lower edge: [edge_i, edge_i+1)."""
    if bins == len(edges) + 1:
        return bisect.bisect_right(edges, value)
    if bins == len(edges) - 1:
        return min(max(bisect.bisect_right(edges, value) - 1, 0), bins - 1)
    raise ValueError(f"{len(edges)} edges cannot make {bins} bins")


def shares(values: Sequence[float], edges: Sequence[float], bins: int) -> list[float]:
    """The share of `values` in each bin (all zeros when there are no values)."""
    counts = [0] * bins
    for value in values:
        counts[bin_index(value, edges, bins)] += 1
    return [count / len(values) for count in counts] if values else [0.0] * bins


@dataclass(frozen=True, slots=True)
class Shift:
    """One distribution, then (training) and now, over the same bins."""

    name: str
    edges: tuple[float, ...]
    reference: tuple[float, ...]
    current: tuple[float, ...]
    psi: float

    @property
    def reading(self) -> str:
        return reading(self.psi)


def shift(name: str, reference: Mapping[str, Any], values: Sequence[float]) -> Shift:
    """The shift of `values` against one `drift_reference` entry ({"edges": [...], "shares": [...]})."""
    edges = tuple(float(edge) for edge in reference["edges"])
    then = tuple(float(share) for share in reference["shares"])
    now = tuple(shares(values, edges, len(then)))
    return Shift(name, edges, then, now, psi(then, now))


@dataclass(frozen=True)
class Drift:
    """Feature and score distribution shift between the training examples and the leads now.

    "Now" is a set of snapshots (a lead at a reference time, as the training examples are); those whose
    outcome horizon has passed are "judged": their mean probability is compared with their conversion rate.
    """

    snapshots: int
    features: list[Shift]  # every feature of the reference, the most shifted first
    probability: Shift | None
    judged: int
    mean_predicted: float | None  # mean probability of the judged snapshots
    observed: float | None  # their share converted within the horizon
    window: str = ""  # what "now" is, in words
    ece: float | None = None  # calibration error of the judged snapshots (the model's own target)

    @property
    def retrain(self) -> bool:
        """The score distribution shifted (PSI of the probability above 0.25)."""
        return self.probability is not None and self.probability.psi > SHIFTED

    def top(self, count: int = 5) -> list[Shift]:
        return self.features[:count]

    def shifted_features(self, above: float = STABLE) -> list[Shift]:
        return [item for item in self.features if item.psi >= above]


def drift(
    reference: Mapping[str, Any],
    features: Sequence[Mapping[str, float]],
    probabilities: Sequence[float],
    labels: Sequence[bool | None],
    *,
    window: str = "",
) -> Drift:
    """Drift of the snapshots now (feature dicts, probabilities, labels: None while the horizon has not
    passed) against `drift_reference`.

    A feature the reference has and a snapshot lacks counts as 0 (features are sparse: absent means 0).
    """
    feature_refs: Mapping[str, Any] = reference.get("features", {}) or {}
    shifts = [shift(name, ref, [float(item.get(name, 0.0)) for item in features]) for name, ref in feature_refs.items()]
    shifts.sort(key=lambda item: (-item.psi, item.name))
    probability_ref = reference.get("probability")
    judged = [(p, label) for p, label in zip(probabilities, labels, strict=True) if label is not None]
    return Drift(
        snapshots=len(probabilities),
        features=shifts,
        probability=shift("probability", probability_ref, probabilities) if probability_ref else None,
        judged=len(judged),
        mean_predicted=sum(p for p, _ in judged) / len(judged) if judged else None,
        observed=sum(1 for _, label in judged if label) / len(judged) if judged else None,
        window=window,
    )


class DriftCounter:
    """`drift` fed one snapshot at a time, keeping bin counts instead of every feature dict (a 100,000-lead
    ledger has about a million snapshots of about a hundred features each). Same figures as `drift` on the
    same snapshots in the same order: shares are counts over the total, and the probabilities and labels
    are kept (the judged means and the calibration bins sum them in snapshot order)."""

    def __init__(self, reference: Mapping[str, Any]) -> None:
        self._reference = reference
        refs: Mapping[str, Any] = reference.get("features", {}) or {}
        self._edges = {name: tuple(float(edge) for edge in ref["edges"]) for name, ref in refs.items()}
        self._bins = {name: len(ref["shares"]) for name, ref in refs.items()}
        self._counts = {name: [0] * self._bins[name] for name in refs}
        self._present = dict.fromkeys(refs, 0)
        self.probabilities: list[float] = []
        self.labels: list[bool | None] = []

    def add(self, features: Mapping[str, float], probability: float, label: bool | None) -> None:
        counts, present, edges, bins = self._counts, self._present, self._edges, self._bins
        for name, value in features.items():
            if name in counts:
                counts[name][bin_index(float(value), edges[name], bins[name])] += 1
                present[name] += 1
        self.probabilities.append(probability)
        self.labels.append(label)

    def result(self, *, window: str = "") -> Drift:
        """The Drift of everything added (an absent feature counts as 0, as `drift` has it)."""
        total = len(self.probabilities)
        shifts = []
        for name, binned in self._counts.items():
            counts = list(binned)
            counts[bin_index(0.0, self._edges[name], self._bins[name])] += total - self._present[name]
            then = tuple(float(share) for share in self._reference["features"][name]["shares"])
            now = tuple(count / total for count in counts) if total else (0.0,) * len(then)
            shifts.append(Shift(name, self._edges[name], then, now, psi(then, now)))
        shifts.sort(key=lambda item: (-item.psi, item.name))
        probability_ref = self._reference.get("probability")
        judged = [(p, label) for p, label in zip(self.probabilities, self.labels, strict=True) if label is not None]
        return Drift(
            snapshots=total,
            features=shifts,
            probability=shift("probability", probability_ref, self.probabilities) if probability_ref else None,
            judged=len(judged),
            mean_predicted=sum(p for p, _ in judged) / len(judged) if judged else None,
            observed=sum(1 for _, label in judged if label) / len(judged) if judged else None,
            window=window,
        )
