"""Webhook deliveries accepted once, through the real ingest handler on emulated AWS, with AWS faults injected
under the handler's botocore clients: exact retries answered 2xx, forged replays refused, at most one
DynamoDB write per request, and every fault ending with exact totals once the provider has retried.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from leadscore.adapters.idempotent_queue import record_id
from leadscore.services.ingest import delivery_of
from leadscore.sources.base import WebhookRequest
from leadscore.sources.registry import SOURCES
from local.load import EndState, Planned, check_stack
from local.stack import EmulatedStack
from tests.integration.faults import DYNAMODB_WRITES, Faults
from tests.providers import BY_NAME, PROVIDERS, Credentials, Provider, Signed, sample

RECORDED = {"sendgrid", "mailgun", "postmark", "typeform", "tally"}  # see services.ingest.delivery_of


# ---- helpers ------------------------------------------------------------------------------------------------
def signed_sample(stack: EmulatedStack, name: str) -> Signed:
    """The provider configured, and its documented sample signed now (as its first delivery)."""
    provider = BY_NAME[name]
    return provider.sign(provider.configured(stack), sample(provider.sample), int(time.time()), "")


def url_of(stack: EmulatedStack, provider: Provider) -> str:
    gateway = stack.gateway or stack.serve(port=0)
    return f"https://127.0.0.1:{gateway.port}/webhooks/{provider.name}"


def post(stack: EmulatedStack, source: str, signed: Signed) -> tuple[int, dict[str, Any], dict[str, str]]:
    """POST through the HTTP front; (status, body, headers with lower-case names)."""
    import urllib.error  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    gateway = stack.gateway or stack.serve(port=0)
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{gateway.url}/webhooks/{source}", data=signed.body, headers=signed.headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read() or b"{}"), _lower(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}"), _lower(error.headers)


def _lower(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def a_sendgrid_batch(leads: int = 3, per_lead: int = 5) -> bytes:
    """Opens and clicks by `leads` readers in the last hour: more than one SendMessageBatch (10 per call)."""
    start = int(time.time()) - 3600
    events = []
    for lead in range(leads):
        for index in range(per_lead):
            clicked = index % 2 == 1
            events.append({
                "email": f"reader{lead}@example.com", "timestamp": start + lead * 60 + index,
                "sg_event_id": f"sg-{lead}-{index}", "event": "click" if clicked else "open",
                "sg_message_id": f"msg-{lead}", "useragent": "Mozilla/5.0 Chrome/120",
                **({"url": "https://www.example.com/blog"} if clicked else {}),
            })  # fmt: skip
    return json.dumps(events).encode()


def exact(stack: EmulatedStack, source: str, *bodies: bytes) -> EndState:
    """Drain, then compare the stored scores and alerts with the pure core applied once to each body's events."""
    stack.drain()
    end = check_stack(stack, [Planned(source, body, {}) for body in bodies], datetime.now(UTC))
    assert stack.queue_depth("LeadEventsDLQ") == 0
    return end


def writes(requests: Counter[str]) -> Counter[str]:
    """The DynamoDB write operations among `requests`."""
    return Counter({operation: n for operation, n in requests.items() if operation in DYNAMODB_WRITES})


def assert_exact(end: EndState) -> None:
    assert end.ok, (end.lost, end.double_counted, end.wrong_totals, end.alert_mismatches)
    assert end.events > 0


# ---- exact retries and forged replays ---------------------------------------------------------------------
def test_an_exact_mailgun_retry_gets_200_duplicate_and_a_forged_body_under_its_token_409(stack: EmulatedStack) -> None:
    # Given Mailgun configured, and an open it delivered and we accepted
    genuine = signed_sample(stack, "mailgun")
    first = post(stack, "mailgun", genuine)

    # When Mailgun retries it byte for byte, and someone posts a click for another event under the same token
    retry = post(stack, "mailgun", genuine)
    document = json.loads(genuine.body)
    document["event-data"] |= {"id": "forged", "event": "clicked", "url": "https://www.example.com/pricing"}
    forged = post(stack, "mailgun", Signed(json.dumps(document).encode(), genuine.headers))

    # Then the first is accepted, the retry is a 2xx saying it was a duplicate, the forgery a 409
    assert (first[0], first[1]["accepted"]) == (202, 1)
    assert retry[:2] == (200, {"accepted": 0, "duplicate": True, "event_ids": first[1]["event_ids"]})
    assert (forged[0], forged[1]["error"]) == (409, "replayed_token")
    # ... only the genuine event was queued, once, and the lead holds exactly what it implies
    assert stack.queue_depth("LeadEventsQueue") == 1
    assert_exact(exact(stack, "mailgun", genuine.body))


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda provider: provider.name)
def test_a_webhook_request_costs_at_most_one_dynamodb_write_and_its_retry_none(
    stack: EmulatedStack, provider: Provider, aws_faults: Faults
) -> None:
    # Given the provider configured, and every DynamoDB request of the handlers counted
    credentials = provider.configured(stack)
    signed = provider.sign(credentials, sample(provider.sample), int(time.time()), url_of(stack, provider))

    # When it delivers its sample, then retries it
    aws_faults.calls.clear()
    first = post(stack, provider.name, signed)
    first_requests = aws_faults.made("dynamodb")
    aws_faults.calls.clear()
    retry = post(stack, provider.name, signed)

    # Then the delivery cost one conditional PutItem (after one read) where it is recorded, nothing otherwise,
    # and its retry wrote nothing at all (Powertools Idempotency wrote twice: PutItem + UpdateItem)
    assert first[0] == 202
    assert writes(first_requests) == (Counter({"PutItem": 1}) if provider.name in RECORDED else Counter())
    assert first_requests.total() == (2 if provider.name in RECORDED else 0)
    assert writes(aws_faults.made("dynamodb")) == Counter()
    assert retry[0] == (200 if provider.name in RECORDED else 202)


# ---- faults at ingest ---------------------------------------------------------------------------------------
def sendgrid_delivery(stack: EmulatedStack) -> tuple[Signed, Credentials]:
    provider = BY_NAME["sendgrid"]
    credentials = provider.configured(stack)
    return provider.sign(credentials, a_sendgrid_batch(), int(time.time()), ""), credentials


def records(stack: EmulatedStack) -> list[dict[str, Any]]:
    return stack.items("IdempotencyTable")


def test_entries_sqs_keeps_failing_give_503_with_nothing_recorded_and_the_retry_is_counted_once(
    stack: EmulatedStack, aws_faults: Faults
) -> None:
    # Given a 15-event SendGrid batch, and SQS failing every third entry of every SendMessageBatch
    signed, credentials = sendgrid_delivery(stack)
    rule = aws_faults.failing_entries(every=3)

    # When SendGrid posts it
    status, answer, headers = post(stack, "sendgrid", signed)

    # Then the failed entries were retried inside the request, then it was refused for a retry: 503 +
    # Retry-After, nothing recorded, though part of the batch is on the queue
    assert rule.fired > 2
    assert (status, answer["error"], headers.get("retry-after")) == (503, "unavailable", "5")
    assert records(stack) == []
    assert 0 < stack.queue_depth("LeadEventsQueue") < 15

    # When SQS recovers and SendGrid retries (re-signed, as it does)
    aws_faults.clear()
    retried = BY_NAME["sendgrid"].sign(credentials, signed.body, int(time.time()), "")
    status, answer, _ = post(stack, "sendgrid", retried)

    # Then all 15 are accepted and recorded, and the scorer counts each event once (the part queued twice
    # is dropped by its event id): exact totals
    assert (status, answer["accepted"]) == (202, 15)
    assert len(records(stack)) == 1
    assert_exact(exact(stack, "sendgrid", signed.body))


def test_entries_sqs_fails_once_are_resent_inside_the_request(stack: EmulatedStack, aws_faults: Faults) -> None:
    # Given SQS failing every other entry of the first SendMessageBatch only
    signed, _ = sendgrid_delivery(stack)
    aws_faults.failing_entries(every=2, times=1)

    # When SendGrid posts the batch
    status, answer, _ = post(stack, "sendgrid", signed)

    # Then the failed entries were resent at once: accepted, each event queued exactly once
    assert (status, answer["accepted"]) == (202, 15)
    assert stack.queue_depth("LeadEventsQueue") == 15
    assert aws_faults.calls["sqs.SendMessageBatch"] == 3  # 10 (5 failed), the 5 again, the last 5
    assert_exact(exact(stack, "sendgrid", signed.body))


def test_secrets_manager_unavailable_gives_503_with_retry_after_and_the_retry_is_counted_once(
    stack: EmulatedStack, aws_faults: Faults
) -> None:
    # Given a cold function (no secret cached) and Secrets Manager unreachable
    signed, credentials = sendgrid_delivery(stack)
    aws_faults.unavailable("secretsmanager", "GetSecretValue")

    # When SendGrid posts a batch
    status, answer, headers = post(stack, "sendgrid", signed)

    # Then 503 + Retry-After, and nothing was queued or recorded
    assert (status, answer["error"], headers.get("retry-after")) == (503, "unavailable", "5")
    assert stack.queue_depth("LeadEventsQueue") == 0
    assert records(stack) == []

    # When Secrets Manager is back and SendGrid retries
    aws_faults.clear()
    status, _, _ = post(stack, "sendgrid", BY_NAME["sendgrid"].sign(credentials, signed.body, int(time.time()), ""))

    # Then the batch is accepted and scored exactly once
    assert status == 202
    assert_exact(exact(stack, "sendgrid", signed.body))


def test_the_delivery_table_unavailable_gives_503_and_the_retry_is_counted_once(
    stack: EmulatedStack, aws_faults: Faults
) -> None:
    # Given the delivery-record table unavailable (every request to it fails after the SDK's retries)
    signed, credentials = sendgrid_delivery(stack)
    table = stack.physical("IdempotencyTable")
    for operation in ("GetItem", "PutItem"):
        aws_faults.unavailable("dynamodb", operation, when=lambda params: params.get("TableName") == table)

    # When SendGrid posts a batch
    status, answer, headers = post(stack, "sendgrid", signed)

    # Then 503 + Retry-After, nothing queued
    assert (status, answer["error"], headers.get("retry-after")) == (503, "unavailable", "5")
    assert stack.queue_depth("LeadEventsQueue") == 0

    # When the table is back and SendGrid retries / Then it is accepted, recorded and scored exactly once
    aws_faults.clear()
    status, _, _ = post(stack, "sendgrid", BY_NAME["sendgrid"].sign(credentials, signed.body, int(time.time()), ""))
    assert status == 202
    assert len(records(stack)) == 1
    assert_exact(exact(stack, "sendgrid", signed.body))


def test_send_and_record_failing_together_leave_no_stuck_record_the_retry_goes_through_at_once(
    stack: EmulatedStack, aws_faults: Faults
) -> None:
    # Given the fault that lost deliveries with Powertools: SQS failing, and every write to the delivery
    # table failing too (Powertools could not delete its INPROGRESS record and answered retries 409)
    signed = signed_sample(stack, "typeform")
    aws_faults.unavailable("sqs", "SendMessageBatch")
    for operation in ("PutItem", "UpdateItem", "DeleteItem"):
        aws_faults.unavailable("dynamodb", operation)

    # When Typeform posts a response
    status, answer, headers = post(stack, "typeform", signed)

    # Then it is told to try again (503 + Retry-After, never a 4xx), and nothing is left behind
    assert (status, answer["error"], headers.get("retry-after")) == (503, "unavailable", "5")
    assert records(stack) == []

    # When both recover and Typeform retries at once (no in-progress window to wait out)
    aws_faults.clear()
    status, answer, _ = post(stack, "typeform", signed)

    # Then it is accepted and scored exactly once
    assert (status, answer["accepted"]) == (202, 1)
    assert_exact(exact(stack, "typeform", signed.body))


def _a_record(stack: EmulatedStack, signed: Signed, source: str, expiration: int) -> None:
    """Writes the delivery record of `signed` straight into the table, as an earlier delivery would have."""
    request = WebhookRequest(method="POST", path=f"/webhooks/{source}", headers=signed.headers, body=signed.body)
    events = SOURCES[source].normalise(signed.body, _context())
    delivery = delivery_of(SOURCES[source], request, events)
    assert delivery is not None
    boto3.client("dynamodb").put_item(
        TableName=stack.physical("IdempotencyTable"),
        Item={"id": {"S": record_id(delivery.key)}, "body_hash": {"S": delivery.body_hash},
              "expiration": {"N": str(expiration)}},
    )  # fmt: skip


def _context() -> Any:
    from leadscore.sources.base import NormaliseContext  # noqa: PLC0415

    return NormaliseContext(datetime.now(UTC))


def test_a_record_past_its_expiry_does_not_block_the_delivery_and_a_live_one_answers_duplicate(
    stack: EmulatedStack,
) -> None:
    # Given two Typeform responses whose records are already in the table: one expired an hour ago (DynamoDB's
    # TTL deletes late), one still live
    provider = BY_NAME["typeform"]
    credentials = provider.configured(stack)
    document = json.loads(sample(provider.sample))
    expired = provider.sign(credentials, sample(provider.sample), int(time.time()), "")
    document["form_response"]["token"] = "another-response"
    live = provider.sign(credentials, json.dumps(document).encode(), int(time.time()), "")
    now = int(time.time())
    _a_record(stack, expired, "typeform", now - 3600)
    _a_record(stack, live, "typeform", now + int(timedelta(days=1).total_seconds()))

    # When Typeform delivers both
    answers = [post(stack, "typeform", expired)[:2], post(stack, "typeform", live)[:2]]

    # Then the expired record counts as none (accepted, queued, scored once), the live one as a duplicate
    assert (answers[0][0], answers[0][1]["accepted"]) == (202, 1)
    assert (answers[1][0], answers[1][1]["duplicate"]) == (200, True)
    assert_exact(exact(stack, "typeform", expired.body))


def test_a_record_that_cannot_be_written_after_the_send_still_answers_202_and_a_retry_is_counted_once(
    stack: EmulatedStack, aws_faults: Faults
) -> None:
    # Given the delivery table refusing writes (reads still work)
    signed = signed_sample(stack, "typeform")
    table = stack.physical("IdempotencyTable")
    aws_faults.unavailable("dynamodb", "PutItem", when=lambda params: params.get("TableName") == table)

    # When Typeform delivers a response, then retries it anyway
    first = post(stack, "typeform", signed)
    aws_faults.clear()
    retry = post(stack, "typeform", signed)

    # Then the first is accepted (its event is on the queue: the sender must not resend), the retry finds no
    # record and is queued again, and the scorer counts the response once
    assert (first[0], first[1]["accepted"]) == (202, 1)
    assert (retry[0], retry[1]["accepted"]) == (202, 1)
    assert stack.queue_depth("LeadEventsQueue") == 2
    assert_exact(exact(stack, "typeform", signed.body))
