"""The website locally: the demo's website act, the test site wired to `make serve`, and minting ls_t tokens.

- `play_website(stack)`: a few visitors browse anonymously (C1 beacons over HTTP, as the snippet sends them),
  some fill a form and get their earlier views scored, one comes back from an email link with a signed
  token, a crawler is ignored, one stays anonymous.
- `start_site(stack, api_url, port)`: local/site (the tracker-js helper's test site) served on 127.0.0.1
  with its form forwarded, signed, to /webhooks/forms, and the site's origin allowed on /track.
- `python -m local mint-token --email …`: a token for a deployed stack (reads the two secrets with boto3).
"""

from __future__ import annotations

import json
import os
import secrets
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol

import boto3

from leadscore.core.identity import lead_id_for
from leadscore.core.tokens import DEFAULT_TOKEN_DAYS, make_token
from leadscore.models.events import normalise_email

TRACK_ROUTE = "/track"
FORMS_ROUTE = "/webhooks/forms"
SITE_ORIGIN = "https://www.example.com"  # the template's TrackAllowedOrigins default: what the act posts from
CHROME = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
HOUR = 3600
PAGE_RULES = ("pricing_interest", "demo_page", "security_review", "customer_stories", "integrations",
              "product_pages", "docs", "company_pages")  # fmt: skip


class WebsiteStack(Protocol):
    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]: ...
    def drain(self) -> int: ...
    def score_items(self) -> list[dict[str, Any]]: ...
    def forms_key(self) -> str: ...
    def secret(self, logical_id: str) -> dict[str, Any]: ...


def _visitor_id() -> str:
    return secrets.token_urlsafe(16)[:22]  # 128 random bits, base64url, as the snippet makes them


def _beacon(visitor: str, views: list[tuple[int, str]], token: str | None = None) -> bytes:
    events = [
        {"type": "page_view", "id": uuid.uuid4().hex[:20], "ts": at * 1000, "url": f"{SITE_ORIGIN}{path}",
         "path": path, "title": path.strip("/").title() or "Home", "referrer": "", "utm": None}
        for at, path in views
    ]  # fmt: skip
    body: dict[str, Any] = {"v": 1, "visitor_id": visitor, "events": events}
    if token:
        body["token"] = token
    return json.dumps(body).encode()


def _track(stack: WebsiteStack, body: bytes, agent: str = CHROME) -> int:
    headers = {"Content-Type": "text/plain;charset=UTF-8", "Origin": SITE_ORIGIN, "User-Agent": agent}
    return stack.post(TRACK_ROUTE, body, headers)[0]


def _submit(stack: WebsiteStack, sign: Callable[[str, bytes], dict[str, str]], body: dict[str, Any]) -> int:
    raw = json.dumps(body).encode()
    return stack.post(FORMS_ROUTE, raw, sign(stack.forms_key(), raw))[0]


def _page_points(stack: WebsiteStack, email: str) -> dict[str, Decimal]:
    from local.demo import _rule_keys  # noqa: PLC0415 - the demo's model keys, loaded once

    pepper = str(stack.secret("LeadIdPepperSecret")["pepper"]).encode()
    lead = f"LEAD#{lead_id_for(normalise_email(email), pepper)}"
    keys = _rule_keys()
    for item in stack.score_items():
        if item["pk"] == lead:
            points = {keys.rule(key): Decimal(str(value)) for key, value in item.get("b", {}).items()}
            return {rule: value for rule, value in points.items() if rule in PAGE_RULES and value}
    return {}


def play_website(stack: WebsiteStack, sign: Callable[[str, bytes], dict[str, str]], returning_email: str) -> None:
    """The website act of `make demo` (after the form and email acts, before the leaderboard)."""
    print(f"\n{'=' * 100}\n3c. The website: anonymous visitors, a form that identifies one, an email link, a crawler\n"
          f"{'=' * 100}")  # fmt: skip
    now = int(time.time())
    katherine, tom, lee, device = _visitor_id(), _visitor_id(), _visitor_id(), _visitor_id()
    journeys = {
        "Katherine (will book a demo)": (katherine, [
            (now - 3 * 24 * HOUR, "/pricing"), (now - 3 * 24 * HOUR + 90, "/pricing"),
            (now - 2 * 24 * HOUR, "/security"), (now - 2 * 24 * HOUR + 60, "/trust"),
            (now - 24 * HOUR, "/customers/northwind"), (now - 3600, "/demo")]),
        "Tom (job seeker)": (tom, [(now - 2 * 24 * HOUR, "/blog/launch"), (now - 2 * 24 * HOUR + 30, "/careers"),
                                   (now - 3600, "/careers/backend-engineer")]),
        "Lee (stays anonymous)": (lee, [(now - 24 * HOUR, "/docs/api"), (now - 24 * HOUR + 60, "/integrations/slack"),
                                        (now - 600, "/pricing")]),
    }  # fmt: skip
    for name, (visitor, views) in journeys.items():
        answers = [_track(stack, _beacon(visitor, [view])) for view in views]  # one beacon per page view
        print(f"  {name:<30} {len(views)} page views -> {answers}  (kept on the visitor, nothing scored yet)")
    print(f"  {'Googlebot':<30} 1 page view  -> {_track(stack, _beacon(_visitor_id(), [(now, '/pricing')]), GOOGLEBOT)}"
          "  (a crawler: dropped, nothing written)")  # fmt: skip

    katherine_email, tom_email = "katherine@northwind-data.example", "tom@gmail.example"
    forms: list[dict[str, Any]] = [
        {"submission_id": "web-katherine-1", "form_id": "demo-request", "email": katherine_email,
         "first_name": "Katherine", "last_name": "Johnson", "company": "Northwind Data",
         "job_title": "Head of Data Platform",
         "company_size": 400, "industry": "Software", "country": "US", "ls_visitor_id": katherine},
        {"submission_id": "web-tom-1", "form_id": "newsletter-signup", "email": tom_email, "first_name": "Tom",
         "ls_visitor_id": tom},
    ]  # fmt: skip
    for form in forms:
        print(f"  {_submit(stack, sign, form)}  {form['first_name']} submits '{form['form_id']}' "
              "with the hidden field ls_visitor_id")  # fmt: skip

    # A known lead opens a tracked email on a new device: the link carries a token the sender signed.
    pepper = str(stack.secret("LeadIdPepperSecret")["pepper"]).encode()
    key = str(stack.secret("LeadTokenSecret")["current"]).encode()
    token = make_token(lead_id_for(normalise_email(returning_email), pepper), now + DEFAULT_TOKEN_DAYS * 86_400, key)
    status = _track(stack, _beacon(device, [(now - 300, "/pricing")], token=token))
    print(f"  {status}  {returning_email} clicks an email link (?ls_t=<token>) on a new device and lands on /pricing")
    stack.drain()
    later = _track(stack, _beacon(device, [(now - 120, "/security")]))
    print(f"  {later}  ... then reads /security (no token: the device is now known, scored as it comes)")
    stack.drain()

    print("\n  Page points scored per lead (each view once, with its own day's caps):")
    for label, email in (("Katherine", katherine_email), ("Tom", tom_email), (returning_email, returning_email)):
        points = _page_points(stack, email)
        shown = ", ".join(f"{rule} {value:f}" for rule, value in sorted(points.items())) or "none"
        print(f"    {label:<32} {shown}")
    print("    Lee                              not a lead: 3 views kept on the visitor for VisitorTtlDays (30)")


def start_site(stack: WebsiteStack, api_url: str, port: int, sign: Callable[[str, bytes], dict[str, str]]) -> str:
    """Serve local/site with its form forwarded as a signed generic-forms webhook; returns the site URL."""
    from local.site_server import serve_site  # noqa: PLC0415 - from the tracker-js branch

    def forward(fields: dict[str, str]) -> None:
        body = {key: value for key, value in fields.items() if value} | {
            "submission_id": uuid.uuid4().hex,
            "form_id": "demo-request",
        }
        _submit(stack, sign, body)

    _, url = serve_site(port, api_url, on_form=forward)
    # The site's own origin may send page views (plus the template's default).
    origins = {*os.environ.get("TRACK_ALLOWED_ORIGINS", "").split(","), url, url.replace("127.0.0.1", "localhost")}
    os.environ["TRACK_ALLOWED_ORIGINS"] = ",".join(sorted(origin for origin in origins if origin))
    return url


def mint_token(email: str, *, pepper_secret: str, token_secret: str, days: int = DEFAULT_TOKEN_DAYS) -> str:
    """A token for a deployed stack: the lead id from the pepper secret, signed with the token secret."""
    client = boto3.client("secretsmanager")
    pepper = json.loads(client.get_secret_value(SecretId=pepper_secret)["SecretString"])["pepper"]
    key = json.loads(client.get_secret_value(SecretId=token_secret)["SecretString"])["current"]
    lead_id = lead_id_for(normalise_email(email), str(pepper).encode())
    return make_token(lead_id, int(time.time()) + days * 86_400, str(key).encode())
