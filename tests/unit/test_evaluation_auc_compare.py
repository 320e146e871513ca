"""The paired bootstrap over leads that turns "a clear margin over the rules" into an interval."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from leadscore_cli.evaluation.auc_compare import compare_auc, weighted_auc


def _leads_with_weekly_examples(
    rng: np.random.Generator, leads: int = 300, weeks: int = 4
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each lead: a latent propensity, `weeks` examples (near copies), one label drawn per lead."""
    latent = rng.normal(size=leads)
    converts = rng.random(leads) < 1 / (1 + np.exp(-(latent * 2 - 2)))
    lead_ids = np.repeat([f"lead-{i}" for i in range(leads)], weeks)
    return np.repeat(latent, weeks), np.repeat(converts, weeks), lead_ids


@settings(max_examples=40, deadline=None)
@given(
    scores=st.lists(st.integers(0, 5), min_size=4, max_size=30),
    labels=st.lists(st.booleans(), min_size=30, max_size=30),
    weights=st.lists(st.integers(0, 3), min_size=30, max_size=30),
)
def test_weighted_auc_equals_the_plain_auc_of_the_examples_repeated(
    scores: list[int], labels: list[bool], weights: list[int]
) -> None:
    # Given: integer scores with ties and integer weights
    n = len(scores)
    y, w = np.array(labels[:n]), np.array(weights[:n])
    repeated_scores, repeated_labels = np.repeat(scores, w), np.repeat(y, w)
    if repeated_labels.all() or not repeated_labels.any():
        return
    # When / Then: the weighted AUC is scikit-learn's AUC of each example repeated `weight` times
    assert weighted_auc(scores, y, w) == pytest.approx(roc_auc_score(repeated_labels, repeated_scores), abs=1e-12)


def test_unweighted_auc_equals_scikit_learn_and_rows_of_weights_give_one_auc_each() -> None:
    # Given: random scores with ties and labels
    rng = np.random.default_rng(1)
    scores, labels = rng.integers(0, 20, 500).astype(float), rng.random(500) < 0.2
    # When / Then
    assert weighted_auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    rows = weighted_auc(scores, labels, np.ones((3, 500)))
    assert np.allclose(rows, roc_auc_score(labels, scores))


def test_identical_scores_give_a_zero_difference_in_every_replicate() -> None:
    # Given: the challenger is the baseline
    scores, labels, leads = _leads_with_weekly_examples(np.random.default_rng(2))
    # When
    result = compare_auc(scores, scores, labels, leads, replicates=200)
    # Then: no margin, and no claim of one
    assert (result.difference.low, result.difference.estimate, result.difference.high) == (0.0, 0.0, 0.0)
    assert not result.clear
    assert result.share_not_better == 1.0


def test_two_equally_noisy_scores_give_an_interval_around_zero() -> None:
    # Given: two scores, each the latent propensity plus independent noise of the same size
    rng = np.random.default_rng(3)
    latent, labels, leads = _leads_with_weekly_examples(rng)
    one = latent + np.repeat(rng.normal(scale=1.0, size=300), 4)
    other = latent + np.repeat(rng.normal(scale=1.0, size=300), 4)
    # When
    result = compare_auc(one, other, labels, leads, replicates=300)
    # Then: the interval straddles zero: not a clear margin either way
    assert result.difference.low < 0 < result.difference.high
    assert not result.clear


def test_a_strictly_better_ranking_gives_an_interval_above_zero_and_closes_part_of_the_gap() -> None:
    # Given: the oracle is the latent propensity, the challenger a little noise on it, the baseline a lot
    rng = np.random.default_rng(4)
    latent, labels, leads = _leads_with_weekly_examples(rng)
    challenger = latent + np.repeat(rng.normal(scale=0.3, size=300), 4)
    baseline = latent + np.repeat(rng.normal(scale=2.0, size=300), 4)
    # When
    result = compare_auc(challenger, baseline, labels, leads, oracle=latent, replicates=300)
    # Then: a clear margin, most of the gap to the oracle closed, and the estimate inside its interval
    assert result.clear
    assert result.difference.low > 0
    assert result.share_not_better < 0.025
    assert result.gap_closed is not None
    assert 0.5 < result.gap_closed.estimate <= 1.0
    assert result.difference.low <= result.difference.estimate <= result.difference.high
    assert result.auc_oracle is not None
    assert result.auc_oracle > result.auc_challenger > result.auc_baseline
    assert result.leads == 300
    assert result.examples == 1200
    assert "clearly better" in result.summary()
    assert result.gap is not None
    assert result.gap.low > 0


def test_no_share_of_a_gap_is_claimed_when_the_baseline_is_as_good_as_the_oracle() -> None:
    # Given: the baseline IS the oracle, and a noisy challenger
    rng = np.random.default_rng(8)
    latent, labels, leads = _leads_with_weekly_examples(rng)
    noisy = latent + np.repeat(rng.normal(scale=1.0, size=300), 4)
    # When
    result = compare_auc(noisy, latent, labels, leads, oracle=latent, replicates=200)
    # Then: no gap to close, and the summary says so rather than print a ratio of noise
    assert result.gap is not None
    assert result.gap.estimate == 0.0
    assert result.gap_closed is None
    assert "not clearly there, nothing to close" in result.summary()
    assert not result.clear


def test_resampling_leads_gives_a_wider_interval_than_pretending_each_example_is_a_lead() -> None:
    # Given: 4 near-identical weekly examples per lead
    rng = np.random.default_rng(5)
    latent, labels, leads = _leads_with_weekly_examples(rng, weeks=8)
    challenger = latent + np.repeat(rng.normal(scale=0.8, size=300), 8)
    baseline = latent + np.repeat(rng.normal(scale=1.2, size=300), 8)
    # When: bootstrapped by lead, and (wrongly) by example
    by_lead = compare_auc(challenger, baseline, labels, leads, replicates=300)
    by_example = compare_auc(challenger, baseline, labels, np.arange(len(labels)), replicates=300)
    # Then: the clustered interval is the wider one (a lead's snapshots are not independent evidence)
    width = by_lead.difference.high - by_lead.difference.low
    assert width > 1.8 * (by_example.difference.high - by_example.difference.low)


def test_the_same_seed_gives_the_same_interval_and_one_class_is_refused() -> None:
    latent, labels, leads = _leads_with_weekly_examples(np.random.default_rng(6))
    noisy = latent + np.random.default_rng(7).normal(size=len(latent))
    assert compare_auc(latent, noisy, labels, leads, replicates=100, seed=9) == compare_auc(
        latent, noisy, labels, leads, replicates=100, seed=9
    )
    with pytest.raises(ValueError, match="both"):
        compare_auc(latent, noisy, np.zeros(len(latent), dtype=bool), leads)
