"""Queue wrapper that accepts each delivery once, whatever the provider's retries (Powertools Idempotency).

The key is the provider's own event ids (or, where the signature does not cover the body, the signed
token), never a request or SQS message id: a provider retry is a new request carrying the same ids. The
scorer deduplicates too; this keeps replays off the queue entirely and lets the webhook answer 409.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from leadscore.adapters.ports import EventQueue
from leadscore.models.events import LeadEvent


class IdempotentQueue:
    def __init__(self, inner: EventQueue, persistence: DynamoDBPersistenceLayer, expires_after_seconds: int) -> None:
        self.config = IdempotencyConfig(
            event_key_jmespath="key",
            expires_after_seconds=expires_after_seconds,
            raise_on_no_idempotency_key=True,
        )

        @idempotent_function(data_keyword_argument="batch", config=self.config, persistence_store=persistence)
        def send_once(batch: dict[str, Any]) -> dict[str, Any]:
            if batch["events"]:
                inner.send([LeadEvent.model_validate(event) for event in batch["events"]])
            return {"queued": len(batch["events"]), "nonce": batch["nonce"]}

        self._send_once = send_once

    def register_lambda_context(self, context: Any) -> None:
        """Lets Powertools bound an in-progress record by the invocation's remaining time."""
        self.config.register_lambda_context(context)

    def send_once(self, delivery_key: str, events: Sequence[LeadEvent]) -> bool:
        # Powertools returns the stored response for a key it has seen: our own nonce coming back means
        # this call did the sending; another one means an earlier delivery did (a replay).
        nonce = uuid.uuid4().hex
        response = self._send_once(
            batch={
                "key": hashlib.sha256(delivery_key.encode()).hexdigest(),
                "nonce": nonce,
                "events": [event.model_dump(mode="json") for event in events],
            }
        )
        return bool(response.get("nonce") == nonce)
