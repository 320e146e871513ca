"""Bots, proxies and scanners: one list (sources.bots) for /track and for every ESP's opens and clicks."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from leadscore.models.events import LeadEvent
from leadscore.sources import bots, mailgun, postmark, sendgrid, ses
from leadscore.sources.base import NormaliseContext

EVENTS = Path(__file__).resolve().parents[2] / "events"
RECEIVED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
GOOGLE_IMAGE_PROXY = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1"
)


@pytest.mark.parametrize(
    ("agent", "kind"),
    [
        ("Mozilla/5.0", bots.Machine.PRIVACY_PROXY),  # Apple Mail Privacy Protection
        (GOOGLE_IMAGE_PROXY, bots.Machine.PRIVACY_PROXY),
        ("YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html", bots.Machine.PRIVACY_PROXY),
        ("Mozilla/5.0 (compatible; Proofpoint URL Defense)", bots.Machine.LINK_SCANNER),
        ("Mimecast URL Protect", bots.Machine.LINK_SCANNER),
        ("Barracuda Sentinel (EE)", bots.Machine.LINK_SCANNER),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", bots.Machine.CRAWLER),
        ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", bots.Machine.CRAWLER),
        ("python-requests/2.32.3", bots.Machine.CRAWLER),
        ("curl/8.5.0", bots.Machine.CRAWLER),
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0",
         bots.Machine.CRAWLER),
        (CHROME, None),
        (FIREFOX, None),
        (SAFARI_IPHONE, None),
        ("", None),
        (None, None),
    ],
)  # fmt: skip
def test_each_agent_gets_its_verdict(agent: str | None, kind: bots.Machine | None) -> None:
    # Given / When a user agent is classified / Then proxies, scanners and crawlers are named, people are not
    assert bots.classify(agent) is kind
    assert bots.is_machine(agent) is (kind is not None)


def test_outlook_prefetch_is_a_link_scanner() -> None:
    # Given Outlook mobile's prefetch service / When classified / Then it is not a person
    assert bots.classify("outlook-ios-android/1.0") is bots.Machine.LINK_SCANNER


def test_a_very_long_agent_is_cut_before_matching() -> None:
    # Given a user agent of 100 KB (bounded work per request)
    agent = CHROME + "x" * 100_000

    # When classified / Then it is judged on its first MAX_USER_AGENT characters
    assert bots.classify(agent) is None


# ---- the same detection for every ESP (issue 9, item 5) -------------------------------------------------


def _sample(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


def ses_open(agent: str) -> LeadEvent:
    document = _sample("ses_sns_open.json")
    document["open"]["userAgent"] = agent
    [event] = ses.normalise_document(document, RECEIVED)
    return event


def sendgrid_open(agent: str) -> LeadEvent:
    [human_open] = [event for event in _sample("sendgrid_events.json") if event["event"] == "open"][:1]
    body = copy.deepcopy(human_open) | {"useragent": agent, "sg_machine_open": False}
    [event] = sendgrid.SOURCE.normalise(json.dumps([body]).encode(), NormaliseContext(RECEIVED))
    return event


def mailgun_open(agent: str) -> LeadEvent:
    document = _sample("mailgun_opened.json")
    document["event-data"]["client-info"]["user-agent"] = agent
    [event] = mailgun.SOURCE.normalise(json.dumps(document).encode(), NormaliseContext(RECEIVED))
    return event


def postmark_open(agent: str) -> LeadEvent:
    document = _sample("postmark_open.json") | {"UserAgent": agent}
    [event] = postmark.SOURCE.normalise(json.dumps(document).encode(), NormaliseContext(RECEIVED))
    return event


ESP_OPENS = {"ses": ses_open, "sendgrid": sendgrid_open, "mailgun": mailgun_open, "postmark": postmark_open}


@pytest.mark.parametrize("esp", sorted(ESP_OPENS))
def test_an_open_through_googles_image_proxy_is_a_machine_open_for_every_esp(esp: str) -> None:
    # Given an open the ESP reports with Gmail's image proxy as the user agent
    # When normalised
    event = ESP_OPENS[esp](GOOGLE_IMAGE_PROXY)

    # Then it is flagged as a machine open (recorded, worth nothing by default)
    assert event.properties.get("automated") == "machine_open"


@pytest.mark.parametrize("esp", sorted(ESP_OPENS))
def test_an_open_from_a_mail_client_is_a_person_for_every_esp(esp: str) -> None:
    # Given an open from a desktop browser (webmail) / When normalised / Then it is not flagged
    assert "automated" not in ESP_OPENS[esp](CHROME).properties
