"""Signed webhook → queue → scorer → DynamoDB → SNS, through the real handlers on emulated AWS."""

from __future__ import annotations

import io
import json
import logging
from collections import Counter
from decimal import Decimal

import boto3

from local.stack import EmulatedStack
from tests.integration.conftest import a_repeat_event_scored, a_submission, post_signed, the_score
from tests.integration.faults import Faults


def test_a_signed_submission_is_queued_scored_and_profiled(stack: EmulatedStack) -> None:
    # Given a signed form submission from a VP at a 250-person software company in the UK
    # When it is posted and the queue is drained through the scorer
    status, answer = post_signed(stack, a_submission())
    scored = stack.drain()

    # Then it was accepted once, scored with fit and engagement from the default model, and profiled
    assert (status, answer) == (202, {"accepted": 1, "event_ids": ["sub-1"]})
    assert scored == 1
    score = the_score(stack)
    assert (score["fit"], score["eng"], score["total"], score["stage"]) == (55, 5, 60, "MQL")
    assert score["b"] == {
        "exec_title": 25, "target_company_size": 15, "target_industry": 10, "served_country": 5, "whitepaper": 5,
    }  # fmt: skip
    [profile] = stack.profiles().values()
    assert profile["email"] == "ada@analytical-engines.example"
    assert profile["company"] == "Analytical Engines"
    # ... keyed by a keyed hash, never by the address
    assert "ada" not in score["pk"]
    assert score["pk"] == profile["pk"]


def test_the_same_webhook_delivered_three_times_is_scored_once(stack: EmulatedStack) -> None:
    # Given one submission
    body = a_submission()

    # When the form tool delivers it three times (it retries when it misses our answer)
    answers = [post_signed(stack, body) for _ in range(3)]
    stack.drain()

    # Then every delivery got a 2xx (a single event under a timestamped signature keeps no delivery record:
    # the repeats are queued again), and the scorer counted the lead's event once
    assert [status for status, _ in answers] == [202, 202, 202]
    score = the_score(stack)
    assert score["total"] == 60
    assert score["n"] == {"whitepaper": 1}
    assert len(score["seen"]) == 1


def test_the_same_queue_message_delivered_three_times_is_scored_once(stack: EmulatedStack) -> None:
    # Given a submission accepted and waiting on the queue
    post_signed(stack, a_submission())
    queue = stack.physical("LeadEventsQueue")
    sqs = boto3.client("sqs")
    [message] = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"]
    record = {
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "md5OfBody": "",
        "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1",
    }  # fmt: skip

    # When SQS hands the scorer the same message three times (at-least-once delivery, Lambda retries)
    responses = [stack.invoke("ScoreEventsFunction", {"Records": [record]}) for _ in range(3)]

    # Then each invocation succeeded, and the score counts the event once
    assert responses == [{"batchItemFailures": []}] * 3
    score = the_score(stack)
    assert score["total"] == 60
    assert score["n"] == {"whitepaper": 1}


def test_a_lead_crossing_the_sales_threshold_alerts_sales_once_with_the_reasons(stack: EmulatedStack) -> None:
    # Given a known lead at 60 (MQL)
    post_signed(stack, a_submission())
    stack.drain()

    # When they request a demo (+40), and then visit pricing the same day (+10)
    post_signed(stack, a_submission(submission_id="sub-2", form_id="demo-request"))
    stack.drain()
    post_signed(
        stack, a_submission(submission_id="sub-3", form_id="pricing-calculator", page_url="https://x.example/pricing")
    )
    stack.drain()

    # Then one alert went out, written for a salesperson and filterable by its attributes
    [alert] = stack.alerts()
    assert alert["subject"] == "Sales-ready lead: Ada Lovelace (Analytical Engines) - score 100"
    assert "VP Engineering" in alert["message"]
    assert "250 employees" in alert["message"]
    assert "+40  Requested a demo" in alert["message"]
    assert "ada@analytical-engines.example" in alert["message"]
    assert alert["attributes"]["stage"] == "SQL"
    assert alert["attributes"]["model"] == "default"
    assert alert["attributes"]["band"] == "A1"  # fit 55 (A), engagement 45 (1)
    assert Decimal(alert["attributes"]["score"]) == 100
    score = the_score(stack)
    assert (score["total"], score["stage"], score["alerts"], score["armed"]) == (110, "SQL", 1, False)
    assert "pending" not in score


def test_the_fast_path_applies_a_repeat_event_with_one_write_and_no_read(
    stack: EmulatedStack, aws_faults: Faults
) -> None:
    # Given a known lead, When it downloads a case study (same attributes, no threshold in reach)
    requests = a_repeat_event_scored(stack, aws_faults)

    # Then the scorer made exactly one DynamoDB request: the conditional UpdateItem
    assert requests == Counter({"UpdateItem": 1})
    assert the_score(stack)["total"] == 68


def test_no_email_address_reaches_the_logs(stack: EmulatedStack) -> None:
    # Given the functions' structured logs at DEBUG level, captured as CloudWatch would receive them
    from leadscore.observability import logger  # noqa: PLC0415 - the logger every handler shares

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    stack.set_log_level("DEBUG")

    # When a lead is accepted, scored and alerted
    try:
        post_signed(stack, a_submission(form_id="demo-request"))
        post_signed(stack, a_submission(submission_id="sub-2", form_id="pricing-calculator", page_url="https://x/p"))
        stack.drain()
    finally:
        logger.removeHandler(handler)
        stack.set_log_level("WARNING")
    logs = stream.getvalue()

    # Then there were logs, with lead ids and event ids, and no address anywhere in them
    assert '"message":"webhook accepted"' in logs
    assert '"message":"sales alert published"' in logs
    assert "analytical-engines.example" not in logs
    assert "ada@" not in logs


def test_a_message_that_is_not_a_lead_event_ends_in_the_dlq_and_writes_nothing(stack: EmulatedStack) -> None:
    # Given a malformed message on the queue (a bug in a producer, say)
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=stack.physical("LeadEventsQueue"), MessageBody=json.dumps({"email": "x@example.com"}))

    # When the scorer sees it as often as the redrive policy allows
    for _ in range(10):
        stack.drain()

    # Then it sits in the dead-letter queue, and nothing was written
    assert stack.queue_depth("LeadEventsQueue") == 0
    assert stack.queue_depth("LeadEventsDLQ") == 1
    assert stack.items() == []
