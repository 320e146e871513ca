"""The SQS → Lambda event source mapping, as Lambda's poller runs it (batches, partial failures, redrive)."""

from __future__ import annotations

import threading
from typing import Any

import boto3

from local.cfn import REGION, Function, QueueSource
from local.lambdas import invoke


def _sqs_record(message: Any, queue_arn: str) -> dict[str, Any]:
    attributes = {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value["DataType"],
        }
        for name, value in message.get("MessageAttributes", {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


class QueuePoller:
    """Receives up to BatchSize messages, invokes the function, deletes what succeeded.

    Failed records stay on the queue; here they become visible again at once (not after the visibility
    timeout) so a local run retries promptly. After maxReceiveCount receives SQS moves them to the DLQ.
    """

    def __init__(self, source: QueueSource, function: Function, queue_url: str, queue_arn: str) -> None:
        self.source = source
        self.function = function
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self._sqs = boto3.client("sqs")

    def poll_once(self) -> tuple[int, int]:
        """One batch: (records received, records failed)."""
        received = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.source.batch_size, 10),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not received:
            return 0, 0
        event = {"Records": [_sqs_record(message, self.queue_arn) for message in received]}
        try:
            response = invoke(self.function, event) or {}
            failed_ids = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
            if not self.source.report_failures and failed_ids:
                failed_ids = {message["MessageId"] for message in received}
        except Exception:  # noqa: BLE001 - an invocation error fails the whole batch, as in Lambda
            failed_ids = {message["MessageId"] for message in received}
        for message in received:
            if message["MessageId"] in failed_ids:
                self._sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(received), len(failed_ids)

    def drain(self, max_batches: int = 10_000) -> int:
        """Poll until the queue is empty; returns the records processed successfully."""
        succeeded = 0
        for _ in range(max_batches):
            received, failed = self.poll_once()
            if received == 0:
                return succeeded
            succeeded += received - failed
        return succeeded

    def run_forever(self, stop: threading.Event, idle_seconds: float = 0.2) -> None:
        while not stop.is_set():
            received, _ = self.poll_once()
            if received == 0:
                stop.wait(idle_seconds)
