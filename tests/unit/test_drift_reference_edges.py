"""The drift reference a training run stores bins its values the way `leadscore evaluate` bins them later."""

import math

import numpy as np
import pytest

from leadscore_cli.evaluation.drift import shift
from leadscore_cli.training.learn import histogram


@pytest.mark.parametrize("scale_days", [7.0, 90.0])
def test_a_discrete_recency_has_no_drift_against_itself(scale_days: float) -> None:
    # Given a recency feature as the features module computes it, exp(-days / scale), over whole days: its
    # decile edges are values of the feature itself, with more than six decimal places
    days = np.repeat(np.arange(0, 40), np.arange(40, 0, -1))
    values = np.exp(-days / scale_days)
    # When the training reference is built and the same values are judged against it
    stored = histogram(values)
    judged = shift("activity:quarter", {"edges": list(stored.edges), "shares": list(stored.shares)}, list(values))
    # Then each bin holds the same share and the PSI is zero
    assert judged.current == pytest.approx(stored.shares, abs=1e-6)
    assert judged.psi == pytest.approx(0.0, abs=1e-6)


def test_stored_edges_are_the_edges_counted_on() -> None:
    # Given values whose deciles fall on values with many decimal places
    values = np.array([math.exp(-day / 90) for day in range(100)])
    # When the reference is built
    stored = histogram(values)
    # Then the stored edges are rounded to 6 places, increasing, and the shares add up to 1
    assert all(edge == round(edge, 6) for edge in stored.edges)
    assert list(stored.edges) == sorted(set(stored.edges))
    assert sum(stored.shares) == pytest.approx(1.0, abs=1e-5)
