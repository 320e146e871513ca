"""The webhook function's URL (WebhookFunctionUrl), the cheap door beside its HTTP API routes (issue 12).

Each provider's documented sample, signed its way, is delivered through one door and then, on a fresh stack
with the same keys and the same clock, through the other: the queued messages, the answers and the scores
must be the same. Bad signatures, malformed bodies and duplicates are answered alike, and the two doors
share one deduplication. The URL is invoked the way Lambda invokes it (local/function_url.py: routeKey
"$default", rawPath the path, the URL's own host), so the handler's router, not API Gateway, decides what
exists on it.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
import pytest

from leadscore import clock
from local.stack import EmulatedStack
from tests.integration.conftest import sign
from tests.providers import PROVIDERS, Credentials, Provider, Signed, sample

WEBHOOK = "IngestWebhookFunction"


def _forms_credentials() -> Credentials:
    key = secrets.token_urlsafe(32)
    return Credentials(key, key)


def _forms_sign(credentials: Credentials, body: bytes, now: int, url: str = "") -> Signed:
    return Signed(body, {name.lower(): value for name, value in sign(credentials.signing, body, now).items()})


FORMS = Provider("forms", "FormsWebhookSecret", "form_submission.json", 1, _forms_credentials, _forms_sign,
                 timestamped=True, invalid=b'{"form_id": "demo-request"}')  # fmt: skip
EVERY_SOURCE = pytest.mark.parametrize("provider", [FORMS, *PROVIDERS], ids=lambda provider: provider.name)
# Recorded deliveries (a replay key, no signed timestamp, several events): an exact retry answers 200.
RECORDED = {"sendgrid", "mailgun", "postmark", "typeform", "tally"}


@dataclass(frozen=True)
class Door:
    name: str
    url: Callable[[EmulatedStack, str], str]  # what the provider is configured with (HubSpot signs it)
    post: Callable[[EmulatedStack, str, Signed], tuple[int, dict[str, Any]]]


def _route_url(stack: EmulatedStack, source: str) -> str:
    gateway = stack.gateway or stack.serve(port=0)
    return f"https://127.0.0.1:{gateway.port}/webhooks/{source}"


def _route_post(stack: EmulatedStack, source: str, signed: Signed) -> tuple[int, dict[str, Any]]:
    return stack.post(f"/webhooks/{source}", signed.body, signed.headers)


def _function_url(stack: EmulatedStack, source: str) -> str:
    return f"{stack.function_url(WEBHOOK).url}webhooks/{source}"  # WebhookFunctionUrl + "webhooks/<source>"


def _function_url_post(stack: EmulatedStack, source: str, signed: Signed) -> tuple[int, dict[str, Any]]:
    return stack.function_url(WEBHOOK).post(f"/webhooks/{source}", signed.body, signed.headers)


ROUTE = Door("API route", _route_url, _route_post)
URL = Door("function URL", _function_url, _function_url_post)


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """One instant for both deliveries, so `received_at` (and what is derived from it) can be compared."""
    instant = clock.now()
    monkeypatch.setattr(clock, "now", lambda: instant)
    return instant


def configure(stack: EmulatedStack, provider: Provider, credentials: Credentials, pepper: dict[str, Any]) -> None:
    """The operator's secrets: the provider's key, and one pepper for both stacks (so the lead ids agree)."""
    stack.set_secret(provider.secret, {"current": credentials.stored, "previous": ""})
    stack.set_secret("LeadIdPepperSecret", pepper)


def queued(stack: EmulatedStack) -> list[dict[str, Any]]:
    """The messages on the lead events queue (bodies and attributes), left there for the scorer."""
    sqs, url = boto3.client("sqs"), stack.physical("LeadEventsQueue")
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
        "Messages", []
    ):
        messages += batch
    for message in messages:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    found = [
        {"body": json.loads(m["Body"]), "attributes": {k: v["StringValue"] for k, v in m["MessageAttributes"].items()}}
        for m in messages
    ]
    return sorted(found, key=lambda message: json.dumps(message, sort_keys=True))


def deliver(stack: EmulatedStack, door: Door, provider: Provider, credentials: Credentials, now: int) -> dict[str, Any]:
    """The provider's sample through one door: the answer, the queued messages, the scores after the scorer."""
    signed = provider.sign(credentials, sample(provider.sample), now, door.url(stack, provider.name))
    status, answer = door.post(stack, provider.name, signed)
    messages = queued(stack)
    stack.drain()
    scores = sorted(stack.score_items(), key=lambda item: str(item["pk"]))
    return {"status": status, "answer": answer, "messages": messages, "scores": scores}


@EVERY_SOURCE
@pytest.mark.usefixtures("frozen_clock")
def test_a_signed_webhook_through_the_url_is_queued_and_scored_exactly_as_through_the_route(
    stack: EmulatedStack, provider: Provider
) -> None:
    # Given the provider's key and the stack's pepper, kept for a second, fresh stack
    credentials, pepper, now = provider.credentials(), stack.secret("LeadIdPepperSecret"), int(time.time())
    configure(stack, provider, credentials, pepper)

    # When the same sample is delivered through the API route, then on a fresh stack through the URL
    through_route = deliver(stack, ROUTE, provider, credentials, now)
    stack.reset()
    configure(stack, provider, credentials, pepper)
    through_url = deliver(stack, URL, provider, credentials, now)

    # Then it was accepted, queued and scored (not trivially equal)...
    assert through_route["status"] == 202
    assert len(through_route["messages"]) == provider.events_in_sample
    assert through_route["scores"]
    # ...and the URL's delivery is the same: answer, queue messages, score items, field for field
    assert through_url == through_route


@EVERY_SOURCE
def test_bad_signatures_and_bodies_get_the_same_4xx_json_through_both_doors(
    stack: EmulatedStack, provider: Provider
) -> None:
    # Given the provider's key
    credentials, now = provider.configured(stack), int(time.time())
    body = sample(provider.sample)
    cases: dict[str, Callable[[Door], Signed]] = {
        "wrong key": lambda door: provider.sign(provider.credentials(), body, now, door.url(stack, provider.name)),
        "malformed": lambda door: provider.sign(credentials, provider.invalid, now, door.url(stack, provider.name)),
        "no signature": lambda door: Signed(body, {"content-type": "application/json"}),
    }
    if provider.timestamped:
        cases["stale"] = lambda door: provider.sign(credentials, body, now - 600, door.url(stack, provider.name))

    # When each bad request is posted through the route and through the URL
    answers = {door.name: {case: door.post(stack, provider.name, make(door)) for case, make in cases.items()}
               for door in (ROUTE, URL)}  # fmt: skip

    # Then both doors give the same 4xx and the same JSON body naming the problem, and nothing is queued
    assert answers[URL.name] == answers[ROUTE.name]
    for status, answer in answers[URL.name].values():
        assert 400 <= status < 500
        assert answer["error"]
        assert answer["message"]
    assert stack.queue_depth("LeadEventsQueue") == 0


@EVERY_SOURCE
def test_a_duplicate_delivery_is_deduplicated_the_same_way_through_the_url(
    stack: EmulatedStack, provider: Provider
) -> None:
    # Given the provider's key
    credentials, now = provider.configured(stack), int(time.time())
    recorded = provider.name in RECORDED

    # When one delivery arrives twice through the URL (the provider missed our first answer)
    signed = provider.sign(credentials, sample(provider.sample), now, URL.url(stack, provider.name))
    first, retry = URL.post(stack, provider.name, signed), URL.post(stack, provider.name, signed)
    depth = stack.queue_depth("LeadEventsQueue")
    stack.drain()

    # Then as through the route (test_webhook_providers.py): a recorded delivery's retry answers 200 duplicate
    # and queues nothing; an unrecorded one is queued again and the scorer counts it once
    assert first[0] == 202
    assert retry[0] == (200 if recorded else 202)
    if recorded:
        assert retry[1] == {"accepted": 0, "duplicate": True, "event_ids": first[1]["event_ids"]}
    assert depth == provider.events_in_sample * (1 if recorded else 2)
    assert sum(len(item["seen"]) for item in stack.score_items()) == provider.events_in_sample - provider.no_ops


@pytest.mark.parametrize("provider", [FORMS, PROVIDERS[0]], ids=lambda provider: provider.name)
def test_the_two_doors_share_one_deduplication(stack: EmulatedStack, provider: Provider) -> None:
    # Given a delivery accepted through the API route
    credentials, now = provider.configured(stack), int(time.time())
    signed = provider.sign(credentials, sample(provider.sample), now)
    assert ROUTE.post(stack, provider.name, signed)[0] == 202

    # When the provider's retry comes through the URL (its configuration was switched meanwhile)
    status, answer = URL.post(stack, provider.name, signed)
    stack.drain()

    # Then it is the same delivery: a recorded one answers 200 duplicate; either way each event scores once
    assert status == (200 if provider.name in RECORDED else 202)
    assert answer["event_ids"]
    assert sum(len(item["seen"]) for item in stack.score_items()) == provider.events_in_sample - provider.no_ops


def test_the_url_reaches_the_handler_on_any_path_which_answers_404_json_for_what_is_not_a_webhook(
    stack: EmulatedStack,
) -> None:
    # Given the function URL, which has no routes of its own
    url = stack.function_url(WEBHOOK)

    # When requests that the API has no route for arrive at the URL
    json_headers = {"content-type": "application/json"}
    answers = {
        "unknown path": url.request("POST", "/admin", body=b"{}", headers=json_headers),
        "unknown source": url.request("POST", "/webhooks/zapier", body=b"{}", headers=json_headers),
        "root": url.request("GET", "/"),
    }

    # Then the handler's router answers each with a JSON 404, and nothing is queued
    for status, headers, body in answers.values():
        assert status == 404
        assert headers["content-type"] == "application/json"
        assert json.loads(body)["error"] in {"not_found", "unknown_source"}
    assert stack.queue_depth("LeadEventsQueue") == 0
