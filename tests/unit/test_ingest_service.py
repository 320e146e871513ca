"""IngestService: every bad request is refused with the right status and code, and nothing is queued."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from leadscore.errors import QueueUnavailable, WebhookRejected
from leadscore.models.events import EventType
from leadscore.sources import forms
from leadscore.sources.base import WebhookRequest
from tests.unit.builders import (
    FORMS_KEY,
    MONDAY,
    OMIT,
    PREVIOUS_FORMS_KEY,
    a_form_submission,
    a_webhook_request,
    an_ingest_rig,
    body_of,
    signature_for,
)

MAX_BODY = forms.SOURCE.max_body_bytes  # the generic route's own limit
VALID_BODY = body_of(a_form_submission())


@dataclass(frozen=True)
class Bad:
    name: str
    request: Callable[[], WebhookRequest]
    status: int
    code: str
    source: str = "forms"


def submission(**overrides: object) -> Callable[[], WebhookRequest]:
    return lambda: a_webhook_request(a_form_submission(**overrides))


def raw(body: bytes) -> Callable[[], WebhookRequest]:
    return lambda: a_webhook_request(body)


BAD_REQUESTS = [
    # ---- where and how it is sent
    Bad("unknown source", a_webhook_request, 404, "unknown_source", source="typeform2"),
    Bad("oversized body", raw(b" " * (MAX_BODY + 1)), 413, "body_too_large"),
    Bad("text/plain", lambda: a_webhook_request(content_type="text/plain"), 415, "unsupported_media_type"),
    Bad(
        "form-encoded",
        lambda: a_webhook_request(content_type="application/x-www-form-urlencoded"),
        415,
        "unsupported_media_type",
    ),
    Bad("missing content type", lambda: a_webhook_request(content_type=OMIT), 415, "unsupported_media_type"),
    Bad("empty content type", lambda: a_webhook_request(content_type=""), 415, "unsupported_media_type"),
    # ---- signature
    Bad("missing signature", lambda: a_webhook_request(signature=OMIT), 401, "missing_signature"),
    Bad("empty signature", lambda: a_webhook_request(signature=""), 401, "missing_signature"),
    Bad("wrong signature", lambda: a_webhook_request(signature="v1=" + "0" * 64), 401, "invalid_signature"),
    Bad(
        "signature for a different body",
        lambda: a_webhook_request(
            a_form_submission(form_id="newsletter-signup"), signature=signature_for(VALID_BODY, MONDAY)
        ),
        401,
        "invalid_signature",
    ),
    Bad(
        "signature for another timestamp",
        lambda: a_webhook_request(timestamp=MONDAY, signature=signature_for(VALID_BODY, MONDAY - 1)),
        401,
        "invalid_signature",
    ),
    Bad(
        "signature over the body alone",
        lambda: a_webhook_request(signature="v1=" + hmac.new(FORMS_KEY, VALID_BODY, hashlib.sha256).hexdigest()),
        401,
        "invalid_signature",
    ),
    Bad(
        "wrong scheme v0",
        lambda: a_webhook_request(signature="v0=" + signature_for(VALID_BODY, MONDAY)[3:]),
        401,
        "invalid_signature",
    ),
    Bad(
        "wrong scheme sha256",
        lambda: a_webhook_request(signature="sha256=" + signature_for(VALID_BODY, MONDAY)[3:]),
        401,
        "invalid_signature",
    ),
    Bad(
        "no scheme at all",
        lambda: a_webhook_request(signature=signature_for(VALID_BODY, MONDAY)[3:]),
        401,
        "invalid_signature",
    ),
    Bad("unknown key", lambda: a_webhook_request(key=b"someone-elses-secret"), 401, "invalid_signature"),
    # ---- timestamp
    Bad("stale timestamp (past)", lambda: a_webhook_request(timestamp=MONDAY - 301), 401, "stale_timestamp"),
    Bad("stale timestamp (future)", lambda: a_webhook_request(timestamp=MONDAY + 301), 401, "stale_timestamp"),
    Bad(
        "timestamp in milliseconds",
        lambda: a_webhook_request(timestamp=MONDAY * 1000),
        401,
        "stale_timestamp",
    ),
    Bad("missing timestamp", lambda: a_webhook_request(timestamp=OMIT), 401, "missing_timestamp"),
    Bad("blank timestamp", lambda: a_webhook_request(timestamp="  "), 401, "missing_timestamp"),
    Bad("garbage timestamp", lambda: a_webhook_request(timestamp="yesterday"), 401, "invalid_timestamp"),
    Bad("ISO timestamp", lambda: a_webhook_request(timestamp="2026-11-23T09:00:00Z"), 401, "invalid_timestamp"),
    # ---- body: not JSON, or not an object
    Bad("malformed JSON", raw(b'{"email": "ada@analytical.example",'), 400, "malformed_json"),
    Bad("not UTF-8", raw(b'{"email": "\xff"}'), 400, "malformed_json"),
    Bad(
        "NaN is not JSON",
        raw(b'{"submission_id": "s", "form_id": "f", "email": "a@b.example", "fields": {"x": NaN}}'),
        400,
        "malformed_json",
    ),
    Bad("nested too deeply", raw(b"[" * 50_000 + b"]" * 50_000), 400, "malformed_json"),
    Bad("empty body", raw(b""), 400, "malformed_json"),
    Bad("JSON array", lambda: a_webhook_request([a_form_submission()]), 422, "invalid_submission"),
    Bad("JSON string", lambda: a_webhook_request("ada@analytical.example"), 422, "invalid_submission"),
    Bad("JSON null", raw(b"null"), 422, "invalid_submission"),
    # ---- body: the submission itself
    Bad("missing email", submission(email=OMIT), 422, "invalid_email"),
    Bad("invalid email", submission(email="ada-at-analytical"), 422, "invalid_email"),
    Bad("email as a number", submission(email=42), 422, "invalid_email"),
    Bad("missing submission_id", submission(submission_id=OMIT), 422, "invalid_submission"),
    Bad("empty submission_id", submission(submission_id=""), 422, "invalid_submission"),
    Bad("numeric submission_id", submission(submission_id=8812), 422, "invalid_submission"),
    Bad("too-long submission_id", submission(submission_id="s" * 129), 422, "invalid_submission"),
    Bad("missing form_id", submission(form_id=OMIT), 422, "invalid_submission"),
    Bad("company_size lots", submission(company_size="lots"), 422, "invalid_submission"),
    Bad("negative company_size", submission(company_size=-5), 422, "invalid_submission"),
    Bad("zero company_size", submission(company_size=0), 422, "invalid_submission"),
    Bad("fractional company_size", submission(company_size=12.5), 422, "invalid_submission"),
    Bad("negative revenue", submission(annual_revenue=-1), 422, "invalid_submission"),
    Bad("naive submitted_at", submission(submitted_at="2026-11-22T10:00:00"), 422, "invalid_submission"),
    Bad("page_url not a URL", submission(page_url="pricing page"), 422, "invalid_submission"),
    Bad("unknown top-level field", submission(favourite_colour="teal"), 422, "invalid_submission"),
    Bad("too-long first_name", submission(first_name="A" * 257), 422, "invalid_submission"),
    Bad("too-long job_title", submission(job_title="VP " * 100), 422, "invalid_submission"),
    Bad("one-letter country", submission(country="G"), 422, "invalid_submission"),
    Bad("too many extra fields", submission(fields={f"q{i}": i for i in range(51)}), 422, "invalid_submission"),
    Bad("extra field key too long", submission(fields={"k" * 65: 1}), 422, "invalid_submission"),
    Bad("extra field value too long", submission(fields={"note": "x" * 1025}), 422, "invalid_submission"),
    Bad("nested extra field", submission(fields={"utm": {"source": "x"}}), 422, "invalid_submission"),
    Bad("fields not an object", submission(fields=["utm_source"]), 422, "invalid_submission"),
]


def test_the_table_is_big_enough() -> None:
    assert len(BAD_REQUESTS) >= 30


@pytest.mark.parametrize("bad", BAD_REQUESTS, ids=[bad.name for bad in BAD_REQUESTS])
def test_a_bad_request_is_refused_and_nothing_is_queued(bad: Bad) -> None:
    # Given the ingest service with the current and previous keys, at MONDAY
    rig = an_ingest_rig()

    # When the bad request arrives
    with pytest.raises(WebhookRejected) as rejected:
        rig.service.accept(bad.source, bad.request())

    # Then it is refused with a 4xx status and a code the sender can act on, and nothing was queued
    assert (rejected.value.status, rejected.value.code) == (bad.status, bad.code)
    assert 400 <= rejected.value.status < 500
    assert rig.queue.sent == []


def test_validation_details_name_fields_without_echoing_values() -> None:
    # Given a submission with a bad size and a personal value elsewhere
    rig = an_ingest_rig()
    request = a_webhook_request(a_form_submission(company_size="lots", phone="x" * 65))

    # When it is refused
    with pytest.raises(WebhookRejected) as rejected:
        rig.service.accept("forms", request)

    # Then the details name both fields, and contain none of the submitted values
    fields = {detail["field"] for detail in rejected.value.details}
    assert fields == {"company_size", "phone"}
    assert "lots" not in repr(rejected.value.details)
    assert "xxxx" not in repr(rejected.value.details)


def test_a_valid_submission_is_queued_as_one_lead_event() -> None:
    # Given a signed submission with everything the contract allows
    rig = an_ingest_rig()
    payload = a_form_submission(
        submission_id="sub_8f1c2",
        form_id="demo-request",
        submitted_at="2026-11-22T11:00:00+01:00",
        page_url="https://www.example.com/pricing",
        email="  Ada@Analytical.EXAMPLE ",
        first_name="Ada",
        last_name="Lovelace",
        company="Analytical Engines Ltd",
        job_title="VP Engineering",
        company_size=250,
        industry="Software",
        country="GB",
        annual_revenue=25_000_000,
        fields={"utm_source": "linkedin", "seats": 40, "newsletter": True},
    )

    # When it is accepted
    events = rig.service.accept("forms", a_webhook_request(payload))

    # Then one LeadEvent is queued, mapped as the contract says
    assert rig.queue.sent == events
    [event] = events
    assert event.event_id == "sub_8f1c2"
    assert event.source == "forms"
    assert event.type is EventType.FORM_SUBMITTED
    assert event.email == "ada@analytical.example"
    assert event.occurred_at == datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    assert event.received_at == rig.clock.as_datetime()
    assert event.attributes == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company": "Analytical Engines Ltd",
        "job_title": "VP Engineering",
        "company_size": 250,
        "industry": "Software",
        "country": "GB",
        "annual_revenue": 25_000_000,
    }
    assert event.properties == {
        "utm_source": "linkedin",
        "seats": 40,
        "newsletter": True,
        "form_id": "demo-request",
        "page_url": "https://www.example.com/pricing",
    }


def test_without_submitted_at_the_event_happened_when_it_was_received() -> None:
    # Given a minimal submission
    rig = an_ingest_rig()

    # When accepted
    [event] = rig.service.accept("forms", a_webhook_request(a_form_submission()))

    # Then it occurred when it was received, with no attributes
    assert event.occurred_at == event.received_at == rig.clock.as_datetime()
    assert event.attributes == {}
    assert event.properties == {"form_id": "demo-request"}


def test_the_previous_key_is_accepted_during_a_rotation() -> None:
    # Given a sender still signing with the previous key
    rig = an_ingest_rig()

    # When its request arrives / Then it is accepted
    assert len(rig.service.accept("forms", a_webhook_request(key=PREVIOUS_FORMS_KEY))) == 1


def test_after_the_rotation_the_previous_key_is_refused() -> None:
    # Given only the new key is active
    rig = an_ingest_rig(keys=[b"whsec-current-0123456789"])

    # When a request signed with the old key arrives / Then it is refused
    with pytest.raises(WebhookRejected, match="does not match"):
        rig.service.accept("forms", a_webhook_request(key=PREVIOUS_FORMS_KEY))
    assert rig.queue.sent == []


def test_several_signatures_are_accepted_if_one_matches() -> None:
    # Given a sender rotating keys that sends two signatures, the first stale
    rig = an_ingest_rig()
    good = signature_for(VALID_BODY, MONDAY)
    header = f"v1={'ab' * 32}, {good}"

    # When it arrives / Then it is accepted
    assert len(rig.service.accept("forms", a_webhook_request(signature=header))) == 1


@pytest.mark.parametrize("skew", [-300, 300], ids=["300s-old", "300s-ahead"])
def test_the_tolerance_edge_is_inclusive(skew: int) -> None:
    # Given a request signed exactly 300 s away from now
    rig = an_ingest_rig()

    # When it arrives / Then it is still accepted
    assert len(rig.service.accept("forms", a_webhook_request(timestamp=MONDAY + skew))) == 1


def test_content_type_parameters_are_allowed() -> None:
    # Given 'application/json; charset=utf-8' / When it arrives / Then it is accepted
    rig = an_ingest_rig()
    request = a_webhook_request(content_type="Application/JSON; charset=utf-8")
    assert len(rig.service.accept("forms", request)) == 1


def test_a_body_at_the_size_limit_is_accepted() -> None:
    # Given a body padded to exactly the limit
    padding = MAX_BODY - len(body_of(a_form_submission(fields={"pad": ""})))
    payload = a_form_submission(fields={"pad": ""})
    body = body_of(payload)[:-2] + b" " * padding + b"}}"
    rig = an_ingest_rig()
    assert len(body) == MAX_BODY

    # When it arrives / Then it is accepted
    assert len(rig.service.accept("forms", a_webhook_request(body))) == 1


def test_a_queue_outage_is_raised_for_a_retry() -> None:
    # Given SQS failing
    rig = an_ingest_rig()
    rig.queue.fail_next = 1

    # When a valid submission arrives
    # Then the outage surfaces (the handler answers 503) and nothing is queued
    with pytest.raises(QueueUnavailable):
        rig.service.accept("forms", a_webhook_request())
    assert rig.queue.sent == []


def test_a_repeated_single_event_delivery_writes_no_record_and_is_queued_again() -> None:
    # Given a single-event form submission under a timestamped signature, accepted once
    rig = an_ingest_rig()
    request = a_webhook_request(a_form_submission(submission_id="sub-replayed"))
    rig.service.accept("forms", request)

    # When the very same signed request arrives again (inside its 300 s window)
    again = rig.service.accept("forms", request)

    # Then it is accepted again without any delivery record: the scorer drops the copy by its event id
    assert [event.event_id for event in again] == ["sub-replayed"]
    assert [event.event_id for event in rig.queue.sent] == ["sub-replayed", "sub-replayed"]
    assert rig.queue.writes == 0
    assert rig.queue.delivered == {}


def test_a_delivery_that_could_not_be_queued_is_accepted_when_retried() -> None:
    # Given the queue fails the first time
    rig = an_ingest_rig()
    rig.queue.fail_next = 1
    request = a_webhook_request(a_form_submission(submission_id="sub-retried"))
    with pytest.raises(QueueUnavailable):
        rig.service.accept("forms", request)

    # When the provider retries / Then it is accepted: a failed delivery is not remembered
    rig.service.accept("forms", request)
    assert [event.event_id for event in rig.queue.sent] == ["sub-retried"]


def test_a_source_without_a_configured_secret_is_not_served() -> None:
    # Given a deployment with no secret for the source
    rig = an_ingest_rig()
    rig.service.keys_for = lambda source: None

    # When a request arrives for it / Then 404, as for an unknown source
    with pytest.raises(WebhookRejected) as rejected:
        rig.service.accept("forms", a_webhook_request(a_form_submission()))
    assert (rejected.value.status, rejected.value.code) == (404, "unknown_source")
    assert rig.queue.sent == []
