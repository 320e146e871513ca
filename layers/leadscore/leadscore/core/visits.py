"""Anonymous page views, compactly: one short string per view, a bounded list per visitor, and the plan of
which stored views a newly linked lead is scored for. Pure (no AWS, no pydantic).

A stored view is `<epoch seconds, base 36>~<view id, first 12 chars>~<path>`: about 21 + len(path) bytes.
Only the path is kept (no host, no query string: a query may carry an email address or a token), cut to
MAX_PATH characters.
A visitor item holds at most MAX_VIEWS views (a beacon that would go past it is not stored), so its size is
bounded by MAX_VIEWS * MAX_VIEW_BYTES (~26 KB with 4-byte characters, ~7 KB in ASCII); a typical visitor
(a handful of views) stays under 1 KB, one write unit per beacon.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

MAX_VIEWS = 50
MAX_PATH = 128
MAX_VIEW_ID = 12  # the snippet sends 16-32 random characters; 12 (72 bits) tell a visitor's views apart
MAX_VIEW_BYTES = 7 + 1 + MAX_VIEW_ID + 1 + MAX_PATH * 4  # UTF-8 worst case
DEFAULT_WINDOW_DAYS = 30
SEP = "~"


class StoredView(NamedTuple):
    view_id: str
    at: int  # epoch seconds
    path: str


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text


def clean_path(path: str) -> str:
    """The path alone: no query or fragment, at most MAX_PATH characters, '/' when empty."""
    bare = path.split("?", 1)[0].split("#", 1)[0].replace(SEP, "%7E")
    return (bare or "/")[:MAX_PATH]


def encode_view(view_id: str, at: int, path: str) -> str:
    """The compact stored form of one page view."""
    return f"{_base36(max(0, at))}{SEP}{view_id[:MAX_VIEW_ID]}{SEP}{clean_path(path)}"


def decode_view(text: str) -> StoredView | None:
    """The view `text` encodes, or None for anything that is not one (never raises)."""
    parts = text.split(SEP, 2)
    if len(parts) != 3 or not parts[1]:
        return None
    try:
        at = int(parts[0], 36)
    except ValueError:
        return None
    return StoredView(parts[1], at, parts[2])


def page_view_event_id(visitor_id: str, view_id: str) -> str:
    """The LeadEvent id of a page view: deterministic, so a view queued twice is one event to the scorer.
    The view id is cut as it is stored, so a stored view and the same view sent live share one id."""
    return f"pv:{visitor_id}:{view_id[:MAX_VIEW_ID]}"


def backlog(stored: Iterable[str], *, now: int, window_seconds: int) -> list[StoredView]:
    """The stored views a lead is scored for when it claims the visitor, in the order they happened.

    Within the window only (older views are what the TTL would have removed), one per view id (a beacon
    retried by the browser stores its view twice), oldest first, ties by view id (a stable order, so two
    workers walking the same backlog walk it the same way).
    """
    oldest = now - window_seconds
    by_id: dict[str, StoredView] = {}
    for text in stored:
        view = decode_view(text)
        if view is not None and view.at >= oldest and view.view_id not in by_id:
            by_id[view.view_id] = view
    return sorted(by_id.values(), key=lambda view: (view.at, view.view_id))


def chunks(views: Sequence[StoredView], start: int, size: int) -> Iterable[tuple[int, list[StoredView]]]:
    """(end index, views) in steps of `size` from `start`: the stitcher confirms progress after each."""
    for begin in range(start, len(views), size):
        part = list(views[begin : begin + size])
        yield begin + len(part), part
