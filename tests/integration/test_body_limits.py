"""Body limits are per source, from each provider's documented maximum: SendGrid's big batches get through."""

from __future__ import annotations

import json
import time

from leadscore.sources.registry import SOURCES
from local.stack import EmulatedStack
from tests.providers import BY_NAME

SENDGRID = BY_NAME["sendgrid"]


def a_sendgrid_batch(size: int, now: int) -> list[dict[str, object]]:
    """Events as SendGrid writes them, each carrying the sender's custom args (SendGrid allows up to 10,000
    bytes of them per message, and copies them into every event), until the batch is `size` bytes or more."""
    events: list[dict[str, object]] = []
    while len(json.dumps(events)) < size:
        n = len(events)
        events.append(
            {
                "email": f"reader{n % 50}@customer-{n % 7}.example",
                "timestamp": now - n,
                "smtp-id": f"<14c5d75ce93.dfd.64b469.{n}@ismtpd-555>",
                "event": "open" if n % 3 else "delivered",
                "category": ["newsletter", "2026-11"],
                "sg_event_id": f"sg-event-{n:08d}-{'x' * 12}",
                "sg_message_id": f"14c5d75ce93.dfd.64b469.filter0001.{n}.5515E0B88.0",
                "useragent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0",
                "ip": "192.0.2.10",
                "sg_machine_open": False,
                "account_id": f"acct-{n % 97:05d}",
                "campaign_context": "q4-nurture;" + "segment=enterprise-emea;" * 200,  # ~4.6 KB of custom args
            }
        )
    return events


def test_a_700_kb_signed_sendgrid_batch_is_accepted_not_413(stack: EmulatedStack) -> None:
    # Given SendGrid's verification key, and a signed batch of 700 KB (SendGrid posts up to 768 KB; the old
    # single 256 KiB limit answered 413, SendGrid retried for 24 hours, then dropped the events)
    credentials = SENDGRID.credentials()
    stack.set_secret(SENDGRID.secret, {"current": credentials.stored, "previous": ""})
    now = int(time.time())
    events = a_sendgrid_batch(700 * 1024, now)
    signed = SENDGRID.sign(credentials, json.dumps(events).encode(), now, "")
    assert 700 * 1024 <= len(signed.body) < SOURCES["sendgrid"].max_body_bytes

    # When SendGrid posts it (in-process through the API Gateway front)
    gateway = stack.gateway or stack.serve(port=0)
    status, _, raw = gateway.dispatch("POST", "/webhooks/sendgrid", signed.headers, signed.body, "127.0.0.1")
    answer = json.loads(raw)

    # Then every event is accepted and queued
    assert (status, answer.get("accepted")) == (202, len(events))
    assert stack.queue_depth("LeadEventsQueue") == len(events)


def test_a_body_over_the_sources_own_limit_is_413_naming_it(stack: EmulatedStack) -> None:
    # Given a signed SendGrid batch one byte over SendGrid's limit
    credentials = SENDGRID.credentials()
    stack.set_secret(SENDGRID.secret, {"current": credentials.stored, "previous": ""})
    now = int(time.time())
    body = json.dumps(a_sendgrid_batch(1024, now)).encode()
    body = body[:-1] + b" " * (SOURCES["sendgrid"].max_body_bytes + 1 - len(body)) + b"]"
    signed = SENDGRID.sign(credentials, body, now, "")

    # When posted / Then 413, saying the limit, and nothing queued
    status, answer = stack.post("/webhooks/sendgrid", signed.body, signed.headers)
    assert (status, answer["error"]) == (413, "body_too_large")
    assert str(SOURCES["sendgrid"].max_body_bytes) in answer["message"]
    assert stack.queue_depth("LeadEventsQueue") == 0
