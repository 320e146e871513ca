"""Stitching: a visitor becomes a lead's, and its anonymous page views are scored for that lead exactly once.

Called by the scorer for a form submission carrying `visitor_id` (before the form itself is scored, so the
older anonymous views meet the score in time order: the fast path, one write each), and for a link message that
/track queues when a page view carries a valid signed token. Steps (each one idempotent):

1. the two link items (lead → visitor for erasure, visitor → lead for shared computers);
2. the claim on the visitor item: the LATEST claim (by the event's time) is where later page views go; the
   FIRST claim processed holds the anonymous backlog. A second, different email on the same browser
   (a shared computer) gets only the views after its own claim, never the first one's, and the two leads
   are never merged;
3. the backlog, under a lease (one worker at a time; a redelivery of the same event may retake its own
   lease at once, anyone else after it expires), is scored view by view in time order as `page_viewed`
   LeadEvents with deterministic ids `pv:<visitor>:<view>`, through the normal ScoringService (so caps count
   on each view's own day and the alert rules apply). The cursor is confirmed every CHUNK views with a
   write fenced by the lease owner, so after a crash at most CHUNK views are walked again — and those are
   among the score item's last SEEN_KEEP (16) remembered events, where the scorer's own dedup absorbs them.
   When the walk ends, the stored views are dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from leadscore.adapters.ports import ProfileStore
from leadscore.adapters.visits import LeadRef, VisitorStore
from leadscore.core.identity import lead_id_for
from leadscore.core.state import SEEN_KEEP
from leadscore.core.visits import backlog, chunks
from leadscore.models.events import EventType, LeadEvent
from leadscore.services.scoring import ScoringService
from leadscore.sources.web import VISITOR_ID, page_view_event, with_visitor_id

CHUNK = 8  # <= SEEN_KEEP / 2: a re-walked chunk is always still in the score item's dedup window
assert CHUNK <= SEEN_KEEP // 2
LEASE_SECONDS = 120  # longer than the scorer's timeout (20 s): a live holder is never taken over


def carried_visitor(event: LeadEvent) -> str | None:
    """The visitor id a form submission carries (the snippet's hidden field), else None."""
    if event.type is not EventType.FORM_SUBMITTED:
        return None
    visitor_id = with_visitor_id(event.properties).get(VISITOR_ID)
    return visitor_id if isinstance(visitor_id, str) else None


@dataclass(frozen=True, slots=True)
class StitchResult:
    linked: bool
    holds_backlog: bool
    scored: int  # backlog views this call walked (a repeat walks 0 or a few the dedup absorbs)


@dataclass
class StitchingService:
    visitors: VisitorStore
    profiles: ProfileStore
    scoring: ScoringService
    pepper: bytes
    clock: Callable[[], int]
    window_seconds: int
    linked_ttl_seconds: int
    lease_seconds: int = LEASE_SECONDS
    chunk: int = CHUNK

    def after_event(self, event: LeadEvent) -> StitchResult | None:
        """Link the visitor a form submission carries (None when it carries none)."""
        visitor_id = carried_visitor(event)
        if visitor_id is None:
            return None
        lead = LeadRef(lead_id_for(event.email, self.pepper), event.email)
        owner = f"form:{event.source}:{event.event_id}"[:200]
        return self.link(visitor_id, lead, at=int(event.occurred_at.timestamp()), owner=owner)

    def link_token(self, visitor_id: str, lead_id: str, *, at: int, owner: str) -> StitchResult | None:
        """Link a visitor identified by a signed token; None when the lead is unknown (no profile)."""
        profile = self.profiles.get(lead_id)
        if profile is None or not profile.email:
            return None
        return self.link(visitor_id, LeadRef(lead_id, profile.email), at=at, owner=owner)

    def link(self, visitor_id: str, lead: LeadRef, *, at: int, owner: str) -> StitchResult:
        now = self.clock()
        self.visitors.link(visitor_id, lead.lead_id, at=at)
        claimed = self.visitors.claim(visitor_id, lead, at=at, expires_at=now + self.linked_ttl_seconds)
        if claimed.first != lead.lead_id:
            return StitchResult(linked=True, holds_backlog=False, scored=0)
        return StitchResult(linked=True, holds_backlog=True, scored=self._walk_backlog(visitor_id, lead, owner, now))

    def _walk_backlog(self, visitor_id: str, lead: LeadRef, owner: str, now: int) -> int:
        taken = self.visitors.take_backlog(
            visitor_id, lead.lead_id, owner=owner, now=now, lease_until=now + self.lease_seconds
        )
        if taken is None:
            return 0  # done already, or another worker holds the lease and is walking it
        views = backlog(taken.views, now=taken.claimed_at, window_seconds=self.window_seconds)
        cursor = taken.cursor
        if cursor >= len(views):
            self.visitors.advance(visitor_id, owner=owner, cursor=cursor, to=cursor, done=True)
            return 0
        received_at = datetime.fromtimestamp(now, UTC)
        walked = 0
        for end, part in chunks(views, cursor, self.chunk):
            for view in part:
                event = page_view_event(
                    visitor_id=visitor_id,
                    view_id=view.view_id,
                    at=view.at,
                    path=view.path,
                    email=lead.email,
                    received_at=received_at,
                )
                self.scoring.process(event)
                walked += 1
            if not self.visitors.advance(visitor_id, owner=owner, cursor=cursor, to=end, done=end == len(views)):
                break  # the lease was taken over: the new holder walks on from the stored cursor
            cursor = end
        return walked
