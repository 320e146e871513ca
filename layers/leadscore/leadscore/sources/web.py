"""The website as a source: page views from /track become `page_viewed` LeadEvents once a lead is known."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

from leadscore.core.visits import clean_path, page_view_event_id
from leadscore.models.events import EventType, LeadEvent, Scalar

SOURCE = "web"
VISITOR_ID = "visitor_id"  # the LeadEvent property every form source normalises `ls_visitor_id` into
FORM_FIELD = "ls_visitor_id"  # the hidden field the snippet adds to every form


def page_view_event(
    *, visitor_id: str, view_id: str, at: int, path: str, email: str, received_at: datetime
) -> LeadEvent:
    """A page view as the scorer sees it: `page_url` is the path alone (what the page rules match)."""
    return LeadEvent(
        event_id=page_view_event_id(visitor_id, view_id),
        source=SOURCE,
        type=EventType.PAGE_VIEWED,
        occurred_at=datetime.fromtimestamp(at, UTC),
        received_at=received_at,
        email=email,
        properties={"page_url": clean_path(path), VISITOR_ID: visitor_id},
    )


_VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")


def with_visitor_id(properties: Mapping[str, Scalar], visitor_id: object = None) -> dict[str, Scalar]:
    """`properties` with the snippet's hidden field `ls_visitor_id` (or `visitor_id` given apart) normalised
    into `visitor_id`; a value that is not a visitor id is dropped (it could only mislink)."""
    result = {name: value for name, value in properties.items() if name not in (FORM_FIELD, VISITOR_ID)}
    for candidate in (visitor_id, properties.get(FORM_FIELD), properties.get(VISITOR_ID)):
        if isinstance(candidate, str) and _VISITOR_ID.match(candidate.strip()):
            result[VISITOR_ID] = candidate.strip()
            break
    return result
