"""Every webhook provider, through IngestService with fakes: its documented sample, signed as it signs.

Per provider: the sample is accepted and normalised; a wrong key, a stale timestamp (where the scheme has
one), a replay and malformed payloads each get their 4xx and queue nothing; the previous key of a
rotation still verifies.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadscore.adapters.memory import InMemoryQueue
from leadscore.errors import AlreadyAccepted, WebhookRejected
from leadscore.services.ingest import IngestService
from leadscore.sources.base import WebhookRequest
from leadscore.sources.config import load_source_config
from tests.providers import BY_NAME, HOST, PROVIDERS, Credentials, Provider, Signed, sample

NOW = 1_764_000_000
CONFIG_DIR = Path(__file__).resolve().parents[2] / "scoring" / "sources"
PARAMETRISE = pytest.mark.parametrize("provider", PROVIDERS, ids=lambda provider: provider.name)


class Rig:
    def __init__(self, provider: Provider, *credentials: Credentials) -> None:
        self.provider = provider
        self.credentials = credentials or (provider.credentials(),)
        self.queue = InMemoryQueue()
        self.service = IngestService(
            queue=self.queue,
            keys_for=lambda source: [c.stored.encode() for c in self.credentials],
            clock=lambda: datetime.fromtimestamp(NOW, UTC),
            tolerance_seconds=300,
            config_for=lambda source: load_source_config(CONFIG_DIR, source.name),
        )

    def signed(self, body: bytes | None = None, *, at: int = NOW, credentials: Credentials | None = None) -> Signed:
        chosen = credentials or self.credentials[0]
        return self.provider.sign(chosen, sample(self.provider.sample) if body is None else body, at, "")

    def post(self, signed: Signed) -> list[object]:
        request = WebhookRequest(
            method="POST", path=f"/webhooks/{self.provider.name}", headers=signed.headers, body=signed.body, host=HOST
        )
        return list(self.service.accept(self.provider.name, request))

    def refused(self, signed: Signed) -> WebhookRejected:
        with pytest.raises(WebhookRejected) as rejected:
            self.post(signed)
        return rejected.value


@PARAMETRISE
def test_the_documented_sample_signed_as_the_provider_signs_is_accepted(provider: Provider) -> None:
    # Given the provider's documented sample, signed with a key generated for this test
    rig = Rig(provider)

    # When it is posted
    events = rig.post(rig.signed())

    # Then its events are queued, attributed to the provider
    assert len(events) == provider.events_in_sample
    assert rig.queue.sent == events
    assert {event.source for event in rig.queue.sent} == {provider.name}


@PARAMETRISE
def test_a_request_signed_with_another_key_is_refused_401(provider: Provider) -> None:
    rig = Rig(provider)
    rejected = rig.refused(rig.signed(credentials=provider.credentials()))
    assert rejected.status == 401
    assert rig.queue.sent == []


# Postmark, Typeform and Tally sign no timestamp: their replays are refused by id (the replay test).
@pytest.mark.parametrize("provider", [p for p in PROVIDERS if p.timestamped], ids=lambda provider: provider.name)
def test_a_stale_request_is_refused_401(provider: Provider) -> None:
    rig = Rig(provider)
    rejected = rig.refused(rig.signed(at=NOW - 301))
    assert (rejected.status, rejected.code) == (401, "stale_timestamp")
    assert rig.queue.sent == []


# Which deliveries keep a record (one write): a replay key (Mailgun), no signed timestamp (Postmark, Typeform,
# Tally), several events (SendGrid's batch). Webflow and HubSpot post one event under a timestamped signature.
RECORDED = {"sendgrid", "mailgun", "postmark", "typeform", "tally"}


@PARAMETRISE
def test_an_exact_retry_is_answered_as_a_duplicate_or_left_to_the_scorer(provider: Provider) -> None:
    # Given a request that was accepted
    rig = Rig(provider)
    signed = rig.signed()
    first = rig.post(signed)

    # When the very same request arrives again
    if provider.name in RECORDED:
        with pytest.raises(AlreadyAccepted) as duplicate:
            rig.post(signed)

        # Then a recorded delivery is a duplicate (answered 200) naming its events, and nothing more is queued
        assert duplicate.value.event_ids == [event.event_id for event in first]
        assert rig.queue.sent == first
        assert rig.queue.writes == 1
    else:
        # Then an unrecorded one is queued again, for the scorer to drop by event id, and nothing was written
        assert rig.post(signed) == first
        assert rig.queue.sent == first + first
        assert rig.queue.writes == 0


def test_a_forged_body_under_a_used_mailgun_token_is_refused_409() -> None:
    # Given a Mailgun delivery that was accepted
    rig = Rig(BY_NAME["mailgun"])
    genuine = rig.signed()
    first = rig.post(genuine)

    # When someone posts another body under the same signed timestamp and token
    document = json.loads(genuine.body)
    document["event-data"]["id"] = "forged-id"
    document["event-data"]["event"] = "clicked"
    forged = Signed(json.dumps(document).encode(), genuine.headers)
    rejected = rig.refused(forged)

    # Then it is refused as a replayed token, and only the genuine event was queued
    assert (rejected.status, rejected.code) == (409, "replayed_token")
    assert rig.queue.sent == first


def test_a_sendgrid_retry_serialised_differently_is_still_a_duplicate() -> None:
    # Given a SendGrid batch that was accepted
    rig = Rig(BY_NAME["sendgrid"])
    first = rig.post(rig.signed())

    # When the same events come back re-serialised (other whitespace and key order), freshly signed
    events = json.loads(sample(BY_NAME["sendgrid"].sample))
    body = json.dumps([dict(reversed(list(event.items()))) for event in events], indent=2).encode()
    with pytest.raises(AlreadyAccepted):
        rig.post(rig.signed(body))

    # Then the body signed by SendGrid itself is no forgery: the same event ids are a duplicate, queued once
    assert rig.queue.sent == first


def test_events_queued_whose_record_failed_are_accepted_and_reported() -> None:
    # Given a Typeform delivery, and the delivery records failing after the send
    rig = Rig(BY_NAME["typeform"])
    reported: list[tuple[str, int]] = []
    rig.service.on_unrecorded = lambda source, events: reported.append((source, events))
    rig.queue.record_fails = True

    # When it is posted
    events = rig.post(rig.signed())

    # Then it is accepted (its events are on the queue), and the missing record is reported
    assert rig.queue.sent == events
    assert reported == [("typeform", 1)]


@PARAMETRISE
def test_a_payload_of_the_wrong_shape_is_refused_422(provider: Provider) -> None:
    rig = Rig(provider)
    rejected = rig.refused(rig.signed(provider.invalid))
    assert rejected.status == 422
    assert rejected.details  # names what is wrong
    assert rig.queue.sent == []


@PARAMETRISE
def test_a_body_that_is_not_json_is_refused(provider: Provider) -> None:
    rig = Rig(provider)
    body = b'{"truncated": '
    # Mailgun's signature lives in the body, read by the same parser: a body that is not JSON is a 400 everywhere.
    signed = rig.signed(b"{}") if provider.name == "mailgun" else rig.signed(body)
    rejected = rig.refused(Signed(body, signed.headers))
    assert (rejected.status, rejected.code) == (400, "malformed_json")
    assert rig.queue.sent == []


@PARAMETRISE
def test_during_a_rotation_the_previous_key_still_verifies(provider: Provider) -> None:
    # Given a secret with a new current key and the previous one
    new, old = provider.credentials(), provider.credentials()
    rig = Rig(provider, new, old)

    # When a sender still signs with the previous key / Then it is accepted
    assert len(rig.post(rig.signed(credentials=old))) == provider.events_in_sample
