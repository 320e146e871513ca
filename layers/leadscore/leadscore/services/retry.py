"""Bounded, jittered retries for idempotent writes (on top of the SDK's own retries)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from leadscore.errors import StoreUnavailable

IDEMPOTENT_ATTEMPTS = 6


def backoff_pause(attempt: int) -> None:
    """Full jitter on 50 ms doubling (at most ~1.6 s before the last try): a brief throttle or a failed
    request is usually over by then, and the whole budget stays well inside a function's timeout."""
    time.sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311 - jitter, not cryptography


def retry_idempotent[T](
    operation: Callable[[], T],
    *,
    attempts: int = IDEMPOTENT_ATTEMPTS,
    pause: Callable[[int], None] = backoff_pause,
) -> T:
    """Run `operation` until it succeeds or `attempts` have failed with StoreUnavailable (then re-raised).

    Only for writes that are safe to repeat (conditional on what they change): a try whose response was lost
    may have been applied, and the next one must then be a no-op.
    """
    for attempt in range(attempts):
        if attempt:
            pause(attempt)
        try:
            return operation()
        except StoreUnavailable:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover
