"""/track's function URL (TrackFunctionUrl), invoked the way Lambda invokes it (local/function_url.py).

Until now only the API route was exercised locally; the URL is the door the README recommends for the
snippet. CORS preflights are Lambda's on a URL (not emulated); the handler's own Origin check is not.
"""

from __future__ import annotations

import json
import time

import pytest

from leadscore import clock
from local.stack import EmulatedStack
from tests.integration.test_website import CHROME, ORIGIN, a_beacon, track, visitor_items


def test_a_beacon_through_the_url_is_stored_as_through_the_route_and_a_foreign_origin_is_refused(
    stack: EmulatedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given one instant for both requests (the item holds times), a beacon of two views, /track's function URL
    instant = clock.now()
    monkeypatch.setattr(clock, "now", lambda: instant)
    url, beacon = stack.function_url("TrackVisitsFunction"), a_beacon("/pricing", "/docs", at=int(time.time()))
    headers = {"Content-Type": "text/plain;charset=UTF-8", "User-Agent": CHROME, "Origin": ORIGIN}

    # When it is sent through the URL, and the same beacon through the route on a fresh stack
    status, answer_headers, raw = url.request("POST", "/track", body=json.dumps(beacon).encode(), headers=headers)
    through_url = visitor_items(stack)
    stack.reset()
    route_status, _, route_answer = track(stack, beacon)

    # Then both answer 202 with the origin echoed, and store the same visitor item
    assert (status, json.loads(raw)) == (route_status, route_answer) == (202, {"accepted": 2})
    assert answer_headers["access-control-allow-origin"] == ORIGIN
    assert through_url == visitor_items(stack)
    assert through_url

    # And a page of another origin is refused through the URL too (the URL's CORS aside, the handler checks)
    refused, _, body = url.request("POST", "/track", body=json.dumps(beacon).encode(),
                                   headers=headers | {"Origin": "https://evil.example"})  # fmt: skip
    assert (refused, json.loads(body)["error"]) == (403, "origin_not_allowed")
