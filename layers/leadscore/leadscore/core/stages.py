"""Stages, bands and calendar periods: small pure functions shared by scoring, fast path and alerts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from leadscore.core.state import Stage
from leadscore.models.scoring_model import Band, Period, ScoringModel


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


def period_id(epoch_seconds: int, per: Period) -> str:
    """The UTC calendar period an instant falls in: '2026-11-22', '2026-W47' or '2026-11'."""
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    if per is Period.DAY:
        return moment.strftime("%Y-%m-%d")
    if per is Period.WEEK:
        year, week, _ = moment.isocalendar()
        return f"{year}-W{week:02d}"
    return moment.strftime("%Y-%m")


def day_code(epoch_seconds: int) -> int:
    """yymmdd (UTC) as a number: a compact, ordered day stamp for 'last seen' per rule."""
    return int(datetime.fromtimestamp(epoch_seconds, UTC).strftime("%y%m%d"))


def day_number(epoch_seconds: int) -> int:
    """yyyymmdd (UTC) as a number: the decay index's sort key."""
    return int(datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y%m%d"))
