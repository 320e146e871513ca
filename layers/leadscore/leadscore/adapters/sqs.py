"""SQS adapter: one message per LeadEvent, sent in batches of ten, failed entries retried."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from leadscore.errors import QueueUnavailable
from leadscore.models.events import LeadEvent

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

BATCH = 10
ATTEMPTS = 4


def queue_entry(index: int, event: LeadEvent) -> SendMessageBatchRequestEntryTypeDef:
    return {
        "Id": str(index),
        "MessageBody": event.model_dump_json(),
        "MessageAttributes": {
            "source": {"DataType": "String", "StringValue": event.source},
            "type": {"DataType": "String", "StringValue": event.type.value},
        },
    }


class SqsEventQueue:
    def __init__(self, client: SQSClient, queue_url: str, backoff_seconds: float = 0.05) -> None:
        self._client = client
        self._queue_url = queue_url
        self._backoff = backoff_seconds

    def send(self, events: Sequence[LeadEvent]) -> None:
        for start in range(0, len(events), BATCH):
            self.send_entries([queue_entry(start + i, event) for i, event in enumerate(events[start : start + BATCH])])

    def send_entries(self, entries: list[SendMessageBatchRequestEntryTypeDef]) -> None:
        pending = entries
        for attempt in range(ATTEMPTS):
            try:
                response = self._client.send_message_batch(QueueUrl=self._queue_url, Entries=pending)
            except (ClientError, BotoCoreError) as exc:
                raise QueueUnavailable(f"SQS send failed: {type(exc).__name__}") from exc
            failed = {failure["Id"] for failure in response.get("Failed", [])}
            pending = [entry for entry in pending if entry["Id"] in failed]
            if not pending:
                return
            time.sleep(self._backoff * 2**attempt)  # SendMessageBatch fails entries individually: retry those
        raise QueueUnavailable(f"SQS rejected {len(pending)} message(s) after {ATTEMPTS} attempts")


class SqsJsonQueue:
    """Sends small JSON work items (decay segments), ten per request, failed entries retried."""

    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._events = SqsEventQueue(client, queue_url)

    def send_json(self, bodies: Sequence[str]) -> None:
        for start in range(0, len(bodies), BATCH):
            chunk = bodies[start : start + BATCH]
            self._events.send_entries([{"Id": str(start + i), "MessageBody": body} for i, body in enumerate(chunk)])
