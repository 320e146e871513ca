"""Company-size bands: one parser for every route, and how a band meets a `between` rule."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadscore.core.bands import MAX_SIZE, SizeRange, parse_size
from leadscore.core.rules import Fields, compile_condition
from leadscore.models.scoring_model import Condition
from leadscore.sources.values import RefusedValue, amount, company_size
from tests.unit.builders import a_condition


@pytest.mark.parametrize(
    ("answer", "low", "high"),
    [
        ("51-200", 51, 200),
        ("5000+", 5000, None),
        ("201\u20131,000 employees", 201, 1000),  # an en dash and a thousands separator
        ("1,001-5,000", 1001, 5000),
        ("10k+", 10_000, None),
        ("<10", 1, 9),
        ("250", 250, 250),
        ("201 to 500", 201, 500),
        ("Up to 50 people", 1, 50),
        ("More than 1000", 1001, None),
        ("1-5k", 1000, 5000),
        ("500-5k", 500, 5000),
        ("10 000+", 10_000, None),
        ("Just me", 1, 1),
        ("0-10", 0, 10),
    ],
)
def test_dropdown_answers_are_read_as_ranges(answer: str, low: int, high: int | None) -> None:
    # Given a size answer as form dropdowns phrase it / When parsed / Then it is the range it says
    assert parse_size(answer) == SizeRange(low, high)


@pytest.mark.parametrize("answer", ["lots", "-5", "12.5", "200-51", "", "1e400", "NaN", "Infinity", "5000++", "9" * 80])
def test_what_says_no_size_is_not_a_band(answer: str) -> None:
    assert parse_size(answer) is None


sizes = st.integers(min_value=0, max_value=MAX_SIZE)


@st.composite
def size_ranges(draw: st.DrawFn) -> SizeRange:
    low = draw(sizes)
    kind = draw(st.sampled_from(["exact", "band", "open"]))
    if kind == "open":
        return SizeRange(low, None)
    if kind == "exact":
        return SizeRange(max(low, 1), max(low, 1))
    return SizeRange(low, draw(st.integers(min_value=max(low, 1), max_value=MAX_SIZE)))


@given(size_ranges())
def test_a_band_round_trips_through_its_canonical_text(band: SizeRange) -> None:
    # Given any range / When written and read back / Then it is the same range
    assert parse_size(str(band)) == band


@given(st.text(max_size=80))
def test_any_text_parses_without_crashing_and_never_below_zero(text: str) -> None:
    # Given any text at all / When parsed / Then a range with sane bounds, or None
    band = parse_size(text)
    if band is not None:
        assert 0 <= band.low <= MAX_SIZE
        assert band.high is None or max(band.low, 1) <= band.high <= MAX_SIZE
        assert band.position >= 0


@given(st.from_regex("[<>\u2265+~ ,.\\-\u2013kKmM0-9a-z]{0,20}", fullmatch=True))
def test_band_like_text_never_crashes_the_parser(text: str) -> None:
    band = parse_size(text)
    assert band is None or band.low >= 0


@pytest.mark.parametrize(
    ("value", "between", "meets"),
    [
        ("51-200", [100, 500], True),  # midpoint 125.5
        ("51-200", [150, 500], False),
        ("1-50", [50, 2000], False),  # midpoint 25.5: mostly smaller than the rule wants
        ("5000+", [1000, None], True),  # an open band by its lower bound
        ("5000+", [None, 1000], False),
        ("201\u20131,000 employees", [50, 2000], True),
        (250, [50, 2000], True),  # numbers as before
        ("1,000", [50, 2000], True),
        ("Prefer not to say", [0, None], False),
    ],
)
def test_a_band_meets_between_by_its_midpoint(value: object, between: list[int | None], meets: bool) -> None:
    # Given a between condition on company_size
    predicate = compile_condition(Condition.model_validate(a_condition("company_size", between=between)))

    # When a lead's size is a band / Then the band's midpoint decides
    assert predicate(Fields({"company_size": value})) is meets  # type: ignore[dict-item]


def test_the_position_of_a_band_is_its_midpoint() -> None:
    assert SizeRange(51, 200).position == Decimal("125.5")
    assert SizeRange(5000, None).position == 5000


@pytest.mark.parametrize(
    ("value", "expected"),
    [(250, 250), ("250", 250), (" 1,000 ", 1000), (250.0, 250), ("51-200", "51-200"), ("10k+", "10000+")],
)
def test_company_size_reads_numbers_numeric_text_and_bands(value: object, expected: object) -> None:
    assert company_size(value) == expected


@pytest.mark.parametrize(
    "value", [True, False, float("nan"), float("inf"), "Infinity", "NaN", "-inf", 12.5, 0, -5, "-5", "0", 10**30]
)
def test_company_size_refuses_what_no_answer_can_mean(value: object) -> None:
    with pytest.raises(RefusedValue):
        company_size(value)


def test_company_size_leaves_free_text_to_the_caller() -> None:
    assert company_size("Prefer not to say") is None


@pytest.mark.parametrize(("value", "expected"), [(250_000, 250_000), ("$1,200.50", 1200.5), ("250000", 250_000)])
def test_amounts_read_numbers_and_money_text(value: object, expected: object) -> None:
    assert amount(value) == expected


@pytest.mark.parametrize("value", [True, float("inf"), "Infinity", "nan", -1, "-1,000"])
def test_amounts_refuse_booleans_non_finite_and_negative(value: object) -> None:
    with pytest.raises(RefusedValue):
        amount(value)
