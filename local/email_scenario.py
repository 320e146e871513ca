"""The demo's email activity: SendGrid Event Webhook batches and Amazon SES events, as those providers send them.

Pure data, like `local.scenario`: `sendgrid_batches(now)` gives the JSON arrays SendGrid would POST (one per
day), `ses_events(now)` the SES events a configuration set would publish (to EventBridge or to SNS). The
story: newsletters go out; some leads open and click (pricing links push a few towards sales), one lead's
Apple Mail fetches every image through Apple's proxy (machine opens: visible, not counted), a link scanner
clicks within a second of delivery, one address hard-bounces, one lead unsubscribes, one complains.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from local.scenario import PERSONAS, SITE

EMAILS = {persona.key: persona.email for persona in PERSONAS}
CAMPAIGN = "november-newsletter"


@dataclass(frozen=True)
class Activity:
    days_ago: float
    persona: str
    kind: str  # delivered | open | machine_open | click | scanner_click | bounce | unsubscribe | spamreport
    url: str = ""


# SendGrid carries the newsletter; SES carries the product-update emails.
SENDGRID: list[Activity] = [
    *(Activity(10, key, "delivered") for key in ("linus", "margaret", "ken", "barbara", "edsger", "alan")),
    Activity(9.9, "linus", "open"),
    Activity(9.8, "linus", "click", f"{SITE}/pricing"),
    Activity(9.9, "edsger", "open"),
    *(Activity(9.95 - i / 100, "margaret", "machine_open") for i in range(6)),
    Activity(10, "alan", "scanner_click", f"{SITE}/pricing"),
    Activity(10, "ken", "bounce"),
    Activity(8, "barbara", "open"),
    Activity(7.5, "barbara", "unsubscribe"),
    *(Activity(3, key, "delivered") for key in ("linus", "edsger", "alan")),
    Activity(2.9, "linus", "open"),
    Activity(2.8, "linus", "click", f"{SITE}/pricing"),
    Activity(2.5, "edsger", "spamreport"),
]

SES: list[Activity] = [
    Activity(5, "grace", "open"),
    Activity(4.9, "grace", "click", f"{SITE}/pricing"),
    Activity(5, "niklaus", "open"),
    Activity(4.8, "niklaus", "click", f"{SITE}/integrations/slack"),
    Activity(5, "radia", "bounce"),
]


def _stamp(now: datetime, days_ago: float) -> datetime:
    return now - timedelta(days=days_ago)


def _sendgrid_event(now: datetime, activity: Activity) -> dict[str, Any]:
    when = _stamp(now, activity.days_ago)
    event: dict[str, Any] = {
        "email": EMAILS[activity.persona],
        "timestamp": int(when.timestamp()),
        "sg_event_id": uuid.uuid5(uuid.NAMESPACE_URL, f"sg/{activity}").hex[:22],
        "sg_message_id": f"demo-{activity.persona}.filter0001.{int(activity.days_ago)}.0",
        "smtp-id": f"<demo-{activity.persona}@leadscore-demo.example>",
        "category": [CAMPAIGN],
    }
    match activity.kind:
        case "delivered":
            event |= {"event": "delivered", "response": "250 OK"}
        case "open":
            event |= {"event": "open", "sg_machine_open": False, "useragent": "Mozilla/5.0 (Windows NT 10.0)"}
        case "machine_open":
            event |= {"event": "open", "sg_machine_open": True, "useragent": "Mozilla/5.0"}
        case "click":
            event |= {"event": "click", "url": activity.url, "useragent": "Mozilla/5.0 (Macintosh)"}
        case "scanner_click":
            event |= {"event": "click", "url": activity.url, "useragent": "Mozilla/5.0 (compatible; Barracuda)"}
        case "bounce":
            event |= {"event": "bounce", "type": "bounce", "status": "5.1.1", "reason": "550 5.1.1 unknown user"}
        case "unsubscribe":
            event |= {"event": "unsubscribe"}
        case "spamreport":
            event |= {"event": "spamreport"}
    return event


def sendgrid_batches(now: datetime) -> list[list[dict[str, Any]]]:
    """The Event Webhook's POST bodies: events grouped by day, in time order (SendGrid batches them)."""
    by_day: dict[int, list[dict[str, Any]]] = {}
    for activity in sorted(SENDGRID, key=lambda a: -a.days_ago):
        by_day.setdefault(int(activity.days_ago), []).append(_sendgrid_event(now, activity))
    # A "processed" event in each batch: SendGrid sends it, we ignore it.
    return [
        [*events, {**events[0], "event": "processed", "sg_event_id": events[0]["sg_event_id"] + "p"}]
        for _, events in sorted(by_day.items(), reverse=True)
    ]


def _ses_mail(now: datetime, activity: Activity) -> dict[str, Any]:
    sent = _stamp(now, activity.days_ago + 0.01)
    message_id = f"0100018b-demo-{activity.persona}-{int(activity.days_ago * 10)}-000000"
    address = EMAILS[activity.persona]
    return {
        "timestamp": sent.isoformat().replace("+00:00", "Z"),
        "source": "news@leadscore-demo.example",
        "sendingAccountId": "123456789012",
        "messageId": message_id,
        "destination": [address],
        "headersTruncated": False,
        "commonHeaders": {"from": ["news@leadscore-demo.example"], "to": [address], "subject": "Product update"},
        "tags": {"ses:configuration-set": ["leadscore"], "campaign": ["product-update"]},
    }


def ses_event(now: datetime, activity: Activity) -> dict[str, Any]:
    """The SES event-publishing document (what SNS delivers raw and EventBridge carries as `detail`)."""
    when = _stamp(now, activity.days_ago).isoformat().replace("+00:00", "Z")
    mail = _ses_mail(now, activity)
    match activity.kind:
        case "open":
            return {
                "eventType": "Open",
                "mail": mail,
                "open": {"timestamp": when, "ipAddress": "192.0.2.1", "userAgent": "Mozilla/5.0 (Windows NT 10.0)"},
            }
        case "click":
            return {
                "eventType": "Click",
                "mail": mail,
                "click": {
                    "timestamp": when,
                    "link": activity.url,
                    "ipAddress": "192.0.2.1",
                    "linkTags": {},
                    "userAgent": "Mozilla/5.0 (Macintosh)",
                },
            }
        case "bounce":
            return {
                "eventType": "Bounce",
                "mail": mail,
                "bounce": {
                    "bounceType": "Permanent",
                    "bounceSubType": "General",
                    "timestamp": when,
                    "bouncedRecipients": [{"emailAddress": mail["destination"][0], "status": "5.1.1"}],
                    "feedbackId": f"feedback-{activity.persona}",
                },
            }
    raise ValueError(f"no SES event for {activity.kind}")  # pragma: no cover - the scenario uses the above


SES_DETAIL_TYPES = {"Open": "Email Opened", "Click": "Email Clicked", "Bounce": "Email Bounced"}


def ses_events(now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """(path, document): opens and clicks through EventBridge, bounces through SNS (both paths are shown)."""
    return [
        ("sns" if activity.kind == "bounce" else "eventbridge", ses_event(now, activity))
        for activity in sorted(SES, key=lambda a: -a.days_ago)
    ]
