"""Company sizes as forms send them: a count (250) or a dropdown band ("51-200", "5000+", "<10", "10k+").

The one parser of size answers: the generic forms route and the form tools' field maps both read sizes
through `parse_size`, so "201\u20131,000 employees" (an en dash) means the same on every route. A band is
kept as what it says, a range [low, high] (high None when open-ended), and written back in one canonical
text ("201-1000", "5000+"), so `parse_size(str(band)) == band`.

How a band meets a `between [a, b]` rule: by its midpoint (an open band "5000+" by its lower bound). See
`SizeRange.position` and the README's scoring-model section for why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

MAX_SIZE = 10_000_000  # more people than any employer has: a typo or a hostile value, not a company

_NUMBER = r"(\d{1,9}(?:\.\d{1,3})?)\s*([km]?)"
_SEPARATOR = re.compile("(?<=\\d)[,_'\u2019\u00a0\u202f ](?=\\d{3}(?!\\d))")  # 1,000 / 1 000 / 1'000
_WORDS = re.compile(r"\b(?:employees?|people|persons?|staff|workers|headcount|emp|ppl|fte)\b")
_DASHES = re.compile("\\s*(?:[-~\u2010-\u2015\u2212]|\\bto\\b)\\s*")  # hyphens, en/em dashes, minus, "to"
_EXACT = re.compile(rf"{_NUMBER}")
_RANGE = re.compile(rf"{_NUMBER}-{_NUMBER}")
_AT_LEAST = re.compile(rf"(?:{_NUMBER}\s*(?:\+|or more|and (?:up|above|over))|(?:>=|≥|at least)\s*{_NUMBER})")
_MORE_THAN = re.compile(rf"(?:>|over|more than|above)\s*{_NUMBER}")
_LESS_THAN = re.compile(rf"(?:<|under|less than|fewer than|below)\s*{_NUMBER}")
_AT_MOST = re.compile(rf"(?:<=|≤|up to|at most)\s*{_NUMBER}")
_JUST_ME = frozenset({"just me", "only me", "me", "solo", "self-employed", "self employed", "freelancer"})
_SCALE = {"": 1, "k": 1_000, "m": 1_000_000}


@dataclass(frozen=True, slots=True)
class SizeRange:
    """A head count, exact (`low == high`) or a band; `high` None for an open band ("5000+")."""

    low: int
    high: int | None

    @property
    def exact(self) -> bool:
        return self.low == self.high

    @property
    def position(self) -> Decimal:
        """The one number a `between` rule compares: the midpoint, or the lower bound of an open band.

        The midpoint gives every band exactly one answer against any rule; where a rule's bounds follow the
        form's bands (the usual case) it agrees with "the whole band lies inside", and where they do not it
        sides with the larger part of the band instead of refusing the band outright.
        """
        if self.high is None:
            return Decimal(self.low)
        return (Decimal(self.low) + Decimal(self.high)) / 2

    def __str__(self) -> str:
        if self.high is None:
            return f"{self.low}+"
        return str(self.low) if self.exact else f"{self.low}-{self.high}"


def _count(digits: str, scale: str) -> int | None:
    value = Decimal(digits) * _SCALE[scale]
    if value != value.to_integral_value():  # 12.5 people, 1.0005k: not a count
        return None
    return int(value)


def _normalised(text: str) -> str:
    text = _SEPARATOR.sub("", text.strip().casefold())
    text = _WORDS.sub(" ", text).replace("up to", "<=")  # before "to" becomes a dash
    text = _DASHES.sub("-", text)
    return " ".join(text.split()).strip(" .")


def _range(low: int | None, high: int | None, *, open_ended: bool = False) -> SizeRange | None:
    if low is None or low < 0 or low > MAX_SIZE:
        return None
    if open_ended:
        return SizeRange(low, None)
    if high is None or high < max(low, 1) or high > MAX_SIZE:
        return None
    return SizeRange(low, high)


def _exact(groups: tuple[str, ...]) -> SizeRange | None:
    count = _count(groups[0], groups[1])
    return _range(count, count)


def _between(groups: tuple[str, ...]) -> SizeRange | None:
    low_digits, low_scale, high_digits, high_scale = groups
    high = _count(high_digits, high_scale)
    low = _count(low_digits, low_scale)
    scaled = _count(low_digits, high_scale) if not low_scale else None
    if scaled is not None and high is not None and scaled <= high:
        low = scaled  # "1-5k" is 1,000 to 5,000 (but "500-5k" is 500 to 5,000)
    return _range(low, high)


def _at_least(groups: tuple[str, ...]) -> SizeRange | None:
    digits, scale = (groups[0], groups[1]) if groups[0] else (groups[2], groups[3])
    return _range(_count(digits, scale), None, open_ended=True)


def _more_than(groups: tuple[str, ...]) -> SizeRange | None:
    count = _count(groups[0], groups[1])
    return _range(None if count is None else count + 1, None, open_ended=True)


def _less_than(groups: tuple[str, ...]) -> SizeRange | None:
    count = _count(groups[0], groups[1])
    return _range(1, None if count is None else count - 1)


def _at_most(groups: tuple[str, ...]) -> SizeRange | None:
    return _range(1, _count(groups[0], groups[1]))


_FORMS = (
    (_EXACT, _exact),
    (_RANGE, _between),
    (_AT_LEAST, _at_least),
    (_MORE_THAN, _more_than),
    (_LESS_THAN, _less_than),
    (_AT_MOST, _at_most),
)


def parse_size(text: str) -> SizeRange | None:
    """'250' → 250..250; '51-200' → 51..200; '5000+', '10k+' → open bands; '<10' → 1..9; else None.

    Never raises, never negative (a leading '-' is not a band), never above MAX_SIZE.
    """
    if len(text) > 64:
        return None
    normalised = _normalised(text)
    if normalised in _JUST_ME:
        return SizeRange(1, 1)
    for pattern, build in _FORMS:
        if match := pattern.fullmatch(normalised):
            return build(tuple(group or "" for group in match.groups()))
    return None
