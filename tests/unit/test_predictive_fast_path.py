"""The serving fast path (plan records memoised per rule, factors ranked by their carried magnitude, stored
Decimals made once) against a straightforward reference computation, bit for bit.

The reference here is written the plain way, on purpose: the feature dict (`lead_features`), one sum per
factor group in the order the features come, the logit as `math.fsum` of them, a stable sort by
|contribution|, and the stored figures formatted with `f"{value:.4f}"`. The fast path must give the same
floats (==, not approximately), the same factors in the same order, and the same Decimals digit for digit
(`as_tuple`), also when its caches are warm from earlier leads.
"""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from leadscore.core.prediction import TOP_FACTORS, ServedPredictor, estimate, served_probability
from leadscore.core.state import ScoreState
from leadscore.models.scoring_model import PredictiveSettings
from leadscore.predictive.artefact import Artefact
from leadscore.predictive.features import lead_features
from leadscore.predictive.inference import Predictor, sigmoid
from tests.unit.builders import DAY, MONDAY
from tests.unit.test_predictive_plan import MODEL, artefacts, states

SETTINGS = PredictiveSettings.model_validate({"artefact": "x.json", "stages": {"mql": "0.15", "sql": "0.35"}})


def reference_prediction(
    artefact: Artefact, state: ScoreState, at: int
) -> tuple[float, float, list[tuple[str, float]]]:
    """(probability, logit, [(group, contribution)] largest |contribution| first), computed the plain way."""
    a, b = (artefact.calibration.a, artefact.calibration.b) if artefact.calibration.method == "platt" else (1.0, 0.0)
    weights = {}
    intercept = artefact.intercept
    for feature in artefact.features:
        weight = feature.coefficient / feature.scale
        intercept -= weight * feature.mean
        if weight:
            weights[feature.name] = (a * weight, feature.group)
    intercept = a * intercept + b
    by_group: dict[str, float] = {}
    for name, value in lead_features(state, MODEL, at).items():
        if name in weights and value:
            weight, group = weights[name]
            by_group[group] = by_group.get(group, 0.0) + weight * value
    logit = intercept + math.fsum(by_group.values())
    ranked = sorted(by_group.items(), key=lambda item: abs(item[1]), reverse=True)  # stable: ties keep order
    return sigmoid(logit), logit, [(group, contribution) for group, contribution in ranked if contribution]


def four_places(value: float) -> tuple[object, ...]:
    return tuple(Decimal(f"{value:.4f}").as_tuple())


@settings(max_examples=120, deadline=None)
@given(
    artefact=artefacts(),
    leads=st.lists(states(), min_size=1, max_size=4),
    # also before some of the rule days the states hold (days since then below zero count as today)
    moments=st.lists(st.integers(MONDAY - 900 * DAY, MONDAY + 800 * DAY), min_size=1, max_size=3),
)
def test_the_fast_path_is_the_plain_computation_bit_for_bit(
    artefact: Artefact, leads: list[ScoreState], moments: list[int]
) -> None:
    # Given one predictor serving several leads at several moments (its caches warm from the earlier ones),
    # each lead predicted twice (the second time from every cache)
    predictor = Predictor(artefact)
    served = replace(MODEL, predictive=ServedPredictor(SETTINGS, predictor))
    labels = Predictor(artefact)  # words the reference's factors: the one definition of the labels
    for state in leads * 2:
        for at in moments:
            # When the fast path predicts, estimates and the reference computes the plain way
            fast = predictor.predict(state, served, at)
            top = fast.top(TOP_FACTORS)
            found = estimate(state, served, at)
            probability, logit, ranked = reference_prediction(artefact, state, at)
            worded = labels.predict_features(lead_features(state, MODEL, at)).factors

            # Then the floats are equal, not approximately
            assert (fast.probability, fast.logit) == (probability, logit)
            # and the factors are the same groups, contributions and labels in the same order
            assert [(f.feature, f.contribution) for f in fast.factors] == ranked
            assert [f.label for f in fast.factors] == [f.label for f in worded]
            assert top == fast.factors[:TOP_FACTORS]
            # and the stored factors are the reference's keys and details, their Decimals the formatted floats,
            # digit for digit
            assert found is not None
            assert tuple(found.probability.as_tuple()) == four_places(probability)
            assert [
                (stored.feature, tuple(stored.contribution.as_tuple()), stored.details) for stored in found.factors
            ] == [(f.feature, four_places(f.contribution), f.details) for f in worded[:TOP_FACTORS]]


@given(probability=st.floats(min_value=0.0, max_value=1.0))
@example(probability=0.03125)  # exactly half a ten-thousandth: 312.5 rounds to even
@example(probability=0.00005)  # near a half, from below or above in binary
@example(probability=0.99995)
@example(probability=0.0)
@example(probability=-0.0)  # formatted with its sign
@example(probability=1.0)
@example(probability=5e-324)
def test_the_stored_probability_is_the_formatted_one(probability: float) -> None:
    # Given a probability / When serving stores it / Then it is f"{p:.4f}" as a Decimal, digit for digit
    assert tuple(served_probability(probability).as_tuple()) == four_places(probability)


def test_every_ten_thousandth_and_every_half_is_stored_as_formatted() -> None:
    # Given every 4-place probability and every value half-way between two of them (the rounding edges)
    values = [count / 10_000 for count in range(10_001)] + [(count + 0.5) / 10_000 for count in range(10_000)]

    # When / Then each is stored as formatting stores it
    assert [tuple(served_probability(v).as_tuple()) for v in values] == [four_places(v) for v in values]
