"""Accepting a webhook: size, content type, signature, payload, then the queue. Nothing is queued on error."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadscore.adapters.ports import Delivery, DeliveryOutcome, OnceQueue
from leadscore.errors import AlreadyAccepted, WebhookRejected
from leadscore.models.events import LeadEvent
from leadscore.sources.base import NormaliseContext, VerifyContext, WebhookRequest, WebhookSource
from leadscore.sources.registry import SOURCES


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def delivery_of(source: WebhookSource, request: WebhookRequest, events: Sequence[LeadEvent]) -> Delivery | None:
    """The delivery record this request needs, or None where the scorer's per-lead dedup already suffices.

    A record (one conditional write) is kept where a repeat could otherwise be counted or forged:
    - the source has a replay key (Mailgun signs its token, not the body): a forged body must be refused;
    - the signature carries no timestamp (Typeform, Tally, Postmark): a captured request stays valid forever;
    - several events in one request (SendGrid batches): one lead may have more events in a batch than its
      score item remembers, and the one write is shared by the whole batch.
    A single event under a timestamped signature needs none: a repeat carries the same event id, and the
    scorer's write is conditional on that id not being among the lead's last 16+ (`SEEN_KEEP`), so it is
    dropped unless the lead scored 16 other events in between (a replay has 300 s to do so; a provider
    retries only after losing our 2xx).
    """
    body_hash = hashlib.sha256(request.body).hexdigest()
    replay = source.replay_key(request)
    if replay is not None:
        return Delivery(f"{source.name}|replay|{replay}", body_hash, strict=True)
    if not events or (len(events) == 1 and source.signed_timestamp):
        return None
    ids = sorted(f"{event.event_id}:{event.type.value}" for event in events)
    return Delivery(f"{source.name}|events|" + hashlib.sha256("\n".join(ids).encode()).hexdigest(), body_hash, False)


def _no_config(_: WebhookSource) -> Mapping[str, Any]:
    return {}


def _ignore(_source: str, _events: int) -> None:
    return None


@dataclass
class IngestService:
    queue: OnceQueue
    keys_for: Callable[[WebhookSource], list[bytes] | None]
    clock: Callable[[], datetime]
    tolerance_seconds: int
    config_for: Callable[[WebhookSource], Mapping[str, Any]] = field(default=_no_config)
    # Told when events were queued but their delivery record could not be written (source, events).
    on_unrecorded: Callable[[str, int], None] = field(default=_ignore)

    def accept(self, source_name: str, request: WebhookRequest) -> list[LeadEvent]:
        """Verify and normalise the request, then queue its events.

        Raises:
            WebhookRejected: 404 unknown (or unconfigured) source, 413 too large, 415 content type, 401
                signature or timestamp, 400 malformed JSON, 422 invalid payload, 409 a forged replay (a
                signed token accepted before, under another body). Nothing was queued.
            AlreadyAccepted: an exact retry of a delivery accepted before (the caller answers 2xx). Nothing
                was queued.
            QueueUnavailable: the events could not be queued (the caller answers 503; the sender retries).
            StoreUnavailable: the delivery records could not be read (503; nothing was queued).
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
        delivery = delivery_of(source, request, events)
        if delivery is None:
            self.queue.send(events)
            return events
        outcome = self.queue.send_once(delivery, events)
        if outcome is DeliveryOutcome.FORGED:
            raise WebhookRejected(
                409,
                "replayed_token",
                "This signed token was used before with another body; nothing was queued.",
                [{"field": "(body)", "problem": "a different body under a token accepted before"}],
            )
        if outcome is DeliveryOutcome.DUPLICATE:
            raise AlreadyAccepted([event.event_id for event in events])
        if outcome is DeliveryOutcome.ACCEPTED_UNRECORDED:
            self.on_unrecorded(source.name, len(events))
        return events
