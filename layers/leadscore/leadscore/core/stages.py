"""Stages, bands and calendar periods: small pure functions shared by scoring, fast path and alerts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache

from leadscore.core.state import Stage
from leadscore.models.scoring_model import Band, Period, ScoringModel

DAY_SECONDS = 86_400  # UTC days have no leap seconds in epoch time


def stage_for(total: Decimal, model: ScoringModel) -> Stage:
    """The stage a total belongs to: SQL at or above the sales threshold, MQL at or above mql."""
    if total >= model.thresholds.sql:
        return Stage.SQL
    if total >= model.thresholds.mql:
        return Stage.MQL
    return Stage.LEAD


def _band(score: Decimal, bands: list[Band]) -> str:
    for band in bands:
        if band.min is None or score >= band.min:
            return band.name
    return bands[-1].name


def band_for(fit: Decimal, engagement: Decimal, model: ScoringModel) -> str:
    """Grid band, fit letter then engagement digit, e.g. 'A1' (best) to 'C3'."""
    return _band(fit, model.bands.fit) + _band(engagement, model.bands.engagement)


# A capped hit removes its rule's counters 2 to STALE_PERIODS + 1 periods old (blindly, on both paths), so
# the hot item keeps the current and previous counter per capped rule; older ones left by a long gap go at
# the next housekeeping.
STALE_PERIODS = 6


def period_id(epoch_seconds: int, per: Period) -> str:
    """The UTC calendar period an instant falls in, compact (it is a map key in the hot item):
    '261122' (day), '26W47' (ISO week), '2611' (month). Ordered as text within one kind."""
    return _period_of_day(epoch_seconds // DAY_SECONDS, per)


def stale_periods(epoch_seconds: int, per: Period) -> tuple[str, ...]:
    """The periods 2 to STALE_PERIODS + 1 before the one `epoch_seconds` falls in, newest first."""
    return _stale_periods_of_day(epoch_seconds // DAY_SECONDS, per)


@lru_cache(maxsize=4096)
def _stale_periods_of_day(day: int, per: Period) -> tuple[str, ...]:
    steps = range(2, STALE_PERIODS + 2)
    if per is Period.DAY:
        return tuple(_period_of_day(day - step, per) for step in steps)
    if per is Period.WEEK:
        return tuple(_period_of_day(day - 7 * step, per) for step in steps)
    moment = datetime.fromtimestamp(day * DAY_SECONDS, UTC)
    months = moment.year * 12 + moment.month - 1
    return tuple(f"{(months - step) // 12 % 100:02d}{(months - step) % 12 + 1:02d}" for step in steps)


@lru_cache(maxsize=4096)
def _period_of_day(day: int, per: Period) -> str:
    moment = datetime.fromtimestamp(day * DAY_SECONDS, UTC)
    if per is Period.DAY:
        return moment.strftime("%y%m%d")
    if per is Period.WEEK:
        year, week, _ = moment.isocalendar()
        return f"{year % 100:02d}W{week:02d}"
    return moment.strftime("%y%m")


def day_code(epoch_seconds: int) -> int:
    """yymmdd (UTC) as a number: a compact, ordered day stamp for 'last seen' per rule."""
    return _day_code(epoch_seconds // DAY_SECONDS)


@lru_cache(maxsize=4096)
def _day_code(day: int) -> int:
    # strftime is the costliest call of a scored event; a day's code is computed once per day.
    return int(datetime.fromtimestamp(day * DAY_SECONDS, UTC).strftime("%y%m%d"))


def day_number(epoch_seconds: int) -> int:
    """yyyymmdd (UTC) as a number: the decay index's sort key."""
    return _day_number(epoch_seconds // DAY_SECONDS)


@lru_cache(maxsize=4096)
def _day_number(day: int) -> int:
    # Called for every replayed event (the decay job's due check): strftime once per day, as _day_code.
    return int(datetime.fromtimestamp(day * DAY_SECONDS, UTC).strftime("%Y%m%d"))
