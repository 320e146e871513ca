"""Consent, Global Privacy Control and Do Not Track: when the snippet must send nothing and store nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import CaptureServer, Site
from tests.browser.pages import PAST_VIEW_DELAY_MS, hide, leave, open_page, visitor_cookie

pytestmark = [pytest.mark.browser, pytest.mark.timeout(60)]

# What a consent manager does before the snippet loads: queue a command on the C1 stub.
QUEUE_CONSENT_OFF = """
window.leadscore = function () { (window.leadscore.q = window.leadscore.q || []).push(arguments); };
window.leadscore('consent', false);
"""
BROWSER_SIGNALS = {
    "global privacy control": "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});",
    "do not track": "Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'});",
}


def _visit_and_read(page: Any, url: str) -> None:
    open_page(page, url)
    page.clock.run_for(PAST_VIEW_DELAY_MS + 10_000)
    hide(page)


def test_consent_off_sends_nothing_and_sets_no_cookie(page: Any, site: Site, capture: CaptureServer) -> None:
    # Given a site that tells the snippet the visitor declined, before it loads
    page.add_init_script(QUEUE_CONSENT_OFF)

    # When the visitor reads a page, opens the form page and leaves
    _visit_and_read(page, f"{site.url}/pricing.html")
    open_page(page, f"{site.url}/contact.html")
    page.clock.run_for(PAST_VIEW_DELAY_MS)
    hidden_fields = page.locator("input[name=ls_visitor_id]").count()
    leave(page)

    # Then nothing reached /track, no cookie was set and the form carries no visitor id
    assert capture.settle() == []
    assert visitor_cookie(page) is None
    assert hidden_fields == 0


def test_withdrawing_consent_deletes_the_cookie_and_stops_sending(
    page: Any, site: Site, capture: CaptureServer
) -> None:
    # Given a consenting visitor on the form page: view sent, cookie set, form decorated
    open_page(page, f"{site.url}/contact.html")
    page.clock.run_for(PAST_VIEW_DELAY_MS)
    capture.wait_for(1)
    assert visitor_cookie(page) is not None
    assert page.locator("#demo-form input[name=ls_visitor_id]").count() == 1

    # When the visitor withdraws consent, reads on and leaves
    page.evaluate("leadscore('consent', false)")
    page.clock.run_for(10_000)
    hide(page)

    # Then the cookie is gone, the form field is gone and no engagement was sent
    assert visitor_cookie(page) is None
    assert page.locator("input[name=ls_visitor_id]").count() == 0
    assert len(capture.settle()) == 1


def test_require_consent_sends_nothing_until_consent_is_given(page: Any, site: Site, capture: CaptureServer) -> None:
    # Given the page whose snippet says data-require-consent="true"
    open_page(page, f"{site.url}/consent.html")

    # When the visitor reads for a while without answering the banner
    page.clock.run_for(PAST_VIEW_DELAY_MS + 5_000)

    # Then nothing is sent and no cookie is set
    assert capture.settle() == []
    assert visitor_cookie(page) is None

    # When they accept
    page.click("#accept")
    page.clock.run_for(PAST_VIEW_DELAY_MS)

    # Then the page view goes out with the visitor id now in the cookie
    [beacon] = capture.wait_for(1)
    assert [event["type"] for event in beacon.body["events"]] == ["page_view"]
    assert beacon.body["events"][0]["path"] == "/consent.html"
    cookie = visitor_cookie(page)
    assert cookie is not None
    assert cookie["value"] == beacon.body["visitor_id"]


@pytest.mark.parametrize("signal", sorted(BROWSER_SIGNALS))
def test_a_browser_opt_out_sends_nothing_even_with_consent(
    page: Any, site: Site, capture: CaptureServer, signal: str
) -> None:
    # Given a browser that says GPC (or DNT) for its user
    page.add_init_script(BROWSER_SIGNALS[signal])

    # When the visitor arrives from an email link, the site even says consent was given, and they read and leave
    open_page(page, f"{site.url}/pricing.html?ls_t=some-token")
    page.evaluate("leadscore('consent', true)")
    page.clock.run_for(PAST_VIEW_DELAY_MS + 10_000)
    hide(page)
    leave(page)

    # Then nothing reached /track and no cookie was set (the browser's signal wins)
    assert capture.settle() == []
    assert visitor_cookie(page) is None
