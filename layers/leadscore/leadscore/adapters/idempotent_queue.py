"""Queue wrapper that accepts a webhook delivery once: one strongly consistent read, one conditional PutItem.

A delivery is keyed by what the provider repeats on a retry (its event ids, or the signed token where the
signature does not cover the body), never by a request or SQS message id. The record holds the SHA-256 of
the body, so an exact retry (same key, same body) is told apart from a forged replay (same signed token,
another body): the first is answered 2xx as a duplicate, the second refused.

The protocol, and why it is not Powertools Idempotency's:

    GetItem(id, ConsistentRead)  -> found, not expired: DUPLICATE or FORGED, nothing queued, nothing written
    SendMessageBatch(events)     -> fails: QueueUnavailable, nothing written (the sender's retry goes through)
    PutItem(id, body_hash, expiration) IF attribute_not_exists(id) OR expiration < now

Powertools writes twice per request (an INPROGRESS put before the work, a COMPLETED update after it), so
that a crash between the two leaves a record it can expire and retry. That costs two write units per
webhook, more than the score itself, and its failure mode is the one that lost deliveries: when the send
failed and the clean-up delete failed too, the INPROGRESS record answered every retry "in progress" until
it expired. Writing once, *after* the events are on the queue, has no in-progress state at all: a record
exists only for a delivery that was queued, so a record can never hide a delivery that was not.

What it gives up, and why that is safe here: between the read and the put (the time of one SQS send) a
concurrent twin of the same delivery is not seen, and both are queued. The scorer drops the second copy
(each score item remembers its lead's recent event ids and its write is conditional on the id being new),
so nothing is counted twice. A forged body racing the genuine one in that window needs the genuine
request's token before its sender has its answer, i.e. the TLS stream itself. If the put fails after a
successful send, the events are queued all the same: the caller answers 2xx (the sender must not resend)
and reports the delivery as unrecorded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from leadscore.adapters.ports import Delivery, DeliveryOutcome, EventQueue
from leadscore.errors import StoreUnavailable
from leadscore.models.events import LeadEvent

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def record_id(delivery_key: str) -> str:
    """The table key of a delivery: a digest, so provider tokens and ids are not stored as they came."""
    return hashlib.sha256(delivery_key.encode()).hexdigest()


class IdempotentQueue:
    def __init__(
        self,
        inner: EventQueue,
        client: DynamoDBClient,
        table_name: str,
        expires_after_seconds: int,
        clock: Callable[[], datetime],
    ) -> None:
        self._inner = inner
        self._client = client
        self._table = table_name
        self._expires_after = expires_after_seconds
        self._clock = clock

    def send(self, events: Sequence[LeadEvent]) -> None:
        self._inner.send(events)

    def send_once(self, delivery: Delivery, events: Sequence[LeadEvent]) -> DeliveryOutcome:
        now = int(self._clock().timestamp())
        key = record_id(delivery.key)
        known = self._known_body_hash(key, now)
        if known is not None:
            forged = delivery.strict and known != delivery.body_hash
            return DeliveryOutcome.FORGED if forged else DeliveryOutcome.DUPLICATE
        self._inner.send(events)  # QueueUnavailable propagates: nothing was remembered
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "id": {"S": key},
                    "body_hash": {"S": delivery.body_hash},
                    "expiration": {"N": str(now + self._expires_after)},  # the table's TTL attribute
                    "events": {"N": str(len(events))},
                },
                ConditionExpression="attribute_not_exists(id) OR #expiration < :now",
                ExpressionAttributeNames={"#expiration": "expiration"},
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return DeliveryOutcome.ACCEPTED  # a concurrent twin recorded first; the scorer drops the copy
            return DeliveryOutcome.ACCEPTED_UNRECORDED
        except BotoCoreError:
            return DeliveryOutcome.ACCEPTED_UNRECORDED
        return DeliveryOutcome.ACCEPTED

    def _known_body_hash(self, key: str, now: int) -> str | None:
        """The body hash of an unexpired record for `key` (TTL deletes late: an expired one counts as none)."""
        try:
            item = self._client.get_item(
                TableName=self._table,
                Key={"id": {"S": key}},
                ConsistentRead=True,
                ProjectionExpression="body_hash, #expiration",
                ExpressionAttributeNames={"#expiration": "expiration"},
            ).get("Item")
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable(f"delivery records unavailable: {type(exc).__name__}") from exc
        if item is None or int(item.get("expiration", {}).get("N", "0")) <= now:
            return None
        return item.get("body_hash", {}).get("S", "")
