"""`make demo`: the whole pipeline on an emulated AWS, from signed webhooks to the alerts sales reads.

1. Start the emulator and build every resource template.yaml declares (tables, queues, topic, secrets).
2. Serve the template's HTTP routes on 127.0.0.1 through the real ingest handler.
3. POST two weeks of signed form submissions from 24 leads (a few delivered twice, like a retrying
   form tool), plus a handful of bad requests, and show each answer; then the email activity of the same
   weeks: SendGrid Event Webhook batches (ECDSA-signed) and SES events through EventBridge and SNS, with
   machine opens, a link scanner, a bounce, an unsubscribe and a complaint.
4. Drain the queue through the real scorer (SQS → Lambda, partial batch failures and all).
5. Print the leaderboard and every sales alert captured from the SNS topic.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from leadscore import clock
from leadscore.adapters.score_item import RuleKeys
from leadscore.core.rules import AUTOMATED_SUFFIX, compile_model
from leadscore.models.model_files import load_model_file
from local.email_scenario import SES_DETAIL_TYPES, sendgrid_batches, ses_events
from local.predictive_demo import LeadsApiStack, percent, print_probabilities
from local.scenario import PERSONAS, form_submissions
from local.website import play_website

FORMS_ROUTE = "/webhooks/forms"
SENDGRID_ROUTE = "/webhooks/sendgrid"
MODEL_FILE = Path(__file__).resolve().parents[1] / "scoring" / "default.yaml"


class DemoStack(LeadsApiStack, Protocol):
    """What the demo needs from the local runtime: the leads API's reads (issuer, score items, profiles,
    requests: LeadsApiStack) and the rest below."""

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]: ...
    def drain(self) -> int: ...
    def alerts(self) -> list[dict[str, Any]]: ...
    def forms_key(self) -> str: ...
    def set_secret(self, logical_id: str, document: dict[str, Any]) -> None: ...
    def publish_ses_event(self, path: str, document: dict[str, Any], detail_type: str = "") -> None: ...
    def run_schedule(self, name: str) -> Any: ...
    def secret(self, logical_id: str) -> dict[str, Any]: ...


def sign(key: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Headers for the generic forms webhook, exactly as a sender computes them."""
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(key.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Leadscore-Timestamp": stamp,
        "X-Leadscore-Signature": f"v1={digest}",
    }


def _bad_requests(key: str) -> list[tuple[str, bytes, dict[str, str]]]:
    good = json.dumps({"submission_id": "bad-1", "form_id": "demo-request", "email": "x@example.com"}).encode()
    no_email = json.dumps({"submission_id": "bad-2", "form_id": "demo-request", "email": "not-an-email"}).encode()
    return [
        ("unsigned", good, {"Content-Type": "application/json"}),
        ("signed with the wrong key", good, sign("not-the-key", good)),
        ("replayed after 10 minutes", good, sign(key, good, int(time.time()) - 600)),
        ("malformed JSON", b"{not json", sign(key, b"{not json")),
        ("invalid email", no_email, sign(key, no_email)),
        ("wrong content type", good, {**sign(key, good), "Content-Type": "text/plain"}),
    ]


def _number(value: Any) -> str:
    return f"{Decimal(str(value)).normalize():f}" if value is not None else "-"


def _section(title: str) -> None:
    print(f"\n{'=' * 100}\n{title}\n{'=' * 100}")


def play(stack: DemoStack) -> None:
    key = stack.forms_key()
    now = datetime.now(UTC)
    submissions = form_submissions(now)

    _section(f"1. Sending {len(submissions)} signed form submissions from {len(PERSONAS)} leads")
    answers: Counter[int] = Counter()
    seen_ids: set[str] = set()
    for persona, body in submissions:
        raw = json.dumps(body).encode()
        status, _ = stack.post(FORMS_ROUTE, raw, sign(key, raw))
        answers[status] += 1
        retry = " (a retry of the same submission)" if body["submission_id"] in seen_ids else ""
        seen_ids.add(body["submission_id"])
        if retry:
            print(f"  {status}  {persona:<10} {body['form_id']:<24}{retry}")
    retries = len(submissions) - len(seen_ids)
    print(f"  answers: {dict(answers)}; {retries} were retries of a submission already accepted (409, queued once)")

    _section("2. Bad requests get a clear 4xx and queue nothing")
    for label, raw, headers in _bad_requests(key):
        status, answer = stack.post(FORMS_ROUTE, raw, headers)
        print(f"  {status}  {label:<28} {answer.get('error')}: {answer.get('message')}")

    _send_email_activity(stack, now)

    _section("3. Scoring: draining the queue through the scorer")
    started = time.perf_counter()
    scored = stack.drain()
    print(
        f"  {scored} events scored in {time.perf_counter() - started:.2f}s "
        f"({len(seen_ids)} distinct submissions: each queued once, whatever the retries)"
    )

    _suppressed_lead_requests_a_demo(stack, key)
    play_website(stack, sign, PERSONAS[0].email)  # website: local/website.py
    _print_leaderboard(stack)
    print_probabilities(stack)  # predictive scoring: local/predictive_demo.py
    _print_alerts(stack)
    _weeks_of_silence(stack)


DECAY_WEEKS = (1, 2, 4, 8, 12)


def _weeks_of_silence(stack: DemoStack) -> None:
    """Nobody does anything for weeks: the daily schedule (fired here as EventBridge Scheduler would, on a
    clock moved forward) fades engagement, recycles SQL leads to MQL, and sends sales nothing."""
    profiles = stack.profiles()

    def name(item: dict[str, Any]) -> str:
        profile = profiles.get(item["pk"], {})
        return f"{profile.get('first_name', '')} {profile.get('last_name', '')}".strip()

    top = sorted(stack.score_items(), key=lambda item: Decimal(str(item["total"])), reverse=True)
    watched = [item["pk"] for item in top if not item.get("suppressed")][:6]
    history: dict[str, list[str]] = {pk: [] for pk in watched}
    names = {item["pk"]: name(item) for item in top}

    def snapshot() -> dict[str, dict[str, Any]]:
        return {item["pk"]: item for item in stack.score_items() if item["pk"] in history}

    for pk, item in snapshot().items():
        history[pk].append(_decay_cell(item))
    elapsed = 0
    for week in DECAY_WEEKS:
        # The schedule is daily; here it fires only at each checkpoint. Decay depends on the days elapsed,
        # not on the number of runs, so the skipped days are caught up with the same result.
        clock.advance(timedelta(weeks=week - elapsed))
        stack.run_schedule("DecaySchedule")
        elapsed = week
        for pk, item in snapshot().items():
            history[pk].append(_decay_cell(item))
    _section(f"6. {DECAY_WEEKS[-1]} quiet weeks later: decay (the scheduled job, fired on a simulated clock)")
    width = max(len(cell) for cells in history.values() for cell in cells)
    print(f"  {'lead':<22} {'today':>{width}} " + " ".join(f"{'+' + str(week) + 'w':>{width}}" for week in DECAY_WEEKS))
    for pk in watched:
        print(f"  {names[pk]:<22} " + " ".join(f"{cell:>{width}}" for cell in history[pk]))
    recycled = [names[pk] for pk, item in snapshot().items() if item.get("recycled_at") and item["stage"] != "SQL"]
    print(
        f"\n  recycled SQL -> MQL (or lower): {', '.join(recycled) or 'none'}; sales alerts sent: {len(stack.alerts())}"
    )
    clock.reset()


def _decay_cell(item: dict[str, Any]) -> str:
    """Total and stage; with a predictive block, the probability the decay job stored too (local/predictive_demo.py)."""
    cell = f"{_number(round(Decimal(str(item['total'])))):>4} {item['stage']}"
    return cell if item.get("probability") is None else f"{cell} {percent(item['probability']):>5}"


def _suppressed_lead_requests_a_demo(stack: DemoStack, key: str) -> None:
    """Ken's address hard-bounced (SendGrid): his demo request is scored, but sales is not alerted."""
    ken = next(persona for persona in PERSONAS if persona.key == "ken")
    body = {
        "submission_id": "demo-ken-after-bounce",
        "form_id": "demo-request",
        "email": ken.email,
        "first_name": ken.first_name,
        "last_name": ken.last_name,
        "job_title": ken.job_title,
        "company": ken.company,
        "company_size": ken.company_size,
        "industry": ken.industry,
        "country": ken.country,
    }
    raw = json.dumps(body).encode()
    status, _ = stack.post(FORMS_ROUTE, raw, sign(key, raw))
    stack.drain()
    [item] = [i for i in stack.score_items() if stack.profiles().get(i["pk"], {}).get("first_name") == ken.first_name]
    _section("3b. A suppressed lead crosses the sales threshold: scored, never alerted")
    print(
        f"  {status}  Ken Thompson (hard-bounced on SendGrid) requests a demo: total {_number(item['total'])}, "
        f"stage {item['stage']}, alerts sent {int(item.get('alerts', 0))}"
    )


def sendgrid_signer() -> tuple[str, Any]:
    """A P-256 key pair like SendGrid's: the public key (base64 DER) goes into leadscore's secret."""
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415 - demo only
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415

    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def headers(body: bytes, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        signature = private.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "Content-Type": "application/json",
            "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        }

    return base64.b64encode(public).decode(), headers


def _send_email_activity(stack: DemoStack, now: datetime) -> None:
    public_key, sendgrid_headers = sendgrid_signer()
    stack.set_secret("SendGridWebhookSecret", {"current": public_key, "previous": ""})
    batches = sendgrid_batches(now)
    _section(f"2b. Email activity: {len(batches)} SendGrid Event Webhook batches (ECDSA-signed), SES events")
    for batch in batches:
        raw = json.dumps(batch).encode()
        status, answer = stack.post(SENDGRID_ROUTE, raw, sendgrid_headers(raw))
        kinds = Counter(str(event["event"]) for event in batch)
        print(f"  {status}  SendGrid batch: {dict(kinds)} -> {answer.get('accepted', answer.get('error'))} queued")
    status, answer = stack.post(SENDGRID_ROUTE, raw, sendgrid_headers(raw))
    print(f"  {status}  the last batch again (a replay): {answer.get('error')}")
    status, answer = stack.post(
        SENDGRID_ROUTE, raw, {**sendgrid_headers(raw), "X-Twilio-Email-Event-Webhook-Signature": "MEUCIQ=="}
    )
    print(f"  {status}  a batch with a forged signature: {answer.get('error')}")
    for path, document in ses_events(now):
        stack.publish_ses_event(path, document, SES_DETAIL_TYPES[document["eventType"]])
        print(f"  SES {document['eventType']:<6} via {'EventBridge' if path == 'eventbridge' else 'SNS'}")


@cache
def _rule_keys() -> RuleKeys:
    return RuleKeys(compile_model(load_model_file(MODEL_FILE)).rule_ids)


def _automated(item: dict[str, Any]) -> int:
    """Automated activity (machine opens, scanner clicks) on the lead: hits on '<rule>:automated' entries."""
    keys = _rule_keys()
    return sum(int(count) for key, count in item.get("n", {}).items() if keys.rule(key).endswith(AUTOMATED_SUFFIX))


def _print_leaderboard(stack: DemoStack) -> None:
    _section("4. Leaderboard (model 'default')")
    profiles = stack.profiles()
    rows = sorted(stack.score_items(), key=lambda item: Decimal(str(item["total"])), reverse=True)
    header = (
        f"  {'#':>2}  {'lead':<22} {'company':<24} {'title':<30} {'fit':>5} {'eng':>5} {'total':>6}  {'stage':<5} "
        f"{'automated (0 pts)':>17} {'p':>6} {'p stage':<7}  notes"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for rank, item in enumerate(rows, start=1):
        profile = profiles.get(item["pk"], {})
        name = f"{profile.get('first_name', '')} {profile.get('last_name', '')}".strip() or "?"
        notes = ["← alerted"] if int(item.get("alerts", 0)) else []
        if item.get("suppressed"):
            notes.append("suppressed (bounced, unsubscribed or complained)")
        automated = _automated(item)
        print(
            f"  {rank:>2}  {name:<22} {str(profile.get('company', '-'))[:24]:<24} "
            f"{str(profile.get('job_title', '-'))[:30]:<30} {_number(item['fit']):>5} {_number(item['eng']):>5} "
            f"{_number(item['total']):>6}  {item['stage']:<5} {automated or '':>17} "
            f"{percent(item.get('probability')):>6} {item.get('p_stage') or '-':<7}  {'; '.join(notes)}"
        )
    stages = Counter(item["stage"] for item in rows)
    print(
        f"\n  {len(rows)} leads: {stages.get('SQL', 0)} SQL, {stages.get('MQL', 0)} MQL, {stages.get('LEAD', 0)} LEAD"
    )


def _print_alerts(stack: DemoStack) -> None:
    alerts = stack.alerts()
    _section(f"5. Sales alerts published to SNS: {len(alerts)} (one per lead that crossed the sales threshold)")
    for alert in alerts:
        print(f"\n  Subject: {alert['subject']}")
        attributes = ", ".join(f"{name}={value}" for name, value in sorted(alert["attributes"].items()))
        print(f"  Attributes: {attributes}")
        print("  " + "\n  ".join(alert["message"].splitlines()))
