"""Telling automated email activity from a person: machine opens and link-scanner clicks, for every ESP.

SES, SendGrid, Mailgun and Postmark all call these two functions, so one user agent gets one verdict whoever
delivered the message. The lists live in `sources.bots` (the maintained crawler list + our documented
additions: privacy proxies, link scanners).

Opens: Apple Mail Privacy Protection, Gmail's and Yahoo's image proxies fetch the tracking pixel for the
reader, so such an "open" says nothing about them; so do crawlers and security gateways. Providers flag some
themselves (SendGrid `sg_machine_open`, Mailgun `client-info.bot`).
Clicks: security gateways (Proofpoint, Mimecast, Barracuda, Microsoft Safe Links…) and Outlook's prefetch
follow every link of a message as it arrives; a click seconds after sending, or from such an agent, is
theirs, not the lead's. Flagged activity is still recorded (as '<rule>:automated').
"""

from __future__ import annotations

from leadscore.sources import bots

MACHINE_OPEN = "machine_open"
LINK_SCANNER = "link_scanner"
SCANNER_CLICK_SECONDS = 10.0


def open_automation(*, flagged: bool, user_agent: str | None) -> str | None:
    """'machine_open' when the provider flagged the open or a proxy, scanner or crawler fetched the pixel."""
    if flagged or bots.is_machine(user_agent):
        return MACHINE_OPEN
    return None


def click_automation(
    *,
    flagged: bool,
    user_agent: str | None,
    seconds_after_send: float | None,
    scanner_seconds: float = SCANNER_CLICK_SECONDS,
) -> str | None:
    """'link_scanner' when flagged, within `scanner_seconds` of sending, or from a machine's agent, else None."""
    if flagged:
        return LINK_SCANNER
    if seconds_after_send is not None and 0 <= seconds_after_send < scanner_seconds:
        return LINK_SCANNER
    if bots.is_machine(user_agent):
        return LINK_SCANNER
    return None
