"""A probability that never rises while a lead is quiet: shape constraints on the logistic regression.

When time passes with no new event, the lead's state only ages (the decay job: `core/decay.py`) and its
features move one way each (`leadscore.predictive.features`, read against `at` and decay's invariants: fit
never changes, positive points only fade, negative points never do, the inactivity penalty only grows,
engagement never rises, stages only move down):

- falling toward 0: `eng:<rule>:points` of a rule with positive points, `eng:<rule>:recency`,
  `activity:week`, `activity:quarter`, `score:engagement`, `score:fit_x_engagement`: weight >= 0;
- growing: `decay:inactivity` (the penalty, in tens of points), `history:age`: weight <= 0;
- moving down the engagement bands: `grid:<fit><band>` (the fit letter never changes): along each fit
  letter's bands, highest band first, the weights may only fall, and a cell the artefact lacks weighs 0;
- `decay:recycled` jumps from 0 to 1 when decay recycles the lead, then fades: only a weight of 0 is
  monotone both ways, so the feature is left out.

Weights are constrained on the raw feature scale (a served contribution is weight x value); standardising
and PRIOR_EMPHASIS divide a raw weight by a positive number, so signs carry over, and the grid's order is
imposed on the raw weights themselves. The fit is the same penalised loss as scikit-learn's L2
LogisticRegression (`0.5 |beta|^2 + C * sum(log loss)`, beta on the standardised, emphasised columns,
intercept unpenalised), minimised by L-BFGS-B over a re-parameterisation in which every constraint is a
bound: a sign is a bound on the weight, a chain of the grid is its lowest present weight plus non-negative
steps. Without constraints it is scikit-learn's solution, to the solvers' tolerance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize  # type: ignore[import-untyped]
from scipy.special import expit  # type: ignore[import-untyped]
from sklearn.base import BaseEstimator, ClassifierMixin

from leadscore.core.rules import CompiledModel

NON_NEGATIVE = (0.0, None)
NON_POSITIVE = (None, 0.0)
FREE: tuple[float | None, float | None] = (None, None)
Bound = tuple[float | None, float | None]

FADING = ("activity:week", "activity:quarter", "score:engagement", "score:fit_x_engagement")
GROWING = ("decay:inactivity", "history:age")
LEFT_OUT = frozenset({"decay:recycled"})


@dataclass(frozen=True)
class Shape:
    """The model's time-dependent features: a sign per feature, chains of non-increasing weights, left out."""

    signs: dict[str, Bound]
    chains: tuple[tuple[str, ...], ...]  # raw weights non-increasing along each (the order time moves a lead)
    left_out: frozenset[str] = LEFT_OUT

    def sign(self, name: str) -> Bound:
        if name in self.signs:
            return self.signs[name]
        if name.endswith(":recency") and name.startswith("eng:"):
            return NON_NEGATIVE
        return FREE


def shape_for(model: CompiledModel) -> Shape:
    """The constraints that make the served probability non-increasing in quiet time under `model`."""
    signs: dict[str, Bound] = dict.fromkeys(FADING, NON_NEGATIVE)
    signs |= dict.fromkeys(GROWING, NON_POSITIVE)
    for rule in model.model.engagement_rules:
        if Decimal(rule.points) > 0 or Decimal(rule.automated_points or 0) > 0:  # positive points fade
            signs[f"eng:{rule.id}:points"] = NON_NEGATIVE
    bands = model.model.bands

    def highest_first(band: Any) -> Decimal:
        return Decimal("-Infinity") if band.min is None else Decimal(band.min)

    engagement = [band.name for band in sorted(bands.engagement, key=highest_first, reverse=True)]
    chains = tuple(tuple(f"grid:{fit.name}{name}" for name in engagement) for fit in bands.fit)
    return Shape(signs, chains)


@dataclass(frozen=True)
class Design:
    """raw weights w = basis @ theta, with `bounds` on theta: every constraint of a Shape as a bound."""

    basis: NDArray[np.float64]
    bounds: tuple[Bound, ...]

    @classmethod
    def unconstrained(cls, columns: int) -> Design:
        return cls(np.eye(columns), (FREE,) * columns)

    @classmethod
    def of(cls, columns: Sequence[str], shape: Shape) -> Design:
        index = {name: position for position, name in enumerate(columns)}
        basis = np.eye(len(columns))
        bounds: list[Bound] = [shape.sign(name) for name in columns]
        for chain in shape.chains:
            for run, above, below in _runs([index.get(name) for name in chain]):
                if above and below:  # 0 >= w_first >= ... >= w_last >= 0
                    for position in run:
                        bounds[position] = (0.0, 0.0)
                elif above:  # 0 >= w_first; each next one is the previous minus a non-negative step
                    bounds[run[0]] = NON_POSITIVE
                    for step, position in enumerate(run[1:], start=1):
                        basis[position, run[0]] = 1.0
                        basis[position, run[1 : step + 1]] = -1.0
                        bounds[position] = NON_NEGATIVE
                else:  # the lowest band's weight (>= 0 when a band below weighs 0), plus non-negative steps
                    bounds[run[-1]] = NON_NEGATIVE if below else FREE
                    for step, position in enumerate(run[:-1]):
                        basis[position, run[-1]] = 1.0
                        basis[position, run[step:-1]] = 1.0
                        bounds[position] = NON_NEGATIVE
        return cls(basis, tuple(bounds))


def _runs(positions: list[int | None]) -> list[tuple[list[int], bool, bool]]:
    """The chain's runs of present columns, each with: a missing cell (weight 0) above it, below it.

    Runs are split by missing cells, so a run has one above it unless it starts the chain, and one below
    it unless it ends the chain.
    """
    runs: list[tuple[list[int], bool, bool]] = []
    first = 0
    for end, position in enumerate([*positions, None]):
        if position is None:
            if end > first:
                run = [index for index in positions[first:end] if index is not None]
                runs.append((run, first > 0, end < len(positions)))
            first = end + 1
    return runs


class ShapedLogisticRegression(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Standardise, emphasise, L2 logistic regression with the Design's constraints on the raw weights.

    After fit: `mean_` and `scale_` (the standard deviation divided by the emphasis: x's standardised,
    emphasised value is (x - mean_) / scale_), `coef_` on those values, `intercept_`, `classes_`.
    """

    def __init__(
        self,
        C: float = 1.0,  # noqa: N803 - scikit-learn's name
        emphasis: NDArray[np.float64] | None = None,
        design: Design | None = None,
        max_iter: int = 3000,
    ) -> None:
        self.C = C
        self.emphasis = emphasis
        self.design = design
        self.max_iter = max_iter

    def fit(self, x: NDArray[np.float64], y: NDArray[np.int_]) -> ShapedLogisticRegression:
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        outcome = (y == self.classes_[-1]).astype(np.float64)
        columns = x.shape[1]
        emphasis = np.ones(columns) if self.emphasis is None else np.asarray(self.emphasis, dtype=np.float64)
        design = self.design or Design.unconstrained(columns)
        self.mean_ = x.mean(axis=0)
        deviation = x.std(axis=0)
        deviation[deviation == 0] = 1.0  # StandardScaler's choice for a constant column
        self.scale_ = deviation / emphasis
        z = (x - self.mean_) / self.scale_
        to_beta = self.scale_[:, None] * design.basis  # beta = scale * w, w = basis @ theta
        z_theta = z @ to_beta
        rows, strength = len(y), float(self.C)

        def loss(parameters: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
            theta, intercept = parameters[:-1], parameters[-1]
            logit = z_theta @ theta + intercept
            beta = to_beta @ theta
            value = strength * float(np.sum(np.logaddexp(0.0, logit) - outcome * logit)) + 0.5 * float(beta @ beta)
            residual = strength * (expit(logit) - outcome)
            gradient = np.append(z_theta.T @ residual + to_beta.T @ beta, residual.sum())
            return value / rows, gradient / rows

        start = np.zeros(design.basis.shape[1] + 1)  # every bound admits 0
        result = minimize(
            loss,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=[*design.bounds, FREE],
            options={"maxiter": self.max_iter, "gtol": 1e-10, "ftol": 1e-15},
        )
        theta = result.x[:-1]
        self.coef_ = (to_beta @ theta)[None, :]
        self.intercept_ = np.array([result.x[-1]])
        self.weights_ = design.basis @ theta  # the raw-scale weights the constraints hold for
        self.n_iter_ = np.array([result.nit])
        return self

    def decision_function(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        z = (np.asarray(x, dtype=np.float64) - self.mean_) / self.scale_
        return np.asarray(z @ self.coef_[0] + self.intercept_[0])

    def predict_proba(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        positive = expit(self.decision_function(x))
        return np.column_stack([1.0 - positive, positive])

    def predict(self, x: NDArray[np.float64]) -> NDArray[Any]:
        return np.asarray(self.classes_[(self.decision_function(x) > 0).astype(int)])
