"""Conditions: each operator, compiled to a predicate over a lead's attributes or an event's properties."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from leadscore.core.rules import Fields, as_number, as_text, compile_condition
from leadscore.models.scoring_model import Condition
from tests.unit.builders import a_condition


def holds(condition: dict[str, Any], value: object, field: str = "x") -> bool:
    predicate = compile_condition(Condition.model_validate(condition))
    return predicate(Fields({} if value is ... else {field: value}))  # type: ignore[dict-item]


MISSING = ...

CASES: list[tuple[str, dict[str, Any], object, bool]] = [
    # equals: text, case-insensitive and trimmed; numbers compare as numbers
    ("equals text", {"equals": "Software"}, "software", True),
    ("equals text trims", {"equals": "software"}, "  SOFTWARE ", True),
    ("equals text differs", {"equals": "software"}, "hardware", False),
    ("equals text missing", {"equals": "software"}, MISSING, False),
    ("equals number", {"equals": 250}, 250, True),
    ("equals number vs text", {"equals": 250}, "250", True),
    ("equals number vs 250.0", {"equals": 250}, 250.0, True),
    ("equals number vs 1,000 text", {"equals": 1000}, "1,000", True),
    ("equals number differs", {"equals": 250}, 251, False),
    ("equals number vs words", {"equals": 250}, "lots", False),
    ("equals number vs bool", {"equals": 1}, True, False),
    # one_of: text and numbers mixed
    ("one_of text", {"one_of": ["GB", "US"]}, "gb", True),
    ("one_of text absent", {"one_of": ["GB", "US"]}, "FR", False),
    ("one_of quoted NO", {"one_of": ["GB", "NO"]}, "no", True),
    ("one_of number", {"one_of": [10, 20]}, 20, True),
    ("one_of number as text", {"one_of": [10, 20]}, "20", True),
    ("one_of number with comma", {"one_of": [1000]}, "1,000", True),
    ("one_of number absent", {"one_of": [10, 20]}, 30, False),
    ("one_of mixed hits text", {"one_of": [10, "ten"]}, "TEN", True),
    ("one_of missing", {"one_of": ["GB"]}, MISSING, False),
    # contains: any substring, case-insensitive; a single string is a list of one
    ("contains one string", {"contains": "/pricing"}, "https://x.example/Pricing?plan=pro", True),
    ("contains any of", {"contains": ["/product", "/features"]}, "https://x.example/features/ai", True),
    ("contains none", {"contains": ["/product"]}, "https://x.example/blog", False),
    ("contains missing", {"contains": ["/product"]}, MISSING, False),
    ("contains empty text", {"contains": ["a"]}, "   ", False),
    # matches: regex search, case-insensitive
    ("matches case-insensitive", {"matches": r"\bvp\b"}, "VP Engineering", True),
    ("matches word boundary", {"matches": r"\bvp\b"}, "MVP owner", False),
    ("matches search not fullmatch", {"matches": "chief"}, "Deputy Chief of Staff", True),
    ("matches number value", {"matches": "^25"}, 250, True),
    ("matches missing", {"matches": "."}, MISSING, False),
    # between: inclusive, open ends, numeric text
    ("between inside", {"between": [50, 2000]}, 250, True),
    ("between low edge", {"between": [50, 2000]}, 50, True),
    ("between high edge", {"between": [50, 2000]}, 2000, True),
    ("between below", {"between": [50, 2000]}, 49, False),
    ("between above", {"between": [50, 2000]}, 2001, False),
    ("between numeric text", {"between": [50, 2000]}, "1,000", True),
    ("between decimal text", {"between": [0.5, 1]}, "0.75", True),
    ("between open low", {"between": [None, 9]}, -3, True),
    ("between open low above", {"between": [None, 9]}, 10, False),
    ("between open high", {"between": [2001, None]}, 10**9, True),
    ("between open high below", {"between": [2001, None]}, 2000, False),
    ("between words", {"between": [1, None]}, "lots", False),
    ("between missing", {"between": [1, None]}, MISSING, False),
    ("between NaN text", {"between": [1, None]}, "NaN", False),
    ("between sNaN text", {"between": [1, None]}, "sNaN", False),
    ("between NaN float", {"between": [1, None]}, float("nan"), False),
    ("between infinity", {"between": [1, None]}, "Infinity", False),
    # exists
    ("exists present", {"exists": True}, "x", True),
    ("exists blank", {"exists": True}, "  ", False),
    ("exists missing", {"exists": True}, MISSING, False),
    ("exists false on missing", {"exists": False}, MISSING, True),
    ("exists false on present", {"exists": False}, 0, False),
    # negate turns any operator around, including on missing values
    ("negate equals", {"equals": "gmail.com", "negate": True}, "example.com", True),
    ("negate equals hit", {"equals": "gmail.com", "negate": True}, "GMAIL.com", False),
    ("negate matches", {"matches": r"\bceo\b", "negate": True}, "Head of Data", True),
    ("negate between on missing", {"between": [1, 10], "negate": True}, MISSING, True),
    ("negate contains", {"contains": ["/blog"], "negate": True}, "/blog/post", False),
]


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [(case[1], case[2], case[3]) for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_condition(operator: dict[str, Any], value: object, expected: bool) -> None:
    # Given a condition on field x
    condition = a_condition("x", **operator)

    # When it is tested against a value (or no value at all)
    result = holds(condition, value)

    # Then it holds exactly when the operator says so
    assert result is expected


@pytest.mark.parametrize("value", ["nan", "sNaN", float("nan")], ids=["nan", "snan", "float-nan"])
def test_one_of_numbers_does_not_crash_on_nan(value: object) -> None:
    # Given a one_of with numbers (a signalling NaN cannot even be hashed)
    condition = a_condition("x", one_of=[1, 2])

    # When tested against a NaN / Then it simply does not hold
    assert holds(condition, value) is False


def test_a_condition_reads_only_its_own_field() -> None:
    # Given a condition on company_size
    predicate = compile_condition(Condition.model_validate(a_condition("company_size", between=[1, 10])))

    # When another field has a matching value / Then it does not hold
    assert predicate(Fields({"employees": 5})) is False
    assert predicate(Fields({"company_size": 5, "employees": 500})) is True


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("250", Decimal(250)),
        ("1,000", Decimal(1000)),
        ("1_000", Decimal(1000)),
        (" 12.5 ", Decimal("12.5")),
        (7, Decimal(7)),
        (0.1, Decimal("0.1")),
        (Decimal(3), Decimal(3)),
        ("lots", None),
        ("", None),
        (None, None),
        (True, None),
        ("nan", None),
        ("-Infinity", None),
        (float("inf"), None),
    ],
)
def test_as_number(value: object, expected: Decimal | None) -> None:
    # Given a raw value / When read as a number / Then numeric text counts, anything else is None
    assert as_number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("  VP  ", "vp"), ("", None), ("   ", None), (None, None), (False, "false"), (12, "12")],
)
def test_as_text(value: object, expected: str | None) -> None:
    # Given a raw value / When read as text / Then it is trimmed and case-folded, empty is None
    assert as_text(value) == expected
