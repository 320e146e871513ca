"""A factor's stored contribution comes from a bounded memo: always the 4-place value, also once it fills."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.core import prediction


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.floats(-20, 20, allow_nan=False), min_size=1, max_size=50))
def test_a_stored_contribution_is_the_four_place_value_whether_memoised_or_not(values: list[float]) -> None:
    # Given any contributions, each asked for twice (the second from the memo)
    for value in values + values:
        # Then each is stored with 4 places, as a fresh conversion would store it
        assert prediction._stored_contribution(value) == Decimal(f"{value:.4f}")


def test_the_memo_never_grows_past_its_limit() -> None:
    # Given more distinct contributions than the memo holds
    limit = prediction._STORED_CONTRIBUTIONS_LIMIT
    for index in range(limit + 10):
        value = index / 1e5
        # Then every answer is still right, and the memo stays within its bound
        assert prediction._stored_contribution(value) == Decimal(f"{value:.4f}")
    assert len(prediction._STORED_CONTRIBUTIONS) <= limit
