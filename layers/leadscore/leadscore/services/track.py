"""POST /track: one beacon from the browser snippet → at most one rate write + one visitor write (+ a queue
send once the visitor is a known lead's). No AWS types in here.

What a browser can do to a lead's score: nothing directly. An anonymous visitor's views are only stored;
they reach a lead when the server links the visitor (a form the lead submitted, or a token the server
signed). A linked visitor's later views are queued as page_viewed LeadEvents, which the model's caps bound.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from leadscore.adapters.ports import EventQueue
from leadscore.adapters.visits import RateLimiter, VisitorStore
from leadscore.core.tokens import verify_token
from leadscore.core.visits import MAX_VIEWS, encode_view
from leadscore.errors import LeadscoreError
from leadscore.models.beacon import Beacon
from leadscore.sources import bots
from leadscore.sources.web import page_view_event

LINK_MESSAGE = "visitor_link"


class TrackRejected(LeadscoreError):
    """A beacon we refuse: `status` (403, 429) and `code`; `retry_after` seconds for 429."""

    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


class JsonQueue(Protocol):
    def send_json(self, bodies: Sequence[str]) -> None: ...


class Outcome(StrEnum):
    STORED = "stored"  # anonymous: views kept on the visitor
    QUEUED = "queued"  # a known lead's visitor: views queued for scoring
    FULL = "full"  # anonymous and at MAX_VIEWS: not stored
    NOTHING = "nothing"  # no page view in the beacon (engagement only)
    BOT = "bot"  # dropped: a crawler, proxy or scanner


@dataclass(frozen=True, slots=True)
class TrackResult:
    outcome: Outcome
    accepted: int
    linked_by_token: bool = False


@dataclass(frozen=True, slots=True)
class TrackLimits:
    window_seconds: int = 30 * 86_400
    ip_per_minute: int = 120
    visitor_per_minute: int = 30
    max_views: int = MAX_VIEWS


def link_message(visitor_id: str, lead_id: str, at: int, owner: str) -> str:
    """The queue message that asks the scorer to link a visitor identified by a signed token."""
    body = {"visitor_id": visitor_id, "lead_id": lead_id, "at": at, "owner": owner}
    return json.dumps({LINK_MESSAGE: body}, separators=(",", ":"))


def read_link_message(document: Any) -> dict[str, Any] | None:
    """The link a queue message asks for, or None when the message is something else."""
    body = document.get(LINK_MESSAGE) if isinstance(document, dict) else None
    if not isinstance(body, dict) or not isinstance(body.get("at"), int):
        return None
    return body if all(isinstance(body.get(name), str) for name in ("visitor_id", "lead_id", "owner")) else None


@dataclass
class TrackService:
    visitors: VisitorStore
    limiter: RateLimiter
    events: EventQueue
    links: JsonQueue
    token_keys: Callable[[], list[bytes]]
    clock: Callable[[], int]
    allowed_origins: frozenset[str]
    limits: TrackLimits = TrackLimits()

    def check_origin(self, origin: str | None) -> str:
        """The allowed origin the request came from, or 403."""
        if origin is None or origin.rstrip("/") not in self.allowed_origins:
            raise TrackRejected(403, "origin_not_allowed", "This origin may not send page views.")
        return origin.rstrip("/")

    def accept(self, beacon: Beacon, *, user_agent: str | None, source_ip: str) -> TrackResult:
        """Store or queue the beacon's page views. Raises TrackRejected(429) over a rate limit."""
        if bots.is_machine(user_agent):
            return TrackResult(Outcome.BOT, 0)
        now = self.clock()
        minute = now // 60
        if not self.limiter.allow(
            self._ip_key(source_ip),
            beacon.visitor_id,
            minute=minute,
            ip_limit=self.limits.ip_per_minute,
            visitor_limit=self.limits.visitor_per_minute,
        ):
            raise TrackRejected(429, "rate_limited", "Too many page views; slow down.", 60 - now % 60)
        views = beacon.page_views
        accepted = len(beacon.events)
        if not views:
            return TrackResult(Outcome.NOTHING, accepted)
        lead_id = verify_token(beacon.token, self.token_keys(), now) if beacon.token else None
        # The browser's clock, but never in the future: a view cannot happen after we received it.
        times = [min(view.ts // 1000, now) for view in views]
        encoded = [encode_view(view.id, at, view.path) for view, at in zip(views, times, strict=True)]
        recorded = self.visitors.record(
            beacon.visitor_id,
            encoded,
            now=now,
            expires_at=now + self.limits.window_seconds,
            max_views=self.limits.max_views,
        )
        outcome = Outcome.STORED if recorded.stored else Outcome.FULL
        if recorded.lead is not None:
            received_at = datetime.fromtimestamp(now, UTC)
            self.events.send(
                [
                    page_view_event(
                        visitor_id=beacon.visitor_id,
                        view_id=view.id,
                        at=at,
                        path=view.path,
                        email=recorded.lead.email,
                        received_at=received_at,
                    )
                    for view, at in zip(views, times, strict=True)
                ]
            )
            outcome = Outcome.QUEUED
        if lead_id is not None and (recorded.lead is None or recorded.lead.lead_id != lead_id):
            # After the views are stored: the scorer's claim then finds them in the backlog.
            owner = f"token:{beacon.visitor_id}:{views[0].id}"
            self.links.send_json([link_message(beacon.visitor_id, lead_id, times[0], owner)])
        return TrackResult(outcome, accepted, linked_by_token=lead_id is not None)

    def _ip_key(self, source_ip: str) -> str:
        # Keyed hash: the table never holds an address, and a hash of the 2**32 IPv4 space cannot be reversed
        # without the key.
        keys = self.token_keys()
        return hmac.new(keys[0], source_ip.encode(), hashlib.sha256).hexdigest()[:20]
