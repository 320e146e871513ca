"""The website path through the real handlers against emulated AWS: /track, stitching in the scorer, tokens."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from leadscore.core.identity import lead_id_for
from leadscore.core.tokens import make_token
from leadscore.models.events import EventType, LeadEvent
from local.stack import EmulatedStack
from tests.integration.conftest import a_submission, post_signed, the_score
from tests.integration.test_concurrency_and_failures import a_queue_record

ORIGIN = "https://www.example.com"  # the template's TrackAllowedOrigins default
CHROME = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"
VISITOR = "AbCdEfGhIjKlMnOpQrStUv"
EMAIL = "ada@analytical-engines.example"
HOUR = 3600


def a_beacon(*paths: str, at: int, visitor: str = VISITOR, token: str | None = None, first: int = 0) -> dict[str, Any]:
    events = [
        {"type": "page_view", "id": f"v{first + i:03d}" + "x" * 12, "ts": (at + i * 60) * 1000,
         "url": f"{ORIGIN}{path}?utm_source=news", "path": path, "title": path, "referrer": "",
         "utm": {"source": "news", "medium": None, "campaign": None, "term": None, "content": None}}
        for i, path in enumerate(paths)
    ]  # fmt: skip
    beacon: dict[str, Any] = {"v": 1, "visitor_id": visitor, "events": events}
    if token:
        beacon["token"] = token
    return beacon


def track(
    stack: EmulatedStack,
    body: bytes | dict[str, Any],
    *,
    origin: str | None = ORIGIN,
    agent: str = CHROME,
    content_type: str = "text/plain;charset=UTF-8",
) -> tuple[int, dict[str, str], dict[str, Any]]:
    """POST /track the way sendBeacon does; (status, lower-cased headers, JSON body or {})."""
    gateway = stack.gateway or stack.serve(port=0)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": content_type, "User-Agent": agent}
    if origin:
        headers["Origin"] = origin
    request = urllib.request.Request(f"{gateway.url}/track", data=raw, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
            status, answer, text = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, answer, text = error.code, dict(error.headers), error.read()
    return status, {k.lower(): v for k, v in answer.items()}, json.loads(text or b"{}")


def visitor_items(stack: EmulatedStack) -> list[dict[str, Any]]:
    return [item for item in stack.items("VisitorsTable") if not str(item["pk"]).startswith("RATE#")]


def page_hits(stack: EmulatedStack) -> dict[str, int]:
    hits = the_score(stack)["n"]
    pages = {"pricing_interest", "security_review", "customer_stories", "docs", "demo_page", "company_pages"}
    return {rule: int(count) for rule, count in hits.items() if rule in pages}


def browse_anonymously(stack: EmulatedStack, now: int) -> None:
    """Two days ago: pricing twice; yesterday: security and a customer story. Three beacons."""
    for beacon in (
        a_beacon("/pricing", "/pricing", at=now - 2 * 24 * HOUR),
        a_beacon("/security", at=now - 24 * HOUR, first=10),
        a_beacon("/customers/acme", at=now - 23 * HOUR, first=20),
    ):
        status, headers, body = track(stack, beacon)
        assert (status, body) == (202, {"accepted": len(beacon["events"])})
        assert headers["access-control-allow-origin"] == ORIGIN


def the_form_event(stack: EmulatedStack, submission: dict[str, Any]) -> LeadEvent:
    """The LeadEvent ingest queued for `submission` (as the scorer receives it, for redelivering it)."""
    return LeadEvent(
        event_id=submission["submission_id"], source="forms", type=EventType.FORM_SUBMITTED,
        occurred_at=datetime.fromisoformat(submission["submitted_at"]), received_at=datetime.now(UTC),
        email=EMAIL, attributes={"job_title": submission["job_title"]},
        properties={"form_id": submission["form_id"], "visitor_id": VISITOR},
    )  # fmt: skip


EXPECTED_BACKLOG = {"pricing_interest": 2, "security_review": 1, "customer_stories": 1}


def test_anonymous_views_are_scored_once_after_a_form_links_the_visitor_even_when_redelivered(
    stack: EmulatedStack,
) -> None:
    # Given a visitor who browsed anonymously (nothing scored yet, views kept on the visitor)
    now = int(time.time())
    browse_anonymously(stack, now)
    assert stack.score_items() == []
    [visitor] = visitor_items(stack)
    assert len(visitor["v"]) == 4

    # When the visitor fills a form (the snippet's hidden field carries its id) and the scorer runs
    submission = a_submission(ls_visitor_id=VISITOR)
    assert post_signed(stack, submission)[0] == 202
    stack.drain()

    # Then its four anonymous views were scored for the lead, with their own day's caps
    assert page_hits(stack) == EXPECTED_BACKLOG
    points = the_score(stack)["b"]
    assert (points["pricing_interest"], points["security_review"], points["customer_stories"]) == (20, 6, 4)
    visitor = next(item for item in visitor_items(stack) if item["sk"] == "VISITS")
    assert "v" not in visitor  # the backlog is gone once scored

    # When the same form event is delivered twice more (SQS redelivery)
    sqs = boto3.client("sqs")
    for _ in range(2):
        body = the_form_event(stack, submission).model_dump_json()
        sqs.send_message(QueueUrl=stack.physical("LeadEventsQueue"), MessageBody=body)
    stack.drain()

    # Then nothing was counted twice, and the links both ways exist for erasure
    assert page_hits(stack) == EXPECTED_BACKLOG
    lead_id = lead_id_for(EMAIL, str(stack.secret("LeadIdPepperSecret")["pepper"]).encode())
    keys = {(item["pk"], item["sk"]) for item in visitor_items(stack)}
    assert {(f"LEAD#{lead_id}", f"VISITOR#{VISITOR}"), (f"VISITOR#{VISITOR}", f"LEAD#{lead_id}")} <= keys


def test_two_forms_of_the_lead_at_once_score_the_backlog_once(stack: EmulatedStack) -> None:
    # Given anonymous views, and two different submissions of the lead, both carrying the visitor id
    now = int(time.time())
    browse_anonymously(stack, now)
    events = [the_form_event(stack, a_submission(submission_id=f"sub-{i}", ls_visitor_id=VISITOR)) for i in range(2)]
    start = threading.Barrier(2)

    def deliver(index: int) -> Any:
        start.wait()
        return stack.invoke("ScoreEventsFunction", {"Records": [a_queue_record(events[index], index)]})

    # When the scorer processes both at the same moment
    with ThreadPoolExecutor(2) as pool:
        responses = list(pool.map(deliver, range(2)))

    # Then both succeeded and every anonymous view counts once
    assert all(response == {"batchItemFailures": []} for response in responses)
    assert page_hits(stack) == EXPECTED_BACKLOG


def test_an_email_link_token_identifies_the_visitor_and_later_views_score_live(stack: EmulatedStack) -> None:
    # Given a known lead (a form without the snippet) and a token the sender minted for them
    assert post_signed(stack, a_submission())[0] == 202
    stack.drain()
    pepper = str(stack.secret("LeadIdPepperSecret")["pepper"]).encode()
    key = str(stack.secret("LeadTokenSecret")["current"]).encode()
    now = int(time.time())
    token = make_token(lead_id_for(EMAIL, pepper), now + 30 * 24 * HOUR, key)

    # When the lead comes back from the email link on a new device (the beacon carries ls_t)
    assert track(stack, a_beacon("/pricing", at=now, visitor="NewDeviceVisitor000000", token=token))[0] == 202
    stack.drain()

    # Then that view is scored for the lead, and the next one (no token) scores as it comes
    assert page_hits(stack) == {"pricing_interest": 1}
    assert track(stack, a_beacon("/security", at=now + 60, visitor="NewDeviceVisitor000000", first=5))[0] == 202
    stack.drain()
    assert page_hits(stack) == {"pricing_interest": 1, "security_review": 1}


def test_a_forged_token_identifies_nobody(stack: EmulatedStack) -> None:
    # Given a known lead and a token signed with a key that is not ours
    assert post_signed(stack, a_submission())[0] == 202
    stack.drain()
    pepper = str(stack.secret("LeadIdPepperSecret")["pepper"]).encode()
    now = int(time.time())
    forged = make_token(lead_id_for(EMAIL, pepper), now + 3600, b"guessed key")

    # When a browser presents it / Then the view stays anonymous: the lead's score does not move
    assert track(stack, a_beacon("/pricing", at=now, token=forged))[0] == 202
    stack.drain()
    assert page_hits(stack) == {}


def test_a_crawler_is_dropped_and_nothing_is_written(stack: EmulatedStack) -> None:
    agent = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    status, _, body = track(stack, a_beacon("/pricing", at=int(time.time())), agent=agent)
    assert (status, body) == (204, {})
    assert stack.items("VisitorsTable") == []


def test_a_disallowed_or_missing_origin_is_refused_403(stack: EmulatedStack) -> None:
    for origin in ("https://evil.example", None):
        status, headers, body = track(stack, a_beacon("/pricing", at=int(time.time())), origin=origin)
        assert (status, body["error"]) == (403, "origin_not_allowed")
        assert "access-control-allow-origin" not in headers
    assert stack.items("VisitorsTable") == []


def test_bad_beacons_are_4xx_json_and_write_nothing(stack: EmulatedStack) -> None:
    now = int(time.time())
    too_many = a_beacon(*["/p"] * 21, at=now)
    extra = a_beacon("/p", at=now) | {"email": "ada@example.com"}
    bad_visitor = a_beacon("/p", at=now, visitor="short")
    cases: list[tuple[bytes | dict[str, Any], str, int]] = [
        (b"{not json", "text/plain", 400),
        (b"[]", "text/plain", 422),
        (too_many, "text/plain", 422),
        (extra, "application/json", 422),
        (bad_visitor, "text/plain", 422),
        (a_beacon("/p" + "x" * 17_000, at=now), "text/plain", 413),
        (a_beacon("/p", at=now), "application/x-www-form-urlencoded", 415),
    ]
    for body, content_type, expected in cases:
        status, headers, answer = track(stack, body, content_type=content_type)
        assert (status, bool(answer.get("error"))) == (expected, True), (expected, answer)
        assert headers["access-control-allow-origin"] == ORIGIN  # the page can read why
    assert stack.items("VisitorsTable") == []


def test_over_the_per_visitor_limit_is_answered_429_with_retry_after(
    stack: EmulatedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a limit of 3 beacons a minute per visitor (the template parameter TrackVisitorPerMinute), and
    # a fresh minute ahead (the counter is per minute: a test started at :59 would straddle two)
    monkeypatch.setenv("TRACK_VISITOR_PER_MINUTE", "3")
    if time.time() % 60 > 50:
        time.sleep(61 - time.time() % 60)
    now = int(time.time())
    assert [track(stack, a_beacon("/p", at=now, first=i))[0] for i in range(3)] == [202, 202, 202]

    # When one more arrives within the minute
    status, headers, body = track(stack, a_beacon("/p", at=now, first=99))

    # Then it is refused with a Retry-After up to the next minute, and nothing more was stored
    assert (status, body["error"]) == (429, "rate_limited")
    assert 1 <= int(headers["retry-after"]) <= 60
    [visitor] = visitor_items(stack)
    assert len(visitor["v"]) == 3
