"""Accepting a webhook: size, content type, signature, payload, then the queue. Nothing is queued on error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from leadscore.adapters.ports import EventQueue
from leadscore.errors import WebhookRejected
from leadscore.models.events import LeadEvent
from leadscore.sources.base import VerifyContext, WebhookRequest, WebhookSource
from leadscore.sources.registry import SOURCES


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


@dataclass
class IngestService:
    queue: EventQueue
    keys_for: Callable[[WebhookSource], list[bytes]]
    clock: Callable[[], datetime]
    tolerance_seconds: int
    max_body_bytes: int

    def accept(self, source_name: str, request: WebhookRequest) -> list[LeadEvent]:
        """Verify and normalise the request, then queue its events.

        Raises:
            WebhookRejected: 404 unknown source, 413 too large, 415 content type, 401 signature or
                timestamp, 400 malformed JSON, 422 invalid payload. Nothing was queued.
            QueueUnavailable: the events could not be queued (the caller answers 503; the sender retries).
        """
        source = SOURCES.get(source_name)
        if source is None:
            raise WebhookRejected(404, "unknown_source", f"No webhook source named '{source_name}'.")
        if len(request.body) > self.max_body_bytes:
            raise WebhookRejected(
                413,
                "body_too_large",
                f"The body is {len(request.body)} bytes; the limit is {self.max_body_bytes}.",
            )
        media_type = _media_type(request.header("content-type"))
        if media_type not in source.content_types:
            raise WebhookRejected(
                415,
                "unsupported_media_type",
                f"Content-Type must be {' or '.join(source.content_types)} (got '{media_type or 'none'}').",
            )
        now = self.clock()
        source.verify(request, VerifyContext(self.keys_for(source), int(now.timestamp()), self.tolerance_seconds))
        events = source.normalise(request.body, now)
        if events:
            self.queue.send(events)
        return events
