"""The wall clock, in one place so tests and the local runner can move time explicitly."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def now_epoch() -> int:
    return int(now().timestamp())
