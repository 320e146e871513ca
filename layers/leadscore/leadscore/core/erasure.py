"""Erasure and the leads API's opaque cursors: keyed hashes and signatures, pure Python (no AWS, no I/O).

Suppression rule: erasing a lead stores `suppression_key(email)` (HMAC of the address under the pepper with its
own label, so it is neither the lead id nor joinable to it without the pepper). The scorer drops every later
event for an address whose key is stored, before it would create a score item for it. Re-consent is explicit:
an operator deletes the `SUPPRESSED#<key>` item (the key is in the erasure's audit record); nothing automatic
lifts it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

SUPPRESSION_LABEL = b"leadscore/suppression/v1\x1f"
CURSOR_LABEL = b"leadscore/leads-cursor/v1"
CURSOR_MAC_BYTES = 16


class ForgedCursor(ValueError):
    """A cursor we did not sign, for another query, or not a cursor at all."""


def suppression_key(normalised_email: str, pepper: bytes) -> str:
    digest = hmac.new(pepper, SUPPRESSION_LABEL + normalised_email.encode("utf-8"), hashlib.sha256).digest()[:16]
    return base64.b32encode(digest).decode("ascii").rstrip("=").lower()


def cursor_key(pepper: bytes) -> bytes:
    """The cursor signing key, derived from the pepper with its own label (no extra secret to rotate)."""
    return hmac.new(pepper, CURSOR_LABEL, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_cursor(position: dict[str, Any], query: str, key: bytes) -> str:
    """An opaque cursor for `position`, valid only for the query it was issued for (`query` is its digest)."""
    body = json.dumps({"p": position, "q": query}, separators=(",", ":"), sort_keys=True).encode()
    mac = hmac.new(key, body, hashlib.sha256).digest()[:CURSOR_MAC_BYTES]
    return f"{_b64(body)}.{_b64(mac)}"


def open_cursor(cursor: str, query: str, key: bytes) -> dict[str, Any]:
    """The position a cursor we signed holds. Raises ForgedCursor for anything else."""
    body_text, _, mac_text = cursor.partition(".")
    try:
        body, mac = _unb64(body_text), _unb64(mac_text)
    except (ValueError, TypeError):
        raise ForgedCursor("cursor is not one this API issued") from None
    if _b64(body) != body_text or _b64(mac) != mac_text:  # one spelling per cursor: no look-alike variants
        raise ForgedCursor("cursor is not one this API issued")
    expected = hmac.new(key, body, hashlib.sha256).digest()[:CURSOR_MAC_BYTES]
    if not hmac.compare_digest(mac, expected):
        raise ForgedCursor("cursor is not one this API issued")
    document = json.loads(body)
    if document.get("q") != query:
        raise ForgedCursor("cursor belongs to another query (model, stage, band or min_total changed)")
    position: dict[str, Any] = document["p"]
    return position
