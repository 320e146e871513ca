"""The ledger on Kinesis Data Firehose: JSON lines packed into records, PutRecordBatch, failed entries retried.

Firehose bills ingestion per record rounded up to 5 KB, so lines are packed into records of up to 5 KB
(a ledger line is ~0.5-1 KB): the delivered S3 object is the same concatenation of lines. One request
carries up to 500 records / 4 MiB. Entries Firehose refuses (FailedPutCount, e.g. throttling) are sent
again with backoff; after the last attempt LedgerUnavailable names the lines not delivered.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from leadscore.errors import LedgerUnavailable
from leadscore.ledger.records import LedgerRecord, to_json_line

if TYPE_CHECKING:
    from mypy_boto3_firehose import FirehoseClient

MAX_BATCH_RECORDS = 500  # PutRecordBatch limits
MAX_BATCH_BYTES = 4 * 1024 * 1024
PACKED_RECORD_BYTES = 5 * 1024  # Firehose's billing unit per record
ATTEMPTS = 5


def backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, 0.1 * 2**attempt))  # noqa: S311 - jitter, not cryptography


# A packed Firehose record: its bytes and the indexes of the ledger lines it holds.
Packed = tuple[bytes, list[int]]


def pack(lines: Sequence[bytes], limit: int = PACKED_RECORD_BYTES) -> list[Packed]:
    """Consecutive lines joined into records of at most `limit` bytes (a longer line is a record alone)."""
    packed: list[Packed] = []
    data: list[bytes] = []
    indexes: list[int] = []
    size = 0
    for index, line in enumerate(lines):
        if indexes and size + len(line) > limit:
            packed.append((b"".join(data), indexes))
            data, indexes, size = [], [], 0
        data.append(line)
        indexes.append(index)
        size += len(line)
    if indexes:
        packed.append((b"".join(data), indexes))
    return packed


def batches(records: Sequence[Packed]) -> list[list[Packed]]:
    """Requests of at most MAX_BATCH_RECORDS records and MAX_BATCH_BYTES bytes."""
    out: list[list[Packed]] = []
    current: list[Packed] = []
    size = 0
    for record in records:
        if current and (len(current) == MAX_BATCH_RECORDS or size + len(record[0]) > MAX_BATCH_BYTES):
            out.append(current)
            current, size = [], 0
        current.append(record)
        size += len(record[0])
    if current:
        out.append(current)
    return out


class FirehoseLedgerSink:
    """LedgerSink on a DirectPut delivery stream (S3 destination, GZIP, prefix by day: see template.yaml)."""

    def __init__(
        self,
        client: FirehoseClient,
        stream_name: str,
        *,
        attempts: int = ATTEMPTS,
        pause: Callable[[int], None] = backoff,
        record_bytes: int = PACKED_RECORD_BYTES,
    ) -> None:
        self._client = client
        self._record_bytes = record_bytes
        self._stream = stream_name
        self._attempts = attempts
        self._pause = pause
        self.requests = 0  # PutRecordBatch calls made (the benchmark reads it)
        self.records_sent = 0  # Firehose records sent, retries included

    def put(self, records: Sequence[LedgerRecord]) -> None:
        pending = pack([to_json_line(record) for record in records], self._record_bytes)
        for attempt in range(self._attempts):
            if attempt:
                self._pause(attempt)
            pending = [refused for batch in batches(pending) for refused in self._put_batch(batch)]
            if not pending:
                return
        undelivered = frozenset(index for _, indexes in pending for index in indexes)
        raise LedgerUnavailable(
            f"Firehose refused {len(undelivered)} ledger lines after {self._attempts} attempts",
            undelivered,
        )

    def _put_batch(self, batch: list[Packed]) -> list[Packed]:
        """Send one request; the records it did not take."""
        self.requests += 1
        self.records_sent += len(batch)
        try:
            response: Any = self._client.put_record_batch(
                DeliveryStreamName=self._stream, Records=[{"Data": data} for data, _ in batch]
            )
        except (ClientError, BotoCoreError):
            return batch  # the client's own retries are spent: every record of it is tried again
        if not response.get("FailedPutCount"):
            return []
        return [
            record
            for record, result in zip(batch, response["RequestResponses"], strict=True)
            if result.get("ErrorCode")
        ]
