"""The replay's hot paths, rewritten for speed (`leadscore evaluate --predictive` replays millions of events),
give exactly what the plain versions gave: base32 by integer arithmetic, the yyyymmdd day by a per-day cache,
the decay policy from a per-model table, and a fade step with `_stored` inlined."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from leadscore.core import decay
from leadscore.core.identity import _b32
from leadscore.core.rules import AUTOMATED_SUFFIX, ZERO, compile_model
from leadscore.core.stages import day_number
from leadscore.models.model_files import load_model_file

ROOT = Path(__file__).resolve().parents[2]
MODEL = compile_model(load_model_file(ROOT / "scoring" / "default.yaml"))


def plain_b32(digest: bytes, length: int) -> str:
    return base64.b32encode(digest).decode("ascii").rstrip("=").lower()[:length]


@given(st.binary(max_size=40), st.integers(min_value=0, max_value=70))
def test_base32_by_arithmetic_is_base64s(digest: bytes, length: int) -> None:
    # Given any digest and length, When encoded, Then the text is b32encode's, unpadded, lower case, cut
    assert _b32(digest, length) == plain_b32(digest, length)


@given(st.integers(min_value=-(10**10), max_value=10**11))
def test_the_cached_day_number_is_the_strftime_day(moment: int) -> None:
    # Given any epoch second (before 1970 too), Then its yyyymmdd is the one strftime gives
    assert day_number(moment) == int(datetime.fromtimestamp(moment, UTC).strftime("%Y%m%d"))


def plain_policy_for(rule_id: str, points: Decimal) -> object:
    rule_decay = MODEL.model.decay
    rule_id = rule_id.removesuffix(AUTOMATED_SUFFIX)
    if points <= ZERO or rule_id not in MODEL.engagement_ids:
        return None
    return rule_decay.rules.get(rule_id, rule_decay.default)


def test_the_policy_table_gives_each_entrys_policy() -> None:
    # Given every engagement rule, its automated entry, fit rules, the penalty and unknown ids, at +, 0 and -
    fit_ids = [rule.id for rule in MODEL.fit_rules]
    automated = [f"{rule}{AUTOMATED_SUFFIX}" for rule in MODEL.engagement_ids]
    odd = ["inactivity", "unknown", f"unknown{AUTOMATED_SUFFIX}", f"x{AUTOMATED_SUFFIX}{AUTOMATED_SUFFIX}"]
    entries = [*MODEL.engagement_ids, *automated, *fit_ids, *odd]
    for entry in entries:
        for points in (Decimal(5), ZERO, Decimal(-5)):
            # Then the per-model table, asked as the hot loops ask it, gives what the plain lookup gave
            from_table = decay._policies(MODEL).get(entry) if points > ZERO else None
            assert (entry, points, from_table) == (entry, points, plain_policy_for(entry, points))


@given(
    st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(500), places=6),
    st.integers(min_value=0, max_value=120),
    st.sampled_from([Decimal(7), Decimal(14), Decimal("30.5"), Decimal(90)]),
)
def test_a_fade_is_the_daily_stored_steps(points: Decimal, days: int, half_life: Decimal) -> None:
    # Given points, a gap and a half-life, When faded, Then it is `days` daily steps, each rounded as stored
    expected = points
    daily = decay.half_life_factor(1, half_life)
    for _ in range(days):
        expected = decay._stored(expected * daily)
        if not expected:
            break
    assert decay.fade.__wrapped__(points, days, half_life) == expected
