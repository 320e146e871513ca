"""Telling automated email activity from a person: machine opens and link-scanner clicks.

Opens: Apple Mail Privacy Protection (and similar proxies) fetch every tracking pixel on delivery, so an
"open" says nothing about the reader. Providers flag what they detect (SendGrid `sg_machine_open`); where
they do not, Apple's proxy is recognisable by its bare user agent `Mozilla/5.0` (no platform, no engine).
Clicks: security gateways (Proofpoint, Mimecast, Barracuda, Microsoft Safe Links…) follow every link of a
message as it arrives; a click seconds after sending, or from such a user agent, is theirs, not the lead's.
Both heuristics are documented guesses: flagged activity is still recorded (as '<rule>:automated').
"""

from __future__ import annotations

import re

MACHINE_OPEN = "machine_open"
LINK_SCANNER = "link_scanner"
SCANNER_CLICK_SECONDS = 10.0

# Apple's Mail Privacy Protection proxy sends exactly this; real clients always add a platform in brackets.
_PROXY_OPEN_AGENTS = frozenset({"mozilla/5.0"})
_SCANNER_AGENT = re.compile(
    r"bot\b|crawler|spider|scan|preview|proofpoint|mimecast|barracuda|safelinks|safe links|"
    r"microsoft office/|ms-office|outlook-ios-android|google-safety|googleimageproxy|"
    r"python-requests|go-http-client|curl/|wget/|headless",
    re.IGNORECASE,
)


def open_automation(*, flagged: bool, user_agent: str | None) -> str | None:
    """'machine_open' when the provider flagged the open or a privacy proxy fetched the pixel, else None."""
    if flagged:
        return MACHINE_OPEN
    if user_agent is not None and user_agent.strip().lower() in _PROXY_OPEN_AGENTS:
        return MACHINE_OPEN
    return None


def click_automation(
    *,
    flagged: bool,
    user_agent: str | None,
    seconds_after_send: float | None,
    scanner_seconds: float = SCANNER_CLICK_SECONDS,
) -> str | None:
    """'link_scanner' when flagged, within `scanner_seconds` of sending, or from a scanner's agent, else None."""
    if flagged:
        return LINK_SCANNER
    if seconds_after_send is not None and 0 <= seconds_after_send < scanner_seconds:
        return LINK_SCANNER
    if user_agent is not None and _SCANNER_AGENT.search(user_agent):
        return LINK_SCANNER
    return None
