"""Lead ids and event fingerprints: keyed, short, stable hashes (no email address ever leaves this module)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from leadscore.models.events import Scalar

_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"  # RFC 4648's alphabet, lower case
_PAIRS = [first + second for first in _BASE32 for second in _BASE32]  # 10 bits -> two characters


def _b32(digest: bytes, length: int) -> str:
    """The first `length` characters of the digest's unpadded lower-case base32 (base64.b32encode's), by
    integer arithmetic: b32encode is pure Python, and every scored event makes a fingerprint."""
    bits = len(digest) * 8
    chars = -(-bits // 5)
    kept = min(length, chars)
    pairs = -(-kept // 2)
    # The leading `pairs` pairs of characters; zero bits complete the last character (and the last pair).
    shift = 2 * pairs * 5 - bits
    value = int.from_bytes(digest, "big")
    value = value << shift if shift >= 0 else value >> -shift
    text = "".join([_PAIRS[(value >> (10 * (pairs - 1 - index))) & 1023] for index in range(pairs)])
    return text[:kept]


def lead_id_for(normalised_email: str, pepper: bytes) -> str:
    """The lead's key: HMAC-SHA256(pepper, email), 128 bits in base32 (26 chars).

    Keyed, so a leaked table cannot be joined against a list of addresses without the pepper.
    """
    digest = hmac.new(pepper, normalised_email.encode("utf-8"), hashlib.sha256).digest()[:16]
    return _b32(digest, 26)


def event_fingerprint(source: str, event_id: str) -> str:
    """30-bit fingerprint of the provider's event id, compared only within one lead's last 24 events.

    A false match needs two of one lead's recent events to collide: about 24 / 2**30 per event.
    """
    digest = hashlib.blake2b(f"{source}\x1f{event_id}".encode(), digest_size=4).digest()
    return _b32(digest, 6)


def attributes_digest(attributes: Mapping[str, Scalar]) -> str:
    """Order-independent digest of what a lead told us in one event (detects 'nothing changed')."""
    canonical = "\x1e".join(f"{key}\x1f{attributes[key]!r}" for key in sorted(attributes))
    return _b32(hashlib.blake2b(canonical.encode(), digest_size=5).digest(), 8)
