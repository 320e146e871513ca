"""Correctness under real conditions: concurrent writers on one lead, an SNS outage at the crossing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from leadscore.models.events import EventType, LeadEvent
from local.stack import EmulatedStack
from tests.integration.conftest import a_submission, post_signed, the_score
from tests.integration.faults import Faults

ATTRIBUTES = {"first_name": "Ada", "last_name": "Lovelace", "company": "Analytical Engines",
              "job_title": "VP Engineering", "company_size": 250, "industry": "Software", "country": "GB"}  # fmt: skip


def a_queue_record(event: LeadEvent, index: int) -> dict[str, Any]:
    return {
        "messageId": f"m-{index}", "receiptHandle": f"r-{index}", "body": event.model_dump_json(),
        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "md5OfBody": "",
        "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1",
    }  # fmt: skip


def fifty_events_for_one_lead() -> list[LeadEvent]:
    """40 case-study downloads (8 points each, uncapped) and 10 opens on one day (1 each, at most 3 a day)."""
    start = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=1)

    def event(index: int, kind: EventType, properties: dict[str, Any]) -> LeadEvent:
        at = start + timedelta(seconds=index)
        return LeadEvent(
            event_id=f"evt-{index}", source="forms", type=kind, occurred_at=at, received_at=at,
            email="ada@analytical-engines.example", attributes=ATTRIBUTES if kind is EventType.FORM_SUBMITTED else {},
            properties=properties,
        )  # fmt: skip

    forms = [event(i, EventType.FORM_SUBMITTED, {"form_id": "case-study-download"}) for i in range(40)]
    opens = [event(40 + i, EventType.EMAIL_OPENED, {}) for i in range(10)]
    return forms + opens


def test_fifty_concurrent_events_on_one_lead_are_all_counted_and_alert_once(stack: EmulatedStack) -> None:
    # Given 50 distinct events for one lead, each in its own SQS message
    records = [a_queue_record(event, i) for i, event in enumerate(fifty_events_for_one_lead())]
    start = threading.Barrier(len(records))
    redeliveries: list[str] = []

    def deliver(record: dict[str, Any]) -> None:
        """Lambda + SQS: invoke; a record reported as failed is delivered again."""
        start.wait()
        for _ in range(100):
            try:
                response = stack.invoke("ScoreEventsFunction", {"Records": [record]})
            except BatchProcessingError:  # every record of the batch failed: Lambda retries them all
                response = {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
            if not response["batchItemFailures"]:
                return
            redeliveries.append(record["messageId"])
        raise AssertionError(f"{record['messageId']} never succeeded")

    # When 50 scorer invocations run at once against the emulated DynamoDB (threaded moto server)
    with ThreadPoolExecutor(max_workers=len(records)) as pool:
        list(pool.map(deliver, records))
    stack.drain()  # and the alert path (FIFO hop, sender) runs on its own queue

    # Then no update was lost or doubled: fit 55 + 40 x 8 + min(10, 3) opens
    score = the_score(stack)
    assert score["total"] == 55 + 40 * 8 + 3
    assert score["n"] == {"case_study": 40, "email_open": 10}
    assert score["b"]["case_study"] == 320
    assert score["b"]["email_open"] == 3
    # ... and the lead crossed the sales threshold once, so sales heard about it once
    assert len(stack.alerts()) == 1
    assert score["alerts"] == 1


def test_an_sns_failure_on_the_crossing_event_still_alerts_exactly_once(
    stack: EmulatedStack, aws_faults: Faults
) -> None:
    # Given a known lead at 60, and SNS about to fail once (the next Publish; later ones go through)
    sns_fails_once = aws_faults.unavailable("sns", "Publish", times=1, error_code="InternalError")
    post_signed(stack, a_submission())
    stack.drain()

    # When the lead requests a demo (crossing 75) and the queue is drained: the first publish fails,
    # the record is reported failed, SQS redelivers it
    post_signed(stack, a_submission(submission_id="sub-2", form_id="demo-request"))
    stack.drain()

    # Then the publish did fail once, yet exactly one alert reached sales, and the score counted the demo once
    assert sns_fails_once.fired == 1
    [alert] = stack.alerts()
    assert alert["attributes"]["stage"] == "SQL"
    score = the_score(stack)
    assert score["total"] == 100
    assert score["n"] == {"whitepaper": 1, "demo_request": 1}
    assert score["alerts"] == 1
    assert "pending" not in score
    assert stack.queue_depth("LeadEventsDLQ") == 0


def test_dynamodb_in_the_emulator_is_atomic_per_item_like_aws(stack: EmulatedStack) -> None:
    # Given one item and 50 threads
    client = boto3.client("dynamodb")
    table = stack.physical("LeadsTable")
    key = {"pk": {"S": "counter"}, "sk": {"S": "counter"}}

    def add_ten() -> None:
        for _ in range(10):
            client.update_item(
                TableName=table, Key=key, UpdateExpression="ADD n :one", ExpressionAttributeValues={":one": {"N": "1"}}
            )

    # When each adds 1 ten times at once
    threads = [threading.Thread(target=add_ten) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then the count is exact (moto alone loses or doubles some: see shared/aws-emulation-notes.md)
    item = client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    assert item["n"] == {"N": "500"}
