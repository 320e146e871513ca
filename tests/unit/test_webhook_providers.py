"""Every webhook provider, through IngestService with fakes: its documented sample, signed as it signs.

Per provider: the sample is accepted and normalised; a wrong key, a stale timestamp (where the scheme has
one), a replay and malformed payloads each get their 4xx and queue nothing; the previous key of a
rotation still verifies.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadscore.adapters.memory import InMemoryQueue
from leadscore.errors import WebhookRejected
from leadscore.services.ingest import IngestService
from leadscore.sources.base import WebhookRequest
from leadscore.sources.config import load_source_config
from tests.providers import HOST, PROVIDERS, Credentials, Provider, Signed, sample

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


@PARAMETRISE
def test_a_replayed_request_is_refused_409_and_queued_once(provider: Provider) -> None:
    # Given a request that was accepted
    rig = Rig(provider)
    signed = rig.signed()
    first = rig.post(signed)

    # When the very same request arrives again
    rejected = rig.refused(signed)

    # Then it is a duplicate and nothing more was queued
    assert (rejected.status, rejected.code) == (409, "duplicate_delivery")
    assert rig.queue.sent == first


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
