"""Learning the predictive model: L2 logistic regression on standardised features, Platt-calibrated on
out-of-fold predictions, measured on a later period it never saw, written as a `leadscore.predictive`
artefact.

Choices, and why:
- Logistic regression: its logit is a sum of per-feature contributions, so every probability comes with
  its reasons (the factors a salesperson reads), and pure-Python serving is a dot product.
- L2 penalty, strength chosen by cross-validated log loss with folds grouped by lead (a lead's weekly
  snapshots are alike: folds that split a lead would flatter every strength). The rule model's own scores
  (`score:*` features) are prior knowledge: their standardised columns are multiplied by PRIOR_EMPHASIS, so
  the penalty on them is PRIOR_EMPHASIS² times weaker and the model departs from the rules only where the
  outcomes say so (with few conversions, a uniform penalty shrinks the rules' signal as hard as noise).
- Monotone in quiet time: the features that move when time passes with no event (recency, decayed points,
  the inactivity penalty, the lead's age, the rule engagement and its grid cell) have their weights'
  signs, and the grid cells their order, constrained so that the probability can only fall while a lead is
  quiet (training/monotone.py: a salesperson who sees a quiet lead climb stops trusting the number). The
  same penalised loss, fitted by L-BFGS-B under bounds instead of scikit-learn's LogisticRegression.
- Platt calibration fitted on out-of-fold decision values (the same lead-grouped folds), then folded into
  the logit (`p = sigmoid(a * logit + b)`), so the factors still sum to what the probability comes from.
- A time split with a gap: training reference times end one horizon before the test period begins, so no
  training label looks into the test period. The report measures that model on the test period; the
  artefact is then refitted on every example with the same penalty (`refit`, the default: conversions
  are scarce, and the newest weeks are the most like tomorrow), or is the measured model itself.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.model_selection import GroupKFold

from leadscore.core.rules import CompiledModel
from leadscore.core.stages import DAY_SECONDS
from leadscore.predictive.artefact import (
    ARTEFACT_VERSION,
    Artefact,
    ArtefactFeature,
    Calibration,
    DriftReference,
    Histogram,
)
from leadscore.predictive.features import FEATURE_SET_VERSION, feature_group, feature_transform, group_description
from leadscore_cli.evaluation.auc_compare import compare_auc
from leadscore_cli.evaluation.predictive import expected_calibration_error as ece_of_bins
from leadscore_cli.evaluation.predictive import reliability
from leadscore_cli.training.examples import TARGET, Example
from leadscore_cli.training.monotone import Design, Shape, ShapedLogisticRegression, shape_for

# Minimums, and why. A penalised logistic regression can learn from fewer events per variable than the
# classic 10 of an unpenalised one, but below about 50 converting leads its coefficients and, worse, the
# held-out AUC and calibration that justify trusting it are mostly noise (the AUC's standard error alone
# approaches 0.05). The hosted products ask for more (e.g. 1,000 leads and 120 conversions).
MIN_LEADS = 200
MIN_CONVERSIONS = 50  # distinct leads converting within the horizon of a training reference time
MIN_TEST_CONVERSIONS = 15  # distinct leads converting in the held-out period: enough to measure AUC and ECE
MIN_FEATURE_SUPPORT = 10  # a feature must be non-zero in this many training examples to get a weight
C_GRID = (0.0003, 0.001, 0.003, 0.01, 0.03)
FOLDS = 4
PRIOR_EMPHASIS = 10.0  # the rule model's scores: penalised PRIOR_EMPHASIS² times less than other features
PRIOR_PREFIX = "score:"
ECE_BINS = 10
BOOTSTRAP_REPLICATES = 1000  # the held-out margin's interval (paired bootstrap over leads)


class NotEnoughData(Exception):
    """Too few leads or conversions to learn from or to measure; the message has the numbers."""


@dataclass(frozen=True)
class TrainingOptions:
    name: str
    horizon_days: int = 28
    every_days: int = 7
    test_share: float = 0.3  # the newest share of reference times is held out
    folds: int = FOLDS
    c_grid: Sequence[float] = C_GRID
    min_leads: int = MIN_LEADS
    min_conversions: int = MIN_CONVERSIONS
    min_test_conversions: int = MIN_TEST_CONVERSIONS
    refit: bool = True  # after measuring, refit on every example (same penalty) for the artefact


@dataclass
class Split:
    train: list[Example]
    test: list[Example]
    train_until: int  # last training reference time
    test_from: int  # first test reference time


@dataclass
class Trained:
    artefact: Artefact
    calibrated: CalibratedClassifierCV  # the scikit-learn model the artefact serves (tests compare with it)
    columns: list[str]
    split: Split
    report: dict[str, Any] = field(default_factory=dict)
    measured: CalibratedClassifierCV | None = None  # the model the report measured (trained on split.train)


def split_by_time(examples: Sequence[Example], times: Sequence[int], options: TrainingOptions) -> Split:
    """Older reference times train, the newest `test_share` test; training labels end before testing starts."""
    times = sorted(set(times))
    if len(times) < 3:
        raise NotEnoughData(f"only {len(times)} reference times in the window: give it more weeks of ledger")
    first_test = times[min(len(times) - 1, max(1, math.ceil(len(times) * (1 - options.test_share))))]
    train_until = first_test - options.horizon_days * DAY_SECONDS
    train = [example for example in examples if example.at <= train_until]
    test = [example for example in examples if example.at >= first_test]
    return Split(train, test, train_until, first_test)


def converting_leads(examples: Sequence[Example]) -> int:
    return len({example.lead_id for example in examples if example.label})


def check_minimums(examples: Sequence[Example], split: Split, options: TrainingOptions) -> None:
    """Refuse (NotEnoughData, with the numbers and what is needed) rather than learn noise."""
    leads = len({example.lead_id for example in examples})
    train_conversions = converting_leads(split.train)
    test_conversions = converting_leads(split.test)
    problems = []
    if leads < options.min_leads:
        problems.append(f"{leads} leads (need at least {options.min_leads})")
    if train_conversions < options.min_conversions:
        problems.append(
            f"{train_conversions} leads converting in the training period (need at least {options.min_conversions})"
        )
    if test_conversions < options.min_test_conversions:
        problems.append(
            f"{test_conversions} leads converting in the held-out period (need at least "
            f"{options.min_test_conversions} to measure the model)"
        )
    if problems:
        raise NotEnoughData(
            "not enough data to learn from: "
            + "; ".join(problems)
            + f". A conversion is {TARGET.format(days=options.horizon_days)}. Fewer conversions than that make "
            "the weights and the held-out AUC and calibration mostly noise (events per variable): wait for "
            "more outcomes, import them (`leadscore outcomes import`), or widen --since/--until."
        )


def choose_columns(examples: Sequence[Example]) -> list[str]:
    """Features non-zero in at least MIN_FEATURE_SUPPORT training examples and not constant, sorted.

    Constant means one value in every example: a feature present in every example with varying values (the
    recency of the last activity: every example's lead has one) is kept. Absent counts as zero."""
    support: dict[str, int] = {}
    values: dict[str, set[float]] = {}
    for example in examples:
        for name, value in example.features.items():
            support[name] = support.get(name, 0) + 1
            seen = values.setdefault(name, set())
            if len(seen) < 2:
                seen.add(value)
    return sorted(
        name
        for name, count in support.items()
        if count >= MIN_FEATURE_SUPPORT and (count < len(examples) or len(values[name]) > 1)
    )


def matrix(examples: Sequence[Example], columns: Sequence[str]) -> NDArray[np.float64]:
    index = {name: position for position, name in enumerate(columns)}
    values = np.zeros((len(examples), len(columns)))
    for row, example in enumerate(examples):
        for name, value in example.features.items():
            column = index.get(name)
            if column is not None:
                values[row, column] = value
    return values


def labels(examples: Sequence[Example]) -> NDArray[np.int_]:
    return np.array([int(example.label) for example in examples])


Folds = list[tuple[NDArray[np.int_], NDArray[np.int_]]]


def lead_folds(examples: Sequence[Example], folds: int) -> Folds:
    """Cross-validation folds that keep each lead's examples together."""
    groups = [example.lead_id for example in examples]
    x = np.zeros((len(examples), 1))
    return list(GroupKFold(n_splits=folds).split(x, labels(examples), groups))


def emphasis(columns: Sequence[str]) -> NDArray[np.float64]:
    return np.array([PRIOR_EMPHASIS if name.startswith(PRIOR_PREFIX) else 1.0 for name in columns])


def estimator_for(columns: Sequence[str], strength: float, shape: Shape) -> ShapedLogisticRegression:
    """Standardise, emphasise the rule model's scores, L2 logistic regression with the shape's constraints
    (the probability never rises while a lead is quiet: training/monotone.py)."""
    return ShapedLogisticRegression(C=strength, emphasis=emphasis(columns), design=Design.of(columns, shape))


def shape_report(shape: Shape, columns: Sequence[str]) -> dict[str, Any]:
    """What the report says of the constraints: which weights were held to a sign, which cells to an order."""
    present = set(columns)
    return {
        "why": "with no new event the probability may only fall as time passes (decay applied)",
        "weight_at_least_0": [name for name in columns if shape.sign(name) == (0.0, None)],
        "weight_at_most_0": [name for name in columns if shape.sign(name) == (None, 0.0)],
        "weights_falling_along": [list(chain) for chain in shape.chains if present & set(chain)],
        "left_out": sorted(shape.left_out),
    }


def choose_strength(
    x: NDArray[np.float64],
    y: NDArray[np.int_],
    columns: Sequence[str],
    folds: Folds,
    c_grid: Sequence[float],
    *,
    shape: Shape,
) -> float:
    """The L2 strength with the best lead-grouped cross-validated log loss (mean over the folds)."""
    losses = []
    for strength in c_grid:
        fold_losses = []
        for fit_rows, held_rows in folds:
            estimator = estimator_for(columns, strength, shape).fit(x[fit_rows], y[fit_rows])
            fold_losses.append(log_loss(y[held_rows], estimator.predict_proba(x[held_rows])[:, 1], labels=[0, 1]))
        losses.append(float(np.mean(fold_losses)))
    return float(c_grid[int(np.argmin(losses))])


def fit_calibrated(
    x: NDArray[np.float64],
    y: NDArray[np.int_],
    columns: Sequence[str],
    folds: Folds,
    strength: float,
    *,
    shape: Shape,
) -> CalibratedClassifierCV:
    """The estimator fitted on all of x, Platt-scaled on its out-of-fold decision values."""
    estimator = estimator_for(columns, strength, shape)
    return CalibratedClassifierCV(estimator, method="sigmoid", cv=folds, ensemble=False).fit(x, y)


def expected_calibration_error(
    probabilities: NDArray[np.float64], outcomes: NDArray[np.int_], bins: int = ECE_BINS
) -> float:
    """ECE: the count-weighted mean |observed rate - mean probability| over equal-width probability bins.

    The bins and the gap are `leadscore evaluate`'s own (evaluation.predictive), so the training report and
    the evaluation measure calibration with one definition.
    """
    calibration = reliability(probabilities.tolist(), [bool(outcome) for outcome in outcomes], bins)
    return ece_of_bins(calibration) or 0.0


def lift_by_decile(probabilities: NDArray[np.float64], outcomes: NDArray[np.int_]) -> list[dict[str, float]]:
    """Deciles from the highest probability down: examples, conversion rate, mean probability, lift."""
    order = np.argsort(-probabilities, kind="stable")
    base = outcomes.mean() if len(outcomes) else 0.0
    rows = []
    for decile, chunk in enumerate(np.array_split(order, 10), start=1):
        if len(chunk) == 0:
            continue
        rate = float(outcomes[chunk].mean())
        rows.append(
            {
                "decile": decile,
                "examples": len(chunk),
                "conversion_rate": round(rate, 4),
                "mean_probability": round(float(probabilities[chunk].mean()), 4),
                "lift": round(rate / base, 2) if base else 0.0,
            }
        )
    return rows


def histogram(values: NDArray[np.float64], edges: Sequence[float] | None = None) -> Histogram:
    """Edges (deciles, or midpoints between the values when there are few distinct ones) and shares.

    Shares count a value in [edge_i, edge_i+1) (the last bin includes its right edge); drift figures put
    values outside the edges in the first or last bin.
    """
    if edges is None:
        distinct = np.unique(values)
        if len(distinct) <= 10:
            middle = (distinct[:-1] + distinct[1:]) / 2
            edges = [float(distinct[0]), *map(float, middle), float(distinct[-1])]
        else:
            edges = list(map(float, np.unique(np.quantile(values, np.linspace(0, 1, 11)))))
        if len(edges) < 2:
            edges = [float(distinct[0]), float(distinct[0]) + 1.0]
    # Counted on the edges as stored (6 places): a decile edge of a discrete feature is one of its values
    # (exp(-6/90) = 0.93550698...), and counting on the exact edge but storing it rounded up put that value's
    # whole mass one bin lower for `leadscore evaluate`'s drift (PSI 2.5 on identical distributions).
    edges = sorted({round(edge, 6) for edge in edges})
    if len(edges) < 2:
        edges = [edges[0], edges[0] + 1.0]
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=np.array(edges))
    shares = counts / max(1, len(values))
    return Histogram(tuple(edges), tuple(round(float(s), 6) for s in shares))


def probability_edges(probabilities: NDArray[np.float64]) -> list[float]:
    inner = np.unique(np.round(np.quantile(probabilities, np.linspace(0.1, 0.9, 9)), 6))
    return [0.0, *(float(edge) for edge in inner if 0 < edge < 1), 1.0]


def _auc(outcomes: NDArray[np.int_], scores: NDArray[np.float64]) -> float | None:
    return round(float(roc_auc_score(outcomes, scores)), 4) if 0 < outcomes.sum() < len(outcomes) else None


def auc_margin(
    examples: Sequence[Example], predictive: NDArray[np.float64], rules: NDArray[np.float64]
) -> dict[str, Any] | None:
    """AUC(predictive) - AUC(rules) on the same examples with its 95 % interval, leads resampled (a
    paired bootstrap: evaluation.auc_compare); None when the examples have a single class."""
    outcome = labels(examples)
    if not 0 < outcome.sum() < len(outcome):
        return None
    comparison = compare_auc(
        predictive, rules, outcome, [example.lead_id for example in examples], replicates=BOOTSTRAP_REPLICATES
    )
    difference = comparison.difference
    return {
        "estimate": round(difference.estimate, 4),
        "interval_95": [round(difference.low, 4), round(difference.high, 4)],
        "share_of_replicates_not_better": round(comparison.share_not_better, 4),
        "clear": comparison.clear,
        "method": f"paired bootstrap over {comparison.leads} leads, {comparison.replicates} replicates",
    }


def _counts(examples: Sequence[Example]) -> dict[str, int]:
    return {
        "examples": len(examples),
        "leads": len({example.lead_id for example in examples}),
        "positive_examples": sum(example.label for example in examples),
        "converting_leads": converting_leads(examples),
    }


def _iso(moment: int) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def train_model(
    examples: Sequence[Example],
    times: Sequence[int],
    model: CompiledModel,
    options: TrainingOptions,
    *,
    window: tuple[int, int],
    trained_at: datetime | None = None,
) -> Trained:
    """Split, check the minimums, learn, measure on the held-out period and build the artefact."""
    split = split_by_time(examples, times, options)
    check_minimums(examples, split, options)
    shape = shape_for(model)
    columns = [name for name in choose_columns(split.train) if name not in shape.left_out]
    x_train, y_train = matrix(split.train, columns), labels(split.train)
    folds = lead_folds(split.train, options.folds)
    strength = choose_strength(x_train, y_train, columns, folds, options.c_grid, shape=shape)
    calibrated = fit_calibrated(x_train, y_train, columns, folds, strength, shape=shape)
    x_test, y_test = matrix(split.test, columns), labels(split.test)
    p_test = calibrated.predict_proba(x_test)[:, 1]
    rules_train = np.array([[example.rule_total] for example in split.train])
    rules_test = np.array([[example.rule_total] for example in split.test])
    rules_platt = LogisticRegression(C=1e6, max_iter=1000).fit(rules_train, y_train)
    p_rules = rules_platt.predict_proba(rules_test)[:, 1]

    measured = calibrated
    x_served = x_train  # what the served model learned from: the drift reference describes it
    if options.refit:
        served_examples = [*split.train, *split.test]
        x_served = matrix(served_examples, columns)
        folds = lead_folds(served_examples, options.folds)
        calibrated = fit_calibrated(x_served, labels(served_examples), columns, folds, strength, shape=shape)
    p_served = calibrated.predict_proba(x_served)[:, 1]
    features, intercept, platt = _weights(calibrated, columns, dict(model.descriptions))
    top = sorted(features, key=lambda feature: -abs(feature.coefficient))[:12]
    report: dict[str, Any] = {
        "target": TARGET.format(days=options.horizon_days),
        "examples": "each open lead (seen, not yet accepted or rejected) at each reference time, with its "
        "features as the scorer knew them then",
        "split": {
            "train_reference_times_until": _iso(split.train_until),
            "test_reference_times_from": _iso(split.test_from),
            "gap_days": options.horizon_days,
        },
        "train": _counts(split.train),
        "test": _counts(split.test),
        "features_used": len(columns),
        "regularisation": {
            "penalty": "l2",
            "C": strength,
            "chosen_by": f"{options.folds}-fold log loss, folds grouped by lead",
        },
        "prior_emphasis": {"features": f"{PRIOR_PREFIX}*", "factor": PRIOR_EMPHASIS},
        "monotone_in_quiet_time": shape_report(shape, columns),
        "calibration": {"method": "platt", "fitted_on": "out-of-fold decision values (folds grouped by lead)"},
        "served_model": "refitted on train and test examples with the same penalty"
        if options.refit
        else "the measured model",
        "held_out": {
            "auc": {"predictive": _auc(y_test, p_test), "rules": _auc(y_test, rules_test[:, 0])},
            "auc_margin": auc_margin(split.test, p_test, rules_test[:, 0]),
            "ece": {
                "predictive": round(expected_calibration_error(p_test, y_test), 4),
                "rules_platt": round(expected_calibration_error(p_rules, y_test), 4),
            },
            "brier": {
                "predictive": round(float(brier_score_loss(y_test, p_test)), 5),
                "rules_platt": round(float(brier_score_loss(y_test, p_rules)), 5),
            },
            "base_rate": round(float(y_test.mean()), 4),
            "lift_by_decile": lift_by_decile(p_test, y_test),
        },
        "top_features": [
            {
                "feature": feature.name,
                "label": feature.label,
                "coefficient": round(feature.coefficient, 4),
                "effect": "raises" if feature.coefficient > 0 else "lowers",
            }
            for feature in top
            if feature.coefficient
        ],
        "minimums": {
            "leads": options.min_leads,
            "converting_leads_train": options.min_conversions,
            "converting_leads_test": options.min_test_conversions,
            "feature_support": MIN_FEATURE_SUPPORT,
        },
    }
    drift = DriftReference(
        features={name: histogram(x_served[:, index]) for index, name in enumerate(columns)},
        probability=histogram(p_served, probability_edges(p_served)),
    )
    moment = trained_at or datetime.now(UTC)
    digest = hashlib.sha256(repr((features, intercept, platt)).encode())
    artefact = Artefact(
        artefact_version=ARTEFACT_VERSION,
        name=options.name,
        version=f"{moment:%Y%m%d%H%M}-{digest.hexdigest()[:8]}",
        base_model=model.id,
        base_model_version=model.version,
        feature_set_version=FEATURE_SET_VERSION,
        trained_at=moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        training_window={
            "since": _iso(window[0]),
            "until": _iso(window[1]),
            "horizon_days": options.horizon_days,
            "reference_every_days": options.every_days,
        },
        target=TARGET.format(days=options.horizon_days),
        features=features,
        intercept=intercept,
        calibration=platt,
        report=report,
        drift_reference=drift,
    )
    return Trained(artefact, calibrated, columns, split, report, measured)


def _weights(
    calibrated: CalibratedClassifierCV, columns: Sequence[str], descriptions: dict[str, str]
) -> tuple[tuple[ArtefactFeature, ...], float, Calibration]:
    """The fitted estimator as artefact features (its scale has the emphasis folded in), Platt into a and b.

    Refuses a non-positive Platt slope: it would turn every constraint on the weights upside down (and
    means the model ranks leads backwards out of fold: nothing worth serving).
    """
    logistic: ShapedLogisticRegression = calibrated.calibrated_classifiers_[0].estimator
    calibrator = calibrated.calibrated_classifiers_[0].calibrators[0]
    if -calibrator.a_ <= 0:
        raise NotEnoughData(
            f"the calibration slope is {-calibrator.a_:.4g} (must be positive): out of fold, the model ranks "
            "leads no better than backwards; there is no signal to learn from in this window"
        )
    features = tuple(
        ArtefactFeature(
            name=name,
            group=feature_group(name),
            label=group_description(feature_group(name), descriptions),
            transform=feature_transform(name),
            mean=float(logistic.mean_[index]),
            scale=float(logistic.scale_[index]),
            coefficient=float(logistic.coef_[0][index]),
        )
        for index, name in enumerate(columns)
    )
    # sklearn's sigmoid calibrator predicts expit(-(a_ * f + b_)); the artefact's is sigmoid(a * f + b)
    return features, float(logistic.intercept_[0]), Calibration("platt", float(-calibrator.a_), float(-calibrator.b_))
