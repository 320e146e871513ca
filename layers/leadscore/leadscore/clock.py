"""The wall clock, in one place so tests and the local runner can move time explicitly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)  # only the local runner and tests move it (a simulated "weeks later")


def now() -> datetime:
    return datetime.now(UTC) + _offset


def now_epoch() -> int:
    return int(now().timestamp())


def advance(by: timedelta) -> None:
    """Move this process's clock forward (local runs and tests only; Lambda never calls it)."""
    global _offset  # noqa: PLW0603 - one process-wide clock is the point
    _offset += by


def reset() -> None:
    global _offset  # noqa: PLW0603
    _offset = timedelta(0)
