"""The snippet never throws into the host page: API down, sendBeacon broken, odd commands, no data-api."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import CaptureServer, Site
from tests.browser.pages import PAST_VIEW_DELAY_MS, hide, leave, open_page, visitor_cookie

pytestmark = [pytest.mark.browser, pytest.mark.timeout(60)]

ODD_COMMANDS = """() => {
  leadscore(); leadscore(null); leadscore('unknown', 1); leadscore('consent'); leadscore('page', {});
  leadscore('consent', 'yes'); leadscore('consent', true);
  window.siteStillRuns = true;
}"""
BROKEN_SEND_BEACON = """
navigator.sendBeacon = () => { throw new Error('blocked by an extension'); };
window.fetchCalls = 0;
const realFetch = window.fetch;
window.fetch = function () { window.fetchCalls += 1; return realFetch.apply(this, arguments); };
"""


def test_the_snippet_never_throws_when_the_api_is_down(
    page: Any, page_errors: list[str], site_with_api_down: str
) -> None:
    # Given the site pointed at an API nobody answers
    open_page(page, f"{site_with_api_down}/contact.html?ls_t=tok")

    # When the visitor reads, the site sends odd commands, the tab is hidden and the visitor leaves
    page.clock.run_for(PAST_VIEW_DELAY_MS + 5_000)
    page.evaluate(ODD_COMMANDS)
    hide(page)

    # Then the page saw no error, the site's own script went on, and the form still got its visitor id
    assert page.evaluate("window.siteStillRuns") is True
    assert page.locator("#demo-form input[name=ls_visitor_id]").count() == 1
    leave(page)
    assert page_errors == []


def test_a_broken_send_beacon_falls_back_to_fetch_without_an_error(
    page: Any, page_errors: list[str], site: Site, capture: CaptureServer
) -> None:
    # Given a browser where sendBeacon throws (an extension, an old engine)
    page.add_init_script(BROKEN_SEND_BEACON)

    # When a visitor reads the pricing page for 10 s and hides the tab
    open_page(page, f"{site.url}/pricing.html")
    page.clock.run_for(PAST_VIEW_DELAY_MS + 10_000)
    hide(page)

    # Then both beacons still arrived, through fetch (without cookies), and nothing was thrown
    beacons = capture.wait_for(2)
    # (two requests in flight at once may land in either order)
    assert sorted(event["type"] for beacon in beacons for event in beacon.body["events"]) == ["engagement", "page_view"]
    assert page.evaluate("window.fetchCalls") == 2
    assert all("cookie" not in beacon.headers for beacon in beacons)
    assert page_errors == []


def test_without_data_api_the_snippet_does_nothing_and_throws_nothing(
    page: Any, page_errors: list[str], site: Site
) -> None:
    # Given a page that loads the snippet without data-api (a broken install), with the queue stub and a form
    page.route(
        f"{site.url}/broken.html",
        lambda route: route.fulfill(
            content_type="text/html",
            body="<!doctype html><title>Broken</title><form id='f'></form>"
            "<script>window.leadscore=window.leadscore||function(){"
            "(window.leadscore.q=window.leadscore.q||[]).push(arguments)};</script>"
            "<script src='/tracker/leadscore.min.js'></script>",
        ),
    )

    # When a visitor opens it, the site sends a command and the visitor reads and leaves
    page.goto(f"{site.url}/broken.html")
    page.evaluate("leadscore('consent', true)")
    page.clock.run_for(PAST_VIEW_DELAY_MS)
    queued = page.evaluate("window.leadscore.q.length")
    fields = page.locator("input[name=ls_visitor_id]").count()
    leave(page)

    # Then the snippet stayed out of the way: the stub still queues, no cookie, no form field, no error
    assert queued == 1
    assert fields == 0
    assert visitor_cookie(page) is None
    assert page_errors == []
