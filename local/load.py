"""`make load`: a bounded load test of the local stack, over loopback only.

N signed webhooks at R per second through the HTTP front (the real ingest handler, SQS and the real scorer on
emulated AWS): form submissions and Mailgun opens/clicks for a pool of leads, a few of them hot; a share of
the requests are exact repeats of a recent one (as providers retry) and a share arrive out of order. It
prints the webhook's throughput and latency, then drains the queue and checks the end state against the
pure core applied to the unique events: no event lost, none counted twice, one alert per crossing.

Bounded: at most `--requests` requests, and sending stops after `--max-seconds` whatever is left.
`python -m local.load --help` (or `make load LOAD_ARGS="--requests 500 --rate 100"`).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import random
import statistics
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from leadscore.adapters.score_item import RuleKeys, from_item
from leadscore.core.identity import lead_id_for
from leadscore.core.rules import CompiledModel
from leadscore.core.scoring import facts_from_event, new_state, score_event
from leadscore.core.state import ScoreState
from leadscore.models.events import LeadEvent
from leadscore.models.served_models import load_served_models
from leadscore.sources.base import NormaliseContext
from leadscore.sources.config import load_source_config
from leadscore.sources.registry import SOURCES
from local.load_predictive import AUTO, ProbabilityCheck, check_probabilities, served_models

LOCAL_STATE = Path(__file__).resolve().parents[1] / ".local-state"  # where make demo leaves its trained artefact

if TYPE_CHECKING:
    from local.stack import EmulatedStack

FORM_IDS = ["whitepaper-download", "case-study-download", "webinar-registration", "pricing-calculator",
            "newsletter-signup", "demo-request"]  # fmt: skip
FORM_WEIGHTS = [30, 25, 15, 15, 12, 3]
TITLES = ["VP Engineering", "CTO", "Marketing Manager", "Software Engineer", "Student", "Head of Sales"]


@dataclass(frozen=True)
class LoadConfig:
    requests: int = 2000
    rate: float = 200.0  # requests per second offered
    duplicates: float = 0.10  # share of requests that repeat a recent one byte for byte
    out_of_order: float = 0.05  # share of unique requests sent later than events that happened after them
    leads: int = 150
    hot_leads: int = 5
    hot_share: float = 0.20  # share of unique events that go to the hot leads
    mailgun_share: float = 0.25  # the rest are form submissions
    workers: int = 8  # concurrent senders (API Gateway's concurrency, in miniature)
    max_seconds: float = 120.0  # sending stops then, whatever is left
    seed: int = 7
    predictive: str = AUTO  # serve the default model's predictive model (local/load_predictive.py)


@dataclass(frozen=True)
class Planned:
    source: str
    body: bytes
    headers: dict[str, str]
    duplicate: bool = False


@dataclass
class Sent:
    status: int
    answer: dict[str, Any]
    seconds: float


# ---- the traffic -----------------------------------------------------------------------------------------
def _persona(index: int) -> dict[str, Any]:
    rng = random.Random(index)
    return {
        "email": f"lead{index:04d}@company{index % 40:02d}.example",
        "first_name": f"Lead{index}",
        "last_name": "Example",
        "company": f"Company {index % 40}",
        "job_title": rng.choice(TITLES),
        "company_size": rng.choice([8, 60, 250, 900, 4000]),
        "industry": rng.choice(["Software", "SaaS", "Retail", "Fintech"]),
        "country": rng.choice(["GB", "US", "DE", "NO"]),
    }


def _forms_request(key: str, persona: dict[str, Any], index: int, at: datetime, form_id: str) -> Planned:
    body = json.dumps(
        {"submission_id": f"load-{index}", "form_id": form_id, "submitted_at": at.isoformat(), **persona}
    ).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(key.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Leadscore-Timestamp": stamp}
    return Planned("forms", body, headers | {"X-Leadscore-Signature": f"v1={digest}"})


def _mailgun_request(key: str, email: str, index: int, at: datetime, clicked: bool) -> Planned:
    stamp, token = str(int(time.time())), hashlib.sha256(f"load-token-{index}".encode()).hexdigest()[:50]
    data: dict[str, Any] = {
        "event": "clicked" if clicked else "opened",
        "timestamp": at.timestamp(),
        "id": f"load-mg-{index}",
        "recipient": email,
        "tags": ["load"],
        "message": {"headers": {"message-id": f"load-{index}@mail.example"}},
        "client-info": {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36"},
    }
    if clicked:
        data["url"] = "https://www.example.com/blog/post"
    signature = hmac.new(key.encode(), (stamp + token).encode(), hashlib.sha256).hexdigest()
    body = json.dumps({"signature": {"timestamp": stamp, "token": token, "signature": signature}, "event-data": data})
    return Planned("mailgun", body.encode(), {"Content-Type": "application/json"})


def plan(config: LoadConfig, forms_key: str, mailgun_key: str, now: datetime) -> list[Planned]:
    """The requests in send order: unique events in time order, some moved later, some repeated."""
    rng = random.Random(config.seed)
    duplicates = round(config.requests * config.duplicates)
    unique_count = config.requests - duplicates
    personas = [_persona(index) for index in range(config.leads)]
    start = now - timedelta(minutes=30)
    unique: list[Planned] = []
    for index in range(unique_count):
        hot = rng.random() < config.hot_share
        lead = rng.randrange(config.hot_leads) if hot else rng.randrange(config.hot_leads, config.leads)
        at = start + timedelta(seconds=index * 1800 / unique_count)
        if rng.random() < config.mailgun_share:
            unique.append(_mailgun_request(mailgun_key, personas[lead]["email"], index, at, rng.random() < 0.3))
        else:
            form_id = rng.choices(FORM_IDS, FORM_WEIGHTS)[0]
            unique.append(_forms_request(forms_key, personas[lead], index, at, form_id))
    # Out of order: a request overtaken by up to 40 that happened after it.
    order = list(range(unique_count))
    for position in rng.sample(range(unique_count), round(unique_count * config.out_of_order)):
        index = order.index(position)
        item = order.pop(index)
        order.insert(min(len(order), index + rng.randint(5, 40)), item)
    requests = [unique[index] for index in order]
    # Repeats: a provider's retry of one of the last 50 requests.
    for _ in range(duplicates):
        position = rng.randrange(1, len(requests))
        original = requests[max(0, position - rng.randint(1, 50))]
        requests.insert(position, Planned(original.source, original.body, original.headers, duplicate=True))
    return requests


# ---- sending ---------------------------------------------------------------------------------------------
def _post(base_url: str, planned: Planned, attempts: int = 4) -> Sent:
    """POST as a provider does: a refused or reset connection is retried (the time counts, from the first try)."""
    request = urllib.request.Request(  # noqa: S310 - loopback only
        f"{base_url}/webhooks/{planned.source}", data=planned.body, headers=planned.headers, method="POST"
    )
    started = time.perf_counter()
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback only
                status, raw = response.status, response.read()
            break
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
            break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            status, raw = 0, b"{}"  # no answer: the sender tries again
            time.sleep(0.2 * 2**attempt)
    return Sent(status, json.loads(raw or b"{}"), time.perf_counter() - started)


def send_all(base_url: str, requests: Sequence[Planned], config: LoadConfig) -> tuple[list[Sent | None], float]:
    """Offer the requests at `config.rate` per second from `config.workers` threads; stop at max_seconds.

    One answer per request, in order (None: not sent before the deadline)."""
    if not base_url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise ValueError("the load test sends to loopback addresses only")
    results: list[Sent | None] = [None] * len(requests)
    started = time.perf_counter()
    deadline = started + config.max_seconds

    def send(index: int) -> None:
        due = started + index / config.rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        if time.perf_counter() < deadline:
            results[index] = _post(base_url, requests[index])

    with ThreadPoolExecutor(max_workers=config.workers) as pool:
        list(pool.map(send, range(len(requests))))
    return results, time.perf_counter() - started


# ---- the end state ---------------------------------------------------------------------------------------
@dataclass
class EndState:
    leads: int = 0
    events: int = 0  # unique scorable events
    lost: list[str] = field(default_factory=list)  # (lead, model, rule) whose hits are fewer than expected
    double_counted: list[str] = field(default_factory=list)  # ... more than expected
    wrong_totals: list[str] = field(default_factory=list)
    crossings: int = 0
    alerts: int = 0
    alert_mismatches: list[str] = field(default_factory=list)
    probability: ProbabilityCheck | None = None  # a model served a predictive block

    @property
    def ok(self) -> bool:
        probability_ok = self.probability is None or self.probability.ok
        return probability_ok and not (self.lost or self.double_counted or self.wrong_totals or self.alert_mismatches)


def expected_scores(
    events: Iterable[LeadEvent], models: Sequence[CompiledModel], pepper: bytes
) -> dict[tuple[str, str], tuple[ScoreState, int]]:
    """The pure core applied once to each unique event, in the order they happened: (state, crossings)."""
    unique = {(event.source, event.event_id): event for event in events}
    states: dict[tuple[str, str], tuple[ScoreState, int]] = {}
    for event in sorted(unique.values(), key=lambda e: (e.occurred_at, e.event_id)):
        facts = facts_from_event(event)
        lead_id = lead_id_for(event.email, pepper)
        for model in models:
            state, crossings = states.get((lead_id, model.id), (new_state(lead_id, model), 0))
            result = score_event(facts, model, state, now=facts.occurred_at, alert_lease_seconds=60)
            if result.state is not state:
                states[(lead_id, model.id)] = (result.state, crossings + (result.new_alert is not None))
    return states


def raw_items(table_name: str) -> list[dict[str, Any]]:
    """Every item of the table as DynamoDB returns it (typed attribute values, as `from_item` reads them)."""
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(TableName=table_name)
    return [item for page in pages for item in page["Items"]]


def check_end_state(
    stored_items: Sequence[dict[str, Any]],
    expected: dict[tuple[str, str], tuple[ScoreState, int]],
    models: Sequence[CompiledModel],
    alerts_published: int,
) -> EndState:
    """Compare every stored score with the pure core's: hits per rule, totals, alerts sent."""
    keys = {model.id: RuleKeys(model.rule_ids) for model in models}
    stored = {
        (state.lead_id, state.model_id): state
        for item in stored_items
        if item["sk"]["S"].startswith("SCORE#")
        for state in [from_item(item, keys[item["sk"]["S"].removeprefix("SCORE#")])]
    }
    end = EndState(leads=len({lead for lead, _ in expected}), alerts=alerts_published)
    for (lead_id, model_id), (want, crossings) in expected.items():
        got = stored.get((lead_id, model_id))
        name = f"{lead_id}/{model_id}"
        have_hits = got.hits if got else {}
        for rule in sorted(set(want.hits) | set(have_hits)):
            difference = have_hits.get(rule, 0) - want.hits.get(rule, 0)
            if difference < 0:
                end.lost.append(f"{name}/{rule}: {-difference}")
            elif difference > 0:
                end.double_counted.append(f"{name}/{rule}: {difference}")
        if got is None or (got.total, got.fit, got.engagement) != (want.total, want.fit, want.engagement):
            found = None if got is None else (got.total, got.fit, got.engagement)
            end.wrong_totals.append(f"{name}: {found} != {(want.total, want.fit, want.engagement)}")
        end.crossings += crossings
        sent = got.alerts_sent if got else 0
        if sent != crossings or (got is not None and got.alert_pending is not None):
            end.alert_mismatches.append(f"{name}: {sent} alerts for {crossings} crossings")
    end.events = sum(sum(state.hits.values()) for state, _ in expected.values())
    if end.alerts != end.crossings:
        end.alert_mismatches.append(f"{end.alerts} alerts published for {end.crossings} crossings")
    return end


def unique_events(
    requests: Iterable[Planned], received_at: datetime, sources_dir: Path | None = None
) -> list[LeadEvent]:
    """What the unique requests normalise to (through the same source modules the handler uses)."""
    seen: set[bytes] = set()
    events: list[LeadEvent] = []
    for planned in requests:
        if planned.body in seen:
            continue
        seen.add(planned.body)
        config = load_source_config(sources_dir, planned.source)
        events += SOURCES[planned.source].normalise(planned.body, NormaliseContext(received_at, config))
    return events


def sources_dir(stack: EmulatedStack) -> Path:
    return Path(stack.environment["SOURCES_CONFIG_DIR"])


def check_stack(stack: EmulatedStack, delivered: Iterable[Planned], received_at: datetime) -> EndState:
    """The stack's stored scores and published alerts against the pure core applied to `delivered` once."""
    models_dir = Path(stack.environment["SCORING_MODELS_DIR"])
    models = load_served_models(models_dir)  # with a predictive block's artefact (its rules as compiled alone)
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=stack.environment["LEAD_ID_PEPPER_SECRET_ID"])
    pepper = str(json.loads(secret["SecretString"])["pepper"]).encode()
    expected = expected_scores(unique_events(delivered, received_at, sources_dir(stack)), models, pepper)
    items = raw_items(stack.physical("LeadsTable"))
    end = check_end_state(items, expected, models, len(stack.alerts()))
    end.probability = check_probabilities(items, models)  # predictive scoring: local/load_predictive.py
    return end


def redrive(stack: EmulatedStack) -> int:
    """Move every lead-events DLQ message back to the queue (`start-message-move-task`), then drain again."""
    sqs = boto3.client("sqs")
    dlq, queue = stack.physical("LeadEventsDLQ"), stack.physical("LeadEventsQueue")
    moved = 0
    while messages := sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
        "Messages", []
    ):
        for message in messages:
            attributes = message.get("MessageAttributes", {})
            sqs.send_message(QueueUrl=queue, MessageBody=message["Body"], MessageAttributes=attributes)
            sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    if moved:
        stack.drain()
    return moved


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass
class QueueTap:
    """What went through the lead-events queue, seen from the clients (botocore hooks on boto3's session)."""

    queued: Counter[str] = field(default_factory=Counter)  # event id -> messages sent
    received: set[str] = field(default_factory=set)  # event ids the scorer received
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self) -> None:
        events = boto3._get_default_session().events
        events.register("before-parameter-build.sqs.SendMessageBatch", self._before_send)
        events.register("after-call.sqs.SendMessageBatch", self._after_send)
        events.register("after-call.sqs.ReceiveMessage", self._after_receive)

    def _before_send(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["entries"] = {entry["Id"]: entry.get("MessageBody", "") for entry in params.get("Entries", [])}

    def _after_send(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        bodies = context.get("entries", {})
        with self._lock:
            for success in parsed.get("Successful", []):
                event_id = _event_id(bodies.get(success["Id"], ""))
                if event_id:
                    self.queued[event_id] += 1

    def _after_receive(self, parsed: dict[str, Any], **_: Any) -> None:
        with self._lock:
            for message in parsed.get("Messages", []):
                event_id = _event_id(message.get("Body", ""))
                if event_id:
                    self.received.add(event_id)


def _event_id(body: str) -> str | None:
    try:
        document = json.loads(body)
    except ValueError:
        return None
    value = document.get("event_id") if isinstance(document, dict) else None
    return value if isinstance(value, str) else None


def run(config: LoadConfig) -> int:
    from local.stack import EmulatedStack  # noqa: PLC0415 - starts moto: only when the load test runs

    print(f"leadscore load test: {config.requests} requests offered at {config.rate:g}/s, "
          f"{config.duplicates:.0%} repeats, {config.out_of_order:.0%} out of order, "
          f"{config.leads} leads ({config.hot_leads} hot, {config.hot_share:.0%} of events)")  # fmt: skip
    tap = QueueTap()
    tap.attach()  # before the stack creates its clients: they copy the session's hooks
    models_dir = served_models(config.predictive, LOCAL_STATE)  # predictive scoring: local/load_predictive.py
    stack = EmulatedStack(log_level="ERROR", models_dir=models_dir)
    stop = threading.Event()
    try:
        gateway = stack.serve(port=0)
        now = datetime.now(UTC)
        requests = plan(config, stack.forms_key(), str(stack.secret("MailgunWebhookSecret")["current"]), now)
        pollers = [threading.Thread(target=p.run_forever, args=(stop,), daemon=True) for p in stack.pollers]
        for poller in pollers:
            poller.start()
        answers, seconds = send_all(gateway.url, requests, config)
        sent = [answer for answer in answers if answer is not None]
        stop.set()
        for poller in pollers:
            poller.join()
        drain_started = time.perf_counter()
        stack.drain()
        drained = time.perf_counter() - drain_started
        redriven = redrive(stack)  # what failed 5 times, moved back as an operator would, then scored

        statuses = Counter(str(s.status) + (" duplicate" if s.answer.get("duplicate") else "") for s in sent)
        accepted = sum(int(s.answer.get("accepted", 0)) for s in sent if s.status < 300)
        latencies = [s.seconds * 1000 for s in sent]
        print(f"  sent {len(sent)} of {len(requests)} in {seconds:.1f} s: {len(sent) / seconds:.0f} requests/s, "
              f"{accepted / seconds:.0f} events/s accepted")  # fmt: skip
        if latencies:
            print(f"  webhook latency: p50 {statistics.median(latencies):.1f} ms, "
                  f"p99 {_percentile(latencies, 0.99):.1f} ms, max {max(latencies):.1f} ms")  # fmt: skip
        print("  answers: " + ", ".join(f"{status} x{count}" for status, count in sorted(statuses.items())))
        print(f"  scorer drained the rest in {drained:.1f} s; {redriven} message(s) had gone to the DLQ: redriven")
        if stack.queue_depth("LeadEventsDLQ"):
            print(f"  still in the DLQ after the redrive: {stack.queue_depth('LeadEventsDLQ')}")

        answered = {planned.body for planned, a in zip(requests, answers, strict=True) if a and a.status < 300}
        delivered = [planned for planned in requests if planned.body in answered]
        end = check_stack(stack, delivered, now)
        accepted_ids = {event.event_id for event in unique_events(delivered, now, sources_dir(stack))}
        print(f"  queue: {sum(tap.queued.values())} messages for {len(tap.queued)} events "
              f"({len(accepted_ids - set(tap.queued))} accepted events never queued), "
              f"{len(accepted_ids - tap.received)} never received by the scorer")  # fmt: skip
        print(f"  end state: {end.leads} leads, {end.events} rule hits expected; lost {len(end.lost)}, "
              f"double-counted {len(end.double_counted)}, wrong totals {len(end.wrong_totals)}; "
              f"{end.alerts} alerts for {end.crossings} crossings")  # fmt: skip
        if end.probability is not None:
            print(end.probability.line())
        problems = end.lost + end.double_counted + end.wrong_totals + end.alert_mismatches
        problems += end.probability.missing if end.probability is not None else []
        for problem in problems[:20]:
            print(f"    {problem}")
        if len(sent) < len(requests):
            print(f"  (the {config.max_seconds:g} s bound stopped sending: {len(requests) - len(sent)} not sent)")
        print("  OK" if end.ok else "  FAILED")
        return 0 if end.ok else 1
    finally:
        stop.set()
        stack.stop()


def main(argv: Sequence[str] | None = None) -> int:
    defaults = LoadConfig()
    parser = argparse.ArgumentParser(prog="python -m local.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=int(os.environ.get("LOAD_REQUESTS", defaults.requests)))
    parser.add_argument("--rate", type=float, default=float(os.environ.get("LOAD_RATE", defaults.rate)))
    parser.add_argument("--leads", type=int, default=defaults.leads)
    parser.add_argument("--workers", type=int, default=defaults.workers)
    parser.add_argument("--max-seconds", type=float, default=defaults.max_seconds)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--predictive",
        default=defaults.predictive,
        help="serve the default model's predictive model: auto (make demo's artefact, or train one), off, or "
        "the artefact's path",
    )
    arguments = parser.parse_args(argv)
    if not 1 <= arguments.requests <= 100_000 or not 0 < arguments.rate <= 5_000:
        parser.error("--requests must be 1..100000 and --rate 0..5000")
    config = LoadConfig(
        requests=arguments.requests,
        rate=arguments.rate,
        leads=max(arguments.leads, defaults.hot_leads + 1),
        workers=arguments.workers,
        max_seconds=min(arguments.max_seconds, 900.0),
        seed=arguments.seed,
        predictive=arguments.predictive,
    )
    return run(config)


if __name__ == "__main__":
    raise SystemExit(main())
