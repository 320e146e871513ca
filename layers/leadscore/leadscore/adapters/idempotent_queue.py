"""Queue wrapper that sends a webhook's events once, whatever the provider's retries (Powertools Idempotency).

The key is the provider's own event ids, never a request or SQS message id: a provider retry is a new
request carrying the same ids. The scorer deduplicates too; this keeps retries off the queue entirely.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from leadscore.adapters.ports import EventQueue
from leadscore.models.events import LeadEvent


def batch_key(events: Sequence[LeadEvent]) -> str:
    ids = sorted(f"{event.source}:{event.event_id}:{event.type.value}" for event in events)
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()


class IdempotentQueue:
    def __init__(self, inner: EventQueue, persistence: DynamoDBPersistenceLayer, expires_after_seconds: int) -> None:
        self.config = IdempotencyConfig(
            event_key_jmespath="key",
            expires_after_seconds=expires_after_seconds,
            raise_on_no_idempotency_key=True,
        )

        @idempotent_function(data_keyword_argument="batch", config=self.config, persistence_store=persistence)
        def send_once(batch: dict[str, Any]) -> dict[str, Any]:
            inner.send([LeadEvent.model_validate(event) for event in batch["events"]])
            return {"queued": len(batch["events"])}

        self._send_once = send_once

    def register_lambda_context(self, context: Any) -> None:
        """Lets Powertools bound an in-progress record by the invocation's remaining time."""
        self.config.register_lambda_context(context)

    def send(self, events: Sequence[LeadEvent]) -> None:
        self._send_once(batch={"key": batch_key(events), "events": [event.model_dump(mode="json") for event in events]})
