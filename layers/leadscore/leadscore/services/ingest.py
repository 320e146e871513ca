"""Accepting a webhook: size, content type, signature, payload, then the queue. Nothing is queued on error."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadscore.adapters.ports import OnceQueue
from leadscore.errors import WebhookRejected
from leadscore.models.events import LeadEvent
from leadscore.sources.base import NormaliseContext, VerifyContext, WebhookRequest, WebhookSource
from leadscore.sources.registry import SOURCES


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def delivery_key(source: WebhookSource, request: WebhookRequest, events: Sequence[LeadEvent]) -> str | None:
    """What identifies this delivery: the source's replay key, else its events' own ids (None: nothing to keep)."""
    replay = source.replay_key(request)
    if replay is not None:
        return f"{source.name}|replay|{replay}"
    if not events:
        return None
    ids = sorted(f"{event.event_id}:{event.type.value}" for event in events)
    return f"{source.name}|events|" + hashlib.sha256("\n".join(ids).encode()).hexdigest()


def _no_config(_: WebhookSource) -> Mapping[str, Any]:
    return {}


@dataclass
class IngestService:
    queue: OnceQueue
    keys_for: Callable[[WebhookSource], list[bytes] | None]
    clock: Callable[[], datetime]
    tolerance_seconds: int
    config_for: Callable[[WebhookSource], Mapping[str, Any]] = field(default=_no_config)

    def accept(self, source_name: str, request: WebhookRequest) -> list[LeadEvent]:
        """Verify and normalise the request, then queue its events.

        Raises:
            WebhookRejected: 404 unknown (or unconfigured) source, 413 too large, 415 content type, 401
                signature or timestamp, 400 malformed JSON, 422 invalid payload, 409 a delivery accepted
                before (a replay, or a retry of a request we already answered). Nothing was queued.
            QueueUnavailable: the events could not be queued (the caller answers 503; the sender retries).
        """
        source = SOURCES.get(source_name)
        keys = self.keys_for(source) if source is not None else None
        if source is None or keys is None:
            raise WebhookRejected(404, "unknown_source", f"No webhook source named '{source_name}' is enabled.")
        if len(request.body) > source.max_body_bytes:  # per source: its provider's largest body, with headroom
            raise WebhookRejected(
                413,
                "body_too_large",
                f"The body is {len(request.body)} bytes; the limit for {source.name} is {source.max_body_bytes}.",
            )
        media_type = _media_type(request.header("content-type"))
        if media_type not in source.content_types:
            raise WebhookRejected(
                415,
                "unsupported_media_type",
                f"Content-Type must be {' or '.join(source.content_types)} (got '{media_type or 'none'}').",
            )
        now = self.clock()
        source.verify(request, VerifyContext(keys, int(now.timestamp()), self.tolerance_seconds))
        events = source.normalise(request.body, NormaliseContext(now, self.config_for(source)))
        key = delivery_key(source, request, events)
        if key is not None and not self.queue.send_once(key, events):
            raise WebhookRejected(
                409,
                "duplicate_delivery",
                "This delivery was accepted before; nothing more was queued.",
                [{"field": "(body)", "problem": "replayed or retried delivery"}],
            )
        return events
