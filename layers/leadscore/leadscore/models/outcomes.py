"""Outcome events: what sales learned about a lead, with the properties each kind must carry.

`sales_rejected` names why (a fixed list, so reasons can be counted); `deal_won` / `deal_lost` carry the
deal's amount (>= 0) and its ISO-4217 currency. `sales_accepted` carries nothing required.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final

from iso4217 import Currency

Scalar = str | int | float | bool | None

SALES_ACCEPTED: Final = "sales_accepted"
SALES_REJECTED: Final = "sales_rejected"
DEAL_WON: Final = "deal_won"
DEAL_LOST: Final = "deal_lost"
OUTCOME_TYPES: Final = frozenset({SALES_ACCEPTED, SALES_REJECTED, DEAL_WON, DEAL_LOST})
DEAL_TYPES: Final = frozenset({DEAL_WON, DEAL_LOST})
REJECTION_REASONS: Final = ("bad_fit", "no_intent", "wrong_contact", "duplicate", "competitor", "other")

REASON = "reason"
AMOUNT = "amount"
CURRENCY = "currency"


def is_currency(code: object) -> bool:
    if not isinstance(code, str) or len(code) != 3 or not code.isupper():
        return False
    try:
        Currency(code)
    except ValueError:
        return False
    return True


def check_outcome_properties(event_type: str, properties: Mapping[str, Scalar]) -> None:
    """Raise ValueError naming what is wrong with an outcome event's properties (nothing for other types)."""
    if event_type == SALES_REJECTED:
        reason = properties.get(REASON)
        if reason not in REJECTION_REASONS:
            raise ValueError(f"properties.reason must be one of {', '.join(REJECTION_REASONS)} for sales_rejected")
    if event_type in DEAL_TYPES:
        amount = properties.get(AMOUNT)
        if isinstance(amount, bool) or not isinstance(amount, int | float) or not math.isfinite(amount) or amount < 0:
            raise ValueError(f"properties.amount must be a number >= 0 for {event_type}")
        if not is_currency(properties.get(CURRENCY)):
            raise ValueError(f"properties.currency must be an ISO-4217 code (e.g. EUR, USD) for {event_type}")
