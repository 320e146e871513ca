"""The generic forms source: signature checks exactly as docs/contracts.md says, and normalisation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.errors import WebhookRejected
from leadscore.models.events import EventType
from leadscore.sources import forms
from leadscore.sources.base import NormaliseContext, VerifyContext
from leadscore.sources.registry import SOURCES
from leadscore.sources.signing import check_timestamp, hmac_sha256_hex, matches_any
from tests.unit.builders import (
    FORMS_KEY,
    MONDAY,
    PREVIOUS_FORMS_KEY,
    a_form_submission,
    a_webhook_request,
    as_datetime,
    body_of,
    signature_for,
)

RECEIVED = as_datetime(MONDAY)
CONTEXT = VerifyContext(keys=[FORMS_KEY, PREVIOUS_FORMS_KEY], now=MONDAY, tolerance_seconds=300)


def test_the_forms_source_is_registered_under_its_route_name() -> None:
    assert SOURCES["forms"] is forms.SOURCE
    assert forms.SOURCE.content_types == ("application/json",)


def test_the_signature_is_hmac_sha256_over_timestamp_dot_raw_body() -> None:
    # Given a body signed the way the contract documents it, computed independently
    body = b'{"submission_id":"sub_1","form_id":"demo-request","email":"ada@analytical.example"}'
    expected = hmac_sha256_hex(FORMS_KEY, f"{MONDAY}.".encode() + body)

    # When a request with that signature is verified / Then it passes
    request = a_webhook_request(body, signature=f"v1={expected}")
    forms.verify(request, CONTEXT)
    assert signature_for(body, MONDAY) == f"v1={expected}"


def test_the_raw_bytes_are_signed_not_a_re_encoding() -> None:
    # Given the same JSON with different whitespace
    compact = b'{"submission_id":"s","form_id":"f","email":"a@b.example"}'
    spaced = b'{ "submission_id": "s", "form_id": "f", "email": "a@b.example" }'

    # When the compact body's signature is presented with the spaced body / Then it fails
    with pytest.raises(WebhookRejected) as rejected:
        forms.verify(a_webhook_request(spaced, signature=signature_for(compact, MONDAY)), CONTEXT)
    assert rejected.value.code == "invalid_signature"


def test_header_names_are_looked_up_in_lower_case() -> None:
    # Given a request whose headers were lower-cased by the handler / Then header() finds them in any case
    request = a_webhook_request()
    assert request.header("X-Leadscore-Signature") == request.headers["x-leadscore-signature"]


@pytest.mark.parametrize(
    ("raw", "now", "outcome"),
    [
        (str(MONDAY), MONDAY, MONDAY),
        (f" {MONDAY} ", MONDAY, MONDAY),
        (str(MONDAY - 300), MONDAY, MONDAY - 300),
        (str(MONDAY + 300), MONDAY, MONDAY + 300),
        (str(MONDAY - 301), MONDAY, "stale_timestamp"),
        (str(MONDAY + 301), MONDAY, "stale_timestamp"),
        ("-1", MONDAY, "stale_timestamp"),
        ("9" * 5000, MONDAY, "invalid_timestamp"),
        ("1.5e9", MONDAY, "invalid_timestamp"),
        ("", MONDAY, "missing_timestamp"),
        (None, MONDAY, "missing_timestamp"),
    ],
)
def test_check_timestamp(raw: str | None, now: int, outcome: int | str) -> None:
    # Given a timestamp header value / When checked against a 300 s window
    if isinstance(outcome, int):
        # Then a timestamp inside the window (edges included) is returned
        assert check_timestamp(raw, now, 300) == outcome
        return
    # Then anything else is a 401 with a precise code
    with pytest.raises(WebhookRejected) as rejected:
        check_timestamp(raw, now, 300)
    assert (rejected.value.status, rejected.value.code) == (401, outcome)


def test_matches_any_compares_every_pair() -> None:
    # Given two expected signatures and two presented ones / Then any equal pair matches
    assert matches_any(["aa", "bb"], ["cc", "bb"])
    assert not matches_any(["aa", "bb"], ["cc", "dd"])
    assert not matches_any([], ["aa"])
    assert not matches_any(["aa"], [])


def test_normalise_maps_the_documented_example() -> None:
    # Given the example body from docs/contracts.md, built field by field
    payload = a_form_submission(
        submission_id="sub_8f1c2",
        form_id="demo-request",
        submitted_at="2026-11-22T10:00:00Z",
        page_url="https://www.example.com/pricing",
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        company="Analytical Engines Ltd",
        job_title="VP Engineering",
        company_size=250,
        industry="Software",
        country="GB",
        annual_revenue=25000000,
        fields={"utm_source": "linkedin"},
    )

    # When normalised
    [event] = forms.normalise(body_of(payload), NormaliseContext(RECEIVED))

    # Then it is a form submission with attributes and properties split as documented
    assert event.type is EventType.FORM_SUBMITTED
    assert event.event_id == "sub_8f1c2"
    assert event.occurred_at == datetime(2026, 11, 22, 10, tzinfo=UTC)
    assert event.attributes["job_title"] == "VP Engineering"
    assert event.attributes["company_size"] == 250
    assert event.properties == {
        "utm_source": "linkedin",
        "form_id": "demo-request",
        "page_url": "https://www.example.com/pricing",
    }
    assert event.email_domain == "example.com"


def test_text_is_trimmed_and_blank_optional_fields_are_refused() -> None:
    # Given padded text / When normalised / Then it is trimmed
    [event] = forms.normalise(body_of(a_form_submission(company="  Analytical  ")), NormaliseContext(RECEIVED))
    assert event.attributes == {"company": "Analytical"}

    # Given an all-blank company / When normalised / Then it is refused (min length after trimming)
    with pytest.raises(WebhookRejected) as rejected:
        forms.normalise(body_of(a_form_submission(company="   ")), NormaliseContext(RECEIVED))
    assert rejected.value.status == 422


def test_a_form_field_cannot_override_the_form_id() -> None:
    # Given extra fields that reuse a reserved property name
    payload = a_form_submission(form_id="newsletter-signup", fields={"form_id": "demo-request"})

    # When normalised / Then the real form id wins
    [event] = forms.normalise(body_of(payload), NormaliseContext(RECEIVED))
    assert event.properties["form_id"] == "newsletter-signup"


def test_the_normalised_event_survives_the_queue_round_trip() -> None:
    # Given a normalised event / When it is serialised as the queue message and read back
    [event] = forms.normalise(
        body_of(a_form_submission(company_size=12, fields={"seats": 3.5})), NormaliseContext(RECEIVED)
    )
    again = type(event).model_validate_json(event.model_dump_json())

    # Then nothing changed
    assert again == event


json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
OPTIONAL_KEYS = ["submitted_at", "page_url", "company_size", "fields", "country", "annual_revenue"]
near_valid = st.fixed_dictionaries(
    {
        "submission_id": st.just("s1") | json_values,
        "form_id": st.just("f1") | json_values,
        "email": st.just("a@b.example") | json_values,
    },
    optional=dict.fromkeys(OPTIONAL_KEYS, json_values),
)


def status_of(body: bytes) -> int:
    """202 when the body normalises to exactly one event, else the refusal's status."""
    try:
        events = forms.normalise(body, NormaliseContext(RECEIVED))
    except WebhookRejected as rejected:
        return rejected.status
    assert len(events) == 1
    return 202


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=near_valid | json_values)
def test_any_json_is_either_events_or_a_4xx(document: Any) -> None:
    # Given any JSON document, often close to a valid submission
    # When normalised / Then it becomes one event or is refused with a 4xx (never another exception)
    status = status_of(json.dumps(document).encode())
    assert status == 202 or 400 <= status < 500


@settings(max_examples=150, deadline=None)
@given(body=st.binary(max_size=200))
def test_any_bytes_are_either_events_or_a_4xx(body: bytes) -> None:
    # Given arbitrary bytes / When normalised / Then the only failure is a 4xx
    status = status_of(body)
    assert status == 202 or 400 <= status < 500
