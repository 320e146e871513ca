"""Signed lead tokens (`ls_t`): the only way a browser can say "I am lead X" without a form.

A token is `<lead_id>.<expiry>.<mac>`: the lead id (base32, never the email), the expiry in epoch seconds
(base 36), and HMAC-SHA256(key, "ls_t1|<lead_id>|<expiry>") cut to 128 bits, base64url. URL-safe as is.
Only whoever holds the key (Secrets Manager, `LeadTokenSecret`) can make one, so a visitor cannot claim
another lead by editing the URL; a token that leaks (a forwarded email) identifies that lead until it
expires, which is why expiries are short (30 days by default) and a visitor claimed twice never merges leads.

Your sender mints one per recipient and puts it into the tracked links of the message, e.g. a SendGrid
dynamic template `https://example.com/pricing?ls_t={{ls_t}}` with `ls_t` in the personalisation data. An ESP
cannot compute an HMAC in a merge field, so the token is made by your code (or `python -m local mint-token`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence

DEFAULT_TOKEN_DAYS = 30
MAX_TOKEN_LENGTH = 96
_MAC_BYTES = 16
_SHAPE = re.compile(r"^([a-z2-7]{26})\.([0-9a-z]{1,10})\.([A-Za-z0-9_-]{22})$")


def _mac(key: bytes, lead_id: str, expiry: int) -> str:
    digest = hmac.new(key, f"ls_t1|{lead_id}|{expiry}".encode(), hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text


def make_token(lead_id: str, expires_at: int, key: bytes) -> str:
    """A token identifying `lead_id` until `expires_at` (epoch seconds).

    Raises ValueError for a lead id that is not one of ours (26 base32 characters) or a negative expiry.
    """
    if not re.fullmatch(r"[a-z2-7]{26}", lead_id) or expires_at < 0:
        raise ValueError("not a lead id or expiry")
    return f"{lead_id}.{_base36(expires_at)}.{_mac(key, lead_id, expires_at)}"


def verify_token(token: str, keys: Sequence[bytes], now: int) -> str | None:
    """The lead id `token` identifies, or None when it is malformed, expired or signed by no key in `keys`.

    `keys` holds the current key and, during a rotation, the previous one. Constant-time comparison.
    """
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    match = _SHAPE.match(token)
    if match is None:
        return None
    lead_id, expiry_text, mac = match.groups()
    expiry = int(expiry_text, 36)
    if expiry <= now:
        return None
    if any(hmac.compare_digest(_mac(key, lead_id, expiry), mac) for key in keys):
        return lead_id
    return None
