"""How a visitor becomes identifiable: the hidden form field (same id across pages) and the email-link token."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import CaptureServer, Site
from tests.browser.pages import PAST_VIEW_DELAY_MS, VISITOR_ID, leave, open_page

pytestmark = [pytest.mark.browser, pytest.mark.timeout(60)]

ADD_A_FORM_LATER = """() => {
  const form = document.createElement('form');
  form.id = 'late-form';
  form.innerHTML = '<input name="email">';
  document.querySelector('main').appendChild(form);
}"""


def test_the_visitor_id_lands_in_every_form_and_stays_the_same_across_pages(
    page: Any, site: Site, capture: CaptureServer
) -> None:
    # Given a visitor who has seen the home page
    open_page(page, f"{site.url}/index.html")
    page.clock.run_for(PAST_VIEW_DELAY_MS)
    visitor_id = capture.wait_for(1)[0].body["visitor_id"]

    # When they open the form page, and the page adds a second form later (as form widgets do)
    open_page(page, f"{site.url}/contact.html")
    page.evaluate(ADD_A_FORM_LATER)
    page.wait_for_selector("#late-form input[name=ls_visitor_id]", state="attached")

    # Then both forms carry the same visitor id as a hidden field, the one the first page's beacon carried
    fields = page.locator("input[name=ls_visitor_id]")
    assert fields.count() == 2
    for index in range(2):
        assert fields.nth(index).get_attribute("type") == "hidden"
        assert fields.nth(index).input_value() == visitor_id

    # When the visitor submits the plain HTML form
    page.fill("#demo-form input[name=email]", "ada@example.com")
    page.click("#demo-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/thanks\.html$"))

    # Then the submission carries ls_visitor_id, and every beacon on the way carried the same id
    assert site.forms[-1]["email"] == "ada@example.com"
    assert site.forms[-1]["ls_visitor_id"] == visitor_id
    beacons = capture.wait_for(2)
    assert {beacon.body["visitor_id"] for beacon in beacons} == {visitor_id}
    assert re.fullmatch(VISITOR_ID, visitor_id)


def test_an_email_link_token_is_sent_once_and_removed_from_the_address_bar(
    page: Any, site: Site, capture: CaptureServer
) -> None:
    # Given a visitor reading the newsletter page
    open_page(page, f"{site.url}/newsletter.html")
    page.clock.run_for(PAST_VIEW_DELAY_MS)
    capture.wait_for(1)

    # When they follow a tracked email link (?ls_t=…) to the pricing page
    page.click("#email-link")
    page.wait_for_url(re.compile(r".*/pricing\.html.*"))
    page.wait_for_function("() => typeof window.leadscore === 'function' && !window.leadscore.q")

    # Then ls_t is gone from the address bar while the other parameters stay
    assert page.url == f"{site.url}/pricing.html?utm_source=newsletter&utm_medium=email"
    assert page.evaluate("location.search") == "?utm_source=newsletter&utm_medium=email"

    # And the next beacon carries the token, with the page view's URL free of it
    page.clock.run_for(PAST_VIEW_DELAY_MS)
    with_token = capture.wait_for(2)[1].body
    assert with_token["token"] == "demo-token"
    [view] = with_token["events"]
    assert view["path"] == "/pricing.html"
    assert "ls_t" not in view["url"]
    assert view["utm"]["source"] == "newsletter"

    # When they read on and browse to another page
    page.clock.run_for(10_000)
    open_page(page, f"{site.url}/index.html")
    page.clock.run_for(PAST_VIEW_DELAY_MS)
    leave(page)

    # Then no later beacon carries the token again
    later = capture.wait_for(4)[2:]
    assert [beacon.body.get("token") for beacon in later] == [None] * len(later)
    assert page.context.cookies()[0]["value"] == with_token["visitor_id"]


def test_a_value_too_long_to_be_a_token_is_removed_but_not_sent(page: Any, site: Site, capture: CaptureServer) -> None:
    # Given a link whose ls_t is far longer than any token the server makes (128 characters at most)
    open_page(page, f"{site.url}/pricing.html?ls_t={'A' * 200}&utm_source=x")

    # When the page view goes out
    page.clock.run_for(PAST_VIEW_DELAY_MS)
    [beacon] = capture.wait_for(1)

    # Then the value left the address bar, and the beacon carries the page view without it
    assert page.url == f"{site.url}/pricing.html?utm_source=x"
    assert "token" not in beacon.body
    assert [event["type"] for event in beacon.body["events"]] == ["page_view"]
