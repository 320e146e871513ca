"""Signature checks shared by providers: HMAC over the raw body, constant-time, with a replay window."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

from leadscore.errors import WebhookRejected


def hmac_sha256_hex(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def matches_any(expected: Iterable[str], presented: Iterable[str]) -> bool:
    """True if any presented signature equals any expected one. Every pair is compared in constant time."""
    found = False
    for candidate in presented:
        for signature in expected:
            found |= hmac.compare_digest(candidate.encode(), signature.encode())
    return found


def check_timestamp(raw: str | None, now: int, tolerance_seconds: int, *, per_second: int = 1) -> int:
    """The request's timestamp as sent (`per_second=1000` for milliseconds), if present and within the window;
    otherwise a 401."""
    if raw is None or not raw.strip():
        raise WebhookRejected(401, "missing_timestamp", "The signature timestamp header is missing.")
    try:
        stamp = int(raw.strip())
    except ValueError:
        raise WebhookRejected(401, "invalid_timestamp", "The signature timestamp is not a Unix time.") from None
    if abs(now - stamp // per_second) > tolerance_seconds:
        raise WebhookRejected(
            401,
            "stale_timestamp",
            f"The signature timestamp is more than {tolerance_seconds} seconds from now; "
            "sign each request when you send it (this protects against replays).",
        )
    return stamp


def hmac_sha256_base64(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
