"""Every webhook provider end to end: its documented sample, signed as it signs, through the HTTP front,
the real ingest handler, SQS and the real scorer into DynamoDB; and each bad request refused with nothing
queued or written. Secrets are set the way an operator sets them (put-secret-value), with keys made here.
"""

from __future__ import annotations

import time

import pytest

from local.stack import EmulatedStack
from tests.providers import PROVIDERS, Provider, Signed, sample

# Deliveries that keep a record: a replay key (Mailgun), no signed timestamp (Postmark, Typeform, Tally),
# several events (SendGrid's batch). Webflow and HubSpot post one event under a timestamped signature.
RECORDED = {"sendgrid", "mailgun", "postmark", "typeform", "tally"}
PARAMETRISE = pytest.mark.parametrize("provider", PROVIDERS, ids=lambda provider: provider.name)


def url_of(stack: EmulatedStack, provider: Provider) -> str:
    gateway = stack.gateway or stack.serve(port=0)
    return f"https://127.0.0.1:{gateway.port}/webhooks/{provider.name}"  # what HubSpot signs: the URL it called


def post(stack: EmulatedStack, provider: Provider, signed: Signed) -> tuple[int, dict[str, object]]:
    return stack.post(f"/webhooks/{provider.name}", signed.body, signed.headers)


@PARAMETRISE
def test_the_providers_sample_is_accepted_queued_and_scored(stack: EmulatedStack, provider: Provider) -> None:
    # Given the provider's secret, as the operator configures it
    credentials = provider.configured(stack)

    # When the provider posts its documented sample, signed its way
    signed = provider.sign(credentials, sample(provider.sample), int(time.time()), url_of(stack, provider))
    status, answer = post(stack, provider, signed)
    stack.drain()

    # Then it was accepted and every event reached the leads' scores
    assert (status, answer["accepted"]) == (202, provider.events_in_sample)
    scored = stack.score_items()
    assert scored
    assert sum(len(item["seen"]) for item in scored) == provider.events_in_sample - provider.no_ops


@PARAMETRISE
def test_bad_requests_are_refused_and_nothing_is_queued_or_written(stack: EmulatedStack, provider: Provider) -> None:
    # Given the provider's secret
    credentials = provider.configured(stack)
    url, now, body = url_of(stack, provider), int(time.time()), sample(provider.sample)

    # When it receives a wrong signature, a stale one (where signed), a malformed body, and a replay
    answers = {
        "wrong key": post(stack, provider, provider.sign(provider.credentials(), body, now, url))[0],
        "malformed": post(stack, provider, provider.sign(credentials, provider.invalid, now, url))[0],
    }
    if provider.timestamped:
        answers["stale"] = post(stack, provider, provider.sign(credentials, body, now - 600, url))[0]
    assert stack.queue_depth("LeadEventsQueue") == 0
    original = provider.sign(credentials, body, now, url)
    answers["first"] = post(stack, provider, original)[0]
    answers["replay"] = post(stack, provider, original)[0]

    # Then each bad one got its 4xx; the replay a 2xx: 200 duplicate with nothing queued where the delivery
    # is recorded, 202 and queued again (for the scorer to drop by event id) where it is not
    recorded = provider.name in RECORDED
    expected = {"wrong key": 401, "malformed": 422, "first": 202, "replay": 200 if recorded else 202}
    assert answers == (expected | {"stale": 401} if provider.timestamped else expected)
    assert stack.queue_depth("LeadEventsQueue") == provider.events_in_sample * (1 if recorded else 2)
    assert stack.items() == []  # nothing scored before the queue is drained


def test_a_provider_without_its_secret_is_not_served(stack: EmulatedStack) -> None:
    # Given the Typeform secret deleted from the configuration (the function has no secret id for it)
    environment = dict(stack.environment)
    stack.environment.pop("TYPEFORM_WEBHOOK_SECRET_ID")
    import os  # noqa: PLC0415

    os.environ.pop("TYPEFORM_WEBHOOK_SECRET_ID")
    stack.reset_handler_caches()
    try:
        # When Typeform posts / Then 404, as for any route we do not serve
        status, answer = stack.post("/webhooks/typeform", b"{}", {"content-type": "application/json"})
        assert (status, answer["error"]) == (404, "unknown_source")
    finally:
        os.environ.update(environment)
        stack.environment.update(environment)
        stack.reset_handler_caches()
