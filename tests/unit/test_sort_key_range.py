"""sort_key_range: the sort-key part of a Query's key condition, shared by the hot list and the SLA list."""

from __future__ import annotations

from decimal import Decimal

from leadscore.adapters.score_item import sort_key_range


def test_both_bounds_make_a_between() -> None:
    # Given both bounds / When built / Then BETWEEN low AND high, both serialised as numbers
    condition, values = sort_key_range("#total", Decimal(40), Decimal(75))
    assert condition == " AND #total BETWEEN :low AND :high"
    assert values == {":low": {"N": "40"}, ":high": {"N": "75"}}


def test_one_bound_makes_a_one_sided_comparison() -> None:
    # Given only a lower, then only an upper bound / Then >= and <= with that bound alone
    assert sort_key_range("#at", 100, None) == (" AND #at >= :low", {":low": {"N": "100"}})
    assert sort_key_range("#at", None, 200) == (" AND #at <= :high", {":high": {"N": "200"}})


def test_no_bounds_add_nothing() -> None:
    # Given no bound / Then no condition and no values (the whole partition)
    assert sort_key_range("#at", None, None) == ("", {})
