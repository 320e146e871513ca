"""Every bad request gets the right 4xx with a JSON body saying what is wrong, and nothing is queued or written.

Sent over HTTP to the local front, so API Gateway's event shape, the resolver and the handler all take part.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from leadscore.sources import forms
from local.stack import EmulatedStack
from tests.integration.conftest import FORMS, a_submission, sign


@dataclass(frozen=True)
class BadRequest:
    name: str
    status: int
    error: str
    build: Callable[[str], tuple[str, bytes, dict[str, str]]]  # key -> (path, body, headers)


def body_of(**changes: Any) -> bytes:
    submission = a_submission()
    for name, value in changes.items():
        if value is ...:
            submission.pop(name)
        else:
            submission[name] = value
    return json.dumps(submission).encode()


def signed(
    raw: bytes, *, path: str = FORMS, **header_changes: str | None
) -> Callable[[str], tuple[str, bytes, dict[str, str]]]:
    def build(key: str) -> tuple[str, bytes, dict[str, str]]:
        headers: dict[str, str] = sign(key, raw)
        for name, value in header_changes.items():
            header = name.replace("_", "-")
            headers = {k: v for k, v in headers.items() if k.lower() != header.lower()}
            if value is not None:
                headers[header] = value
        return path, raw, headers

    return build


def signed_with(
    key_of: Callable[[str], str], raw: bytes, timestamp: Callable[[], int] = lambda: int(time.time())
) -> Callable[[str], tuple[str, bytes, dict[str, str]]]:
    return lambda key: (FORMS, raw, sign(key_of(key), raw, timestamp()))


GOOD = body_of()
CASES = [
    # Authentication (401)
    BadRequest("no signature", 401, "missing_signature", signed(GOOD, X_Leadscore_Signature=None)),
    BadRequest("empty signature", 401, "missing_signature", signed(GOOD, X_Leadscore_Signature="")),
    BadRequest("signature without scheme", 401, "invalid_signature", signed(GOOD, X_Leadscore_Signature="deadbeef")),
    BadRequest("unknown scheme", 401, "invalid_signature", signed(GOOD, X_Leadscore_Signature="v0=deadbeef")),
    BadRequest("wrong signature", 401, "invalid_signature", signed(GOOD, X_Leadscore_Signature="v1=" + "0" * 64)),
    BadRequest("wrong key", 401, "invalid_signature", signed_with(lambda key: key + "x", GOOD)),
    BadRequest(
        "signature of another body",
        401,
        "invalid_signature",
        lambda key: (FORMS, GOOD, sign(key, body_of(email="eve@example.com"))),
    ),
    BadRequest(
        "body changed after signing",
        401,
        "invalid_signature",
        lambda key: (FORMS, GOOD.replace(b"250", b"999"), sign(key, GOOD)),
    ),
    BadRequest("no timestamp", 401, "missing_timestamp", signed(GOOD, X_Leadscore_Timestamp=None)),
    BadRequest("timestamp not a number", 401, "invalid_timestamp", signed(GOOD, X_Leadscore_Timestamp="yesterday")),
    BadRequest(
        "stale timestamp", 401, "stale_timestamp", signed_with(lambda key: key, GOOD, lambda: int(time.time()) - 301)
    ),
    BadRequest(
        "timestamp from the future",
        401,
        "stale_timestamp",
        signed_with(lambda key: key, GOOD, lambda: int(time.time()) + 3600),
    ),
    BadRequest(
        "replayed a day later",
        401,
        "stale_timestamp",
        signed_with(lambda key: key, GOOD, lambda: int(time.time()) - 86_400),
    ),
    # Transport (413, 415, 404)
    BadRequest("plain-text content type", 415, "unsupported_media_type", signed(GOOD, Content_Type="text/plain")),
    BadRequest(
        "form-encoded content type",
        415,
        "unsupported_media_type",
        signed(GOOD, Content_Type="application/x-www-form-urlencoded"),
    ),
    BadRequest("no content type", 415, "unsupported_media_type", signed(GOOD, Content_Type=None)),
    BadRequest(
        "oversized body",
        413,
        "body_too_large",
        signed(body_of(fields={"note": "x" * 1000}) + b" " * forms.SOURCE.max_body_bytes),
    ),
    # A route the template does not declare: API Gateway itself answers, before any function runs.
    BadRequest("unknown route", 404, "", signed(GOOD, path="/webhooks/nosuchprovider")),
    # Malformed JSON (400)
    BadRequest("not JSON", 400, "malformed_json", signed(b"submission_id=1&email=a@b.c")),
    BadRequest("truncated JSON", 400, "malformed_json", signed(GOOD[:-5])),
    BadRequest("empty body", 400, "malformed_json", signed(b"")),
    BadRequest(
        "NaN in JSON", 400, "malformed_json", signed(b'{"submission_id": "1", "form_id": "f", "company_size": NaN}')
    ),
    BadRequest("not UTF-8", 400, "malformed_json", signed(b'{"email": "\xff\xfe"}')),
    # Invalid submissions (422)
    BadRequest("JSON array", 422, "invalid_submission", signed(b"[]")),
    BadRequest("JSON string", 422, "invalid_submission", signed(b'"hello"')),
    BadRequest("missing email", 422, "invalid_email", signed(body_of(email=...))),
    BadRequest("email without @", 422, "invalid_email", signed(body_of(email="ada.example.com"))),
    BadRequest("email without domain", 422, "invalid_email", signed(body_of(email="ada@"))),
    BadRequest("email with spaces", 422, "invalid_email", signed(body_of(email="ada lovelace@example.com"))),
    BadRequest("email not a string", 422, "invalid_email", signed(body_of(email=42))),
    BadRequest("missing submission id", 422, "invalid_submission", signed(body_of(submission_id=...))),
    BadRequest("missing form id", 422, "invalid_submission", signed(body_of(form_id=...))),
    BadRequest("company size not a number", 422, "invalid_submission", signed(body_of(company_size="lots"))),
    BadRequest("negative company size", 422, "invalid_submission", signed(body_of(company_size=-5))),
    BadRequest(
        "submitted_at without time zone", 422, "invalid_submission", signed(body_of(submitted_at="2026-11-22T10:00:00"))
    ),
    BadRequest("page_url not a URL", 422, "invalid_submission", signed(body_of(page_url="pricing page"))),
    BadRequest("unknown field", 422, "invalid_submission", signed(body_of(favourite_colour="blue"))),
    BadRequest("job title too long", 422, "invalid_submission", signed(body_of(job_title="x" * 300))),
    BadRequest(
        "too many extra fields", 422, "invalid_submission", signed(body_of(fields={f"f{i}": i for i in range(60)}))
    ),
]


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 30
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.fixture(scope="module")
def answered(session_stack: EmulatedStack) -> dict[str, tuple[int, dict[str, Any]]]:
    """Every bad request, sent once to a freshly built stack."""
    session_stack.reset()
    key = session_stack.forms_key()
    answers = {}
    for case in CASES:
        path, raw, headers = case.build(key)
        answers[case.name] = session_stack.post(path, raw, headers)
    return answers


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_bad_request_gets_its_4xx_and_says_what_is_wrong(
    case: BadRequest, answered: dict[str, tuple[int, dict[str, Any]]]
) -> None:
    # Given / When the request was sent / Then the status and the error code name the problem
    status, body = answered[case.name]
    assert (status, body.get("error", "")) == (case.status, case.error)
    assert body["message"]
    if case.status == 422:
        assert body["details"], "a 422 names the fields that are wrong"


def test_nothing_was_queued_or_written_for_any_bad_request(
    answered: dict[str, tuple[int, dict[str, Any]]], session_stack: EmulatedStack
) -> None:
    # Given every bad request above was answered
    assert len(answered) == len(CASES)

    # Then no event reached the queue, and neither the leads table nor the idempotency table holds anything
    assert session_stack.queue_depth("LeadEventsQueue") == 0
    assert session_stack.items("LeadsTable") == []
    assert session_stack.items("IdempotencyTable") == []
