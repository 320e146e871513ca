"""Numeric lead attributes, read the same way on every route (generic forms and the form tools' field maps).

What is coerced on purpose (docs/contracts.md): numeric text ("250", "1,000") becomes the number, a size
band ("51-200", "5000+") is kept as its canonical band text. What is refused, never dropped or guessed: a
boolean where a number belongs (`true` is not one employee), NaN and infinities (also as text: "Infinity"),
fractional or negative head counts, counts over 10,000,000.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

from leadscore.core.bands import MAX_SIZE, parse_size

_NOT_FINITE = frozenset({"nan", "-nan", "+nan", "inf", "-inf", "+inf", "infinity", "-infinity", "+infinity"})
_MONEY = re.compile(r"^[$€£]?\s*(\d{1,15}(?:,\d{3})*(?:\.\d{1,4})?)$")


class RefusedValue(ValueError):
    """A value no form answer can mean for this attribute: the request is refused (422), naming the field."""


def _refuse_non_numbers(value: object) -> None:
    if isinstance(value, bool):
        raise RefusedValue("a boolean is not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise RefusedValue("NaN and infinity are not numbers we accept")
    if isinstance(value, str) and value.strip().casefold() in _NOT_FINITE:
        raise RefusedValue("NaN and infinity are not numbers we accept")


def company_size(value: object) -> int | str | None:
    """250 or "250" → 250; "51-200", "10k+" → the band's canonical text ("51-200", "10000+").

    Returns None for text that says no size ("Prefer not to say"). Raises RefusedValue for booleans,
    NaN/infinity, fractional, negative, zero or over-large counts.
    """
    _refuse_non_numbers(value)
    if isinstance(value, int | float):
        if value != int(value):
            raise RefusedValue("a head count is a whole number")
        if not 1 <= value <= MAX_SIZE:
            raise RefusedValue(f"a head count is between 1 and {MAX_SIZE:,}")
        return int(value)
    if not isinstance(value, str):
        raise RefusedValue("expected a number or a size band such as '51-200'")
    size = parse_size(value)
    if size is None:
        if value.strip().lstrip("+").startswith("-") or re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value):
            raise RefusedValue(f"a head count is a whole number between 1 and {MAX_SIZE:,}")
        return None
    if size.exact:
        if size.low < 1:
            raise RefusedValue(f"a head count is between 1 and {MAX_SIZE:,}")
        return size.low
    return str(size)


def amount(value: object) -> int | float | None:
    """A non-negative finite amount: 250000, "250,000", "$1,200.50". None for text that is not an amount.

    Raises RefusedValue for booleans, NaN/infinity and negative amounts.
    """
    _refuse_non_numbers(value)
    if isinstance(value, int | float):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith("-") and _MONEY.match(text[1:].strip()):
            raise RefusedValue("an amount is not negative")
        match = _MONEY.match(text)
        if match is None:
            return None
        try:
            number = Decimal(match.group(1).replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the pattern admits only digits
            return None
    else:
        raise RefusedValue("expected a number")
    if number < 0:
        raise RefusedValue("an amount is not negative")
    return int(number) if number == number.to_integral_value() else float(number)
