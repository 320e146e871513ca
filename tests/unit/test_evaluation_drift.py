"""Drift figures: the Population Stability Index, the bins of a drift reference, and the drift summary."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadscore_cli.evaluation.drift import FLOOR, bin_index, drift, psi, reading, shares, shift


def test_psi_of_a_small_case_equals_the_hand_value() -> None:
    # Given training shares 50/50 and today's 40/60
    # When
    value = psi([0.5, 0.5], [0.4, 0.6])
    # Then: (0.4-0.5)·ln(0.4/0.5) + (0.6-0.5)·ln(0.6/0.5) = 0.022314 + 0.018232
    assert value == pytest.approx(0.040546, abs=1e-6)
    assert reading(value) == "stable"


def test_an_empty_bin_counts_as_the_floor_so_the_index_stays_finite() -> None:
    # Given a bin that held nothing at training time and half the leads today
    # When
    value = psi([1.0, 0.0], [0.5, 0.5])
    # Then: (0.5-1)·ln(0.5) + (0.5-FLOOR)·ln(0.5/FLOOR), by hand
    expected = -0.5 * math.log(0.5) + (0.5 - FLOOR) * math.log(0.5 / FLOOR)
    assert value == pytest.approx(expected)
    assert reading(value) == "shifted"


@st.composite
def distributions(draw: st.DrawFn, bins: int) -> list[float]:
    weights = draw(st.lists(st.integers(0, 50), min_size=bins, max_size=bins).filter(any))
    return [weight / sum(weights) for weight in weights]


@given(st.integers(2, 12).flatmap(lambda n: st.tuples(distributions(n), distributions(n))))
def test_identical_distributions_give_zero_and_any_other_pair_a_positive_index(
    pair: tuple[list[float], list[float]],
) -> None:
    # Given two distributions over the same bins
    reference, current = pair
    # When / Then: a distribution against itself is 0, and no pair is ever negative
    assert psi(reference, reference) == 0.0
    assert psi(reference, current) >= 0.0
    if reference != current:
        assert psi(reference, current) > 0.0


def test_bins_hold_their_lower_edge_with_inner_cut_points_or_with_both_ends() -> None:
    # Given cut points 1 and 2 (three bins) and the same bins written with both ends 0..3 plus one
    values = [0.0, 1.0, 1.5, 2.0, 5.0]
    # When / Then: [-inf,1) [1,2) [2,inf)
    assert shares(values, [1.0, 2.0], 3) == [0.2, 0.4, 0.4]
    # and with both ends, values outside fall into the first or last bin
    assert [bin_index(v, [0.0, 1.0, 2.0], 2) for v in (-1.0, 0.0, 1.0, 2.0, 5.0)] == [0, 0, 1, 1, 1]
    with pytest.raises(ValueError, match="cannot make"):
        bin_index(1.0, [0.0, 1.0], 5)


def test_a_shifted_population_gives_a_large_index() -> None:
    # Given a reference binned on the training values' deciles and a population shifted by 1.5 sd
    rng = random.Random(5)
    training = sorted(rng.gauss(0, 1) for _ in range(5000))
    edges = [training[len(training) * k // 10] for k in range(1, 10)]
    reference = {"edges": edges, "shares": shares(training, edges, 10)}
    same = [rng.gauss(0, 1) for _ in range(5000)]
    moved = [rng.gauss(1.5, 1) for _ in range(5000)]
    # When
    stable, shifted = shift("x", reference, same), shift("x", reference, moved)
    # Then: a new sample of the same population reads stable, the shifted one far above 0.25
    assert stable.psi < 0.02
    assert shifted.psi > 1.0
    assert shifted.reading == "shifted"


def test_drift_ranks_the_features_and_says_retrain_when_the_probability_moved() -> None:
    # Given a reference where feature a was mostly 0 and b mostly 1, and probabilities mostly low
    reference = {
        "features": {
            "a": {"edges": [0.5], "shares": [0.9, 0.1]},
            "b": {"edges": [0.5], "shares": [0.2, 0.8]},
        },
        "probability": {"edges": [0.0, 0.5, 1.0], "shares": [0.8, 0.2]},
    }
    # When today a is mostly 1 (b is left out of the feature dicts: it counts as 0) and probabilities are high
    features = [{"a": 1.0}] * 8 + [{"a": 0.0, "b": 1.0}] * 2
    probabilities = [0.9] * 8 + [0.1] * 2
    labels = [True] * 3 + [False] * 7
    result = drift(reference, features, probabilities, labels)
    # Then: both features moved (b's leads now 0 are 80 %), a more than b; the probability too: retrain
    assert [item.name for item in result.features] == ["a", "b"]
    assert result.features[0].current == (0.2, 0.8)
    assert result.features[1].current == (0.8, 0.2)
    assert result.probability is not None
    assert result.probability.current == (0.2, 0.8)
    assert result.retrain
    assert result.mean_predicted == pytest.approx(0.74)
    assert result.observed == pytest.approx(0.3)
    assert (result.snapshots, result.judged) == (10, 10)


def test_predicted_and_observed_compare_only_the_snapshots_whose_horizon_has_passed() -> None:
    # Given four snapshots, two of them too recent to know whether they converted
    reference = {"features": {}, "probability": {"edges": [0.0, 1.0], "shares": [1.0]}}
    # When
    result = drift(reference, [{}] * 4, [0.2, 0.4, 0.9, 0.9], [True, False, None, None])
    # Then: mean predicted (0.2 + 0.4) / 2 against 1 of 2 converted
    assert (result.snapshots, result.judged) == (4, 2)
    assert result.mean_predicted == pytest.approx(0.3)
    assert result.observed == pytest.approx(0.5)


def test_no_retrain_when_the_probability_is_stable() -> None:
    # Given a probability reference matching today's leads exactly
    reference = {"features": {}, "probability": {"edges": [0.5], "shares": [0.5, 0.5]}}
    # When
    result = drift(reference, [{}, {}], [0.2, 0.7], [False, True])
    # Then
    assert result.probability is not None
    assert result.probability.psi == 0.0
    assert not result.retrain
