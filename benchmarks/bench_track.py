"""The website path: /track requests and DynamoDB writes per page view, stitching cost, cost per million views.

Runs the real TrackService / StitchingService / ScoringService with the DynamoDB adapters against moto
(in-process, tables from template.yaml). DynamoDB requests are counted from botocore events and priced by
AWS's item-size rule (benchmarks/capacity.py); SQS requests are counted the same way.
"""

from __future__ import annotations

import os
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch

import boto3
from moto import mock_aws

from benchmarks.capacity import CapacityMeter
from leadscore.adapters.dynamodb import DynamoLeadStore
from leadscore.adapters.memory import InMemoryPublisher
from leadscore.adapters.rate_limits import InstanceRateLimiter
from leadscore.adapters.sqs import SqsEventQueue, SqsJsonQueue
from leadscore.adapters.visits import DynamoVisitorStore
from leadscore.core.identity import lead_id_for
from leadscore.core.rules import compile_model
from leadscore.models.beacon import Beacon
from leadscore.models.events import EventType, LeadEvent
from leadscore.models.model_files import load_model_file
from leadscore.services.scoring import ScoringService
from leadscore.services.stitching import StitchingService
from leadscore.services.track import TrackLimits, TrackService
from local.cfn import Template
from local.emulator import create_resources

ROOT = Path(__file__).resolve().parents[1]
PEPPER = b"benchmark-pepper"
KEY = b"benchmark-token-key"
ORIGIN = "https://www.example.com"
CHROME = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"
PATHS = ["/pricing", "/product/scoring", "/customers/acme", "/security", "/docs/getting-started", "/blog/post"]
NOW = int(datetime(2026, 12, 1, 12, tzinfo=UTC).timestamp())

# List prices, us-east-1, December 2026 (per million unless said otherwise).
HTTP_API_PER_MILLION = 1.00  # API Gateway HTTP API, first 300 million requests a month
LAMBDA_REQUESTS_PER_MILLION = 0.20
LAMBDA_ARM_GB_SECOND = 0.0000133334
DYNAMODB_WRITE_UNITS_PER_MILLION = 0.625  # on-demand
SQS_PER_MILLION = 0.40
TRACK_MEMORY_GB = 0.25  # TrackVisitsFunction MemorySize 256
TRACK_BILLED_MS = 12  # assumed warm duration on AWS (moto in-process is not representative; see README)
BEACONS_PER_PAGE_VIEW = 1.6  # the page view's own beacon + an engagement beacon for ~60 % of pages (C1)


@contextmanager
def emulated() -> Iterator[tuple[Template, Any, CapacityMeter, Counter[str]]]:
    fake = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    with patch.dict(os.environ, fake), mock_aws():
        os.environ.pop("AWS_ENDPOINT_URL", None)
        template = Template(ROOT / "template.yaml")
        create_resources(template)
        peek_client = boto3.client("dynamodb")
        metered = boto3.client("dynamodb")

        def peek(table_name: str, key: dict[str, Any]) -> dict[str, Any] | None:
            item: dict[str, Any] | None = peek_client.get_item(TableName=table_name, Key=key, ConsistentRead=True).get(
                "Item"
            )
            return item

        meter = CapacityMeter(peek=peek)
        meter.attach(metered)
        sqs_requests: Counter[str] = Counter()
        sqs = boto3.client("sqs")
        sqs.meta.events.register("before-parameter-build.sqs", lambda model, **_: sqs_requests.update([model.name]))
        yield template, (metered, sqs), meter, sqs_requests


def a_beacon(visitor: str, index: int, *, token: str | None = None) -> Beacon:
    path = PATHS[index % len(PATHS)]
    view = {"type": "page_view", "id": f"v{index:04d}" + "x" * 12, "ts": (NOW - 3600 + index) * 1000,
            "url": f"{ORIGIN}{path}?utm_source=news", "path": path}  # fmt: skip
    return Beacon.model_validate({"v": 1, "visitor_id": visitor, "token": token, "events": [view]})


def delta(before: dict[str, Any], after: dict[str, Any]) -> tuple[int, int]:
    requests = sum(after["requests"].values()) - sum(before["requests"].values())
    return requests, after["write_units"] - before["write_units"]


def views_of(visitor: int, views_per_visitor: int) -> int:
    """Visitor 0 browses `views_per_visitor` pages (the stitching case); the others as sites see them:
    60 % one page, 25 % 2-5, 10 % 6-15, 5 % 16-50 (a deterministic spread, no randomness)."""
    if visitor == 0:
        return views_per_visitor
    bucket = visitor % 20
    if bucket < 12:
        return 1
    if bucket < 17:
        return 2 + visitor % 4
    if bucket < 19:
        return 6 + visitor % 10
    return 16 + visitor % 35


def run(views_per_visitor: int, visitors: int) -> dict[str, Any]:
    model = compile_model(load_model_file(ROOT / "scoring" / "default.yaml"))
    with emulated() as (template, (dynamodb, sqs), meter, sqs_requests):
        visitors_table = template.physical["VisitorsTable"].ref
        queue_url = template.physical["LeadEventsQueue"].ref
        store = DynamoVisitorStore(dynamodb, visitors_table)
        leads = DynamoLeadStore(dynamodb, template.physical["LeadsTable"].ref, (model,))
        track = TrackService(
            visitors=store, limiter=InstanceRateLimiter(), events=SqsEventQueue(sqs, queue_url),
            links=SqsJsonQueue(sqs, queue_url), token_keys=lambda: [KEY], clock=lambda: NOW,
            allowed_origins=frozenset({ORIGIN}), limits=TrackLimits(ip_per_minute=10**6, visitor_per_minute=10**6),
        )  # fmt: skip
        scoring = ScoringService(scores=leads, profiles=leads, publisher=InMemoryPublisher(), models=(model,),
                                 pepper=PEPPER, clock=lambda: NOW, pause=lambda attempt: None)  # fmt: skip
        stitching = StitchingService(visitors=store, profiles=leads, scoring=scoring, pepper=PEPPER,
                                     clock=lambda: NOW, window_seconds=30 * 86_400,
                                     linked_ttl_seconds=395 * 86_400)  # fmt: skip

        # 1. Anonymous page views: one beacon each.
        anonymous: list[tuple[int, int]] = []
        units_at: dict[int, int] = {}
        started = time.perf_counter()
        for visitor in range(visitors):
            vid = f"visitor{visitor:015d}"
            for index in range(views_of(visitor, views_per_visitor)):
                before = meter.snapshot()
                track.accept(a_beacon(vid, index), user_agent=CHROME, source_ip=f"198.51.100.{visitor % 250}")
                anonymous.append(delta(before, meter.snapshot()))
                if visitor == 0:
                    units_at[index + 1] = anonymous[-1][1]
        anonymous_seconds = time.perf_counter() - started
        bot_before = meter.snapshot()
        track.accept(a_beacon("crawler000000000000000", 0), user_agent="Googlebot/2.1", source_ip="203.0.113.9")
        bot = delta(bot_before, meter.snapshot())

        # 2. Stitching: visitor 0 (views_per_visitor anonymous views) is linked by its lead's form.
        email = "ada@analytical-engines.example"
        form = LeadEvent(event_id="sub-1", source="forms", type=EventType.FORM_SUBMITTED,
                         occurred_at=datetime.fromtimestamp(NOW, UTC), received_at=datetime.fromtimestamp(NOW, UTC),
                         email=email, attributes={"job_title": "VP Engineering", "company_size": 250},
                         properties={"form_id": "demo-request", "visitor_id": "visitor000000000000000"})  # fmt: skip
        before = meter.snapshot()
        requests_by_kind_before = dict(meter.requests)
        result = stitching.after_event(form)  # as the scorer does: the backlog first, then the form itself
        stitch = delta(before, meter.snapshot())
        scoring.process(form)
        stitch_requests = {name: count - requests_by_kind_before.get(name, 0) for name, count in meter.requests.items()}
        again_before = meter.snapshot()
        stitching.after_event(form)  # a redelivery of the same form
        again = delta(again_before, meter.snapshot())

        # 3. Known visitor: a later page view goes to the lead-events queue, then the scorer.
        sqs_before = sum(sqs_requests.values())
        known_before = meter.snapshot()
        track.accept(a_beacon("visitor000000000000000", 999), user_agent=CHROME, source_ip="198.51.100.7")
        known_track = delta(known_before, meter.snapshot())
        known_sqs = sum(sqs_requests.values()) - sqs_before
        scorer_before = meter.snapshot()
        scoring.process(
            LeadEvent(
                event_id="pv:x:y",
                source="web",
                type=EventType.PAGE_VIEWED,
                occurred_at=datetime.fromtimestamp(NOW, UTC),
                received_at=datetime.fromtimestamp(NOW, UTC),
                email=email,
                properties={"page_url": "/pricing", "visitor_id": "x"},
            )
        )
        known_score = delta(scorer_before, meter.snapshot())
        lead_visitors = store.visitors_of(lead_id_for(email, PEPPER))
    return {
        "anonymous": anonymous, "anonymous_seconds": anonymous_seconds, "units_at": units_at, "bot": bot,
        "stitch": stitch, "stitch_requests": stitch_requests, "stitched": result, "again": again,
        "known_track": known_track, "known_sqs": known_sqs, "known_score": known_score, "lead_visitors": lead_visitors,
    }  # fmt: skip


BOT_PROBE = """
import time
started = time.perf_counter()
from leadscore.sources import bots
imported = time.perf_counter()
bots.classify("Mozilla/5.0 (warm-up)")
compiled = time.perf_counter()
agents = [f"{CHROME}.{index}" for index in range(2000)]
fresh = time.perf_counter()
for agent in agents:
    bots.classify(agent)
done = time.perf_counter()
for _ in range(20000):
    bots.classify(CHROME)
repeat = time.perf_counter()
print((imported - started) * 1000, (compiled - imported) * 1000,
      (done - fresh) / 2000 * 1e6, (repeat - done) / 20000 * 1e6)
"""


def bot_check_cost() -> tuple[float, float, float, float]:
    """In a fresh interpreter: (ms to import, ms to compile the lists on first use, µs per new user agent,
    µs per repeated one)."""
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    probe = f"CHROME = {CHROME!r}\n{BOT_PROBE}"
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout  # noqa: S603
    imported, compiled, fresh, repeat = (float(value) for value in output.split())
    return imported, compiled, fresh, repeat


def main(*, quick: bool = False) -> None:
    views, visitors = 50, (40 if quick else 200)
    figures = run(views, visitors)
    anonymous = figures["anonymous"]
    requests = statistics.mean(r for r, _ in anonymous)
    units = statistics.mean(u for _, u in anonymous)
    print(f"  anonymous page views: {len(anonymous)} beacons from {visitors} visitors (60 % see one page, 5 % 16-50; "
          f"{figures['anonymous_seconds']:.1f}s on moto)")  # fmt: skip
    print("    /track requests per page view: 1 (plus an engagement beacon on ~60 % of pages: no write)")
    print(f"    DynamoDB requests per beacon: {requests:.2f} (one UpdateItem), write units per beacon: {units:.2f}")
    growth = ", ".join(f"{n} views: {figures['units_at'][n]} WU" for n in (1, 10, 20, 30, 40, 50))
    print(f"    write units of the append as a visitor grows (item size bound, MAX_VIEWS=50): {growth}")
    print(f"    a crawler's beacon: {figures['bot'][0]} requests, {figures['bot'][1]} write units (dropped)")
    stitch_requests, stitch_units = figures["stitch"]
    scored = figures["stitched"].scored if figures["stitched"] else 0
    print(f"  stitching a visitor with {views} anonymous views: {scored} views scored, {stitch_requests} DynamoDB "
          f"requests, {stitch_units} write units; by operation: {figures['stitch_requests']}")  # fmt: skip
    print(f"    the same form redelivered: {figures['again'][0]} requests, {figures['again'][1]} write units, "
          f"nothing scored twice; visitors of the lead: {len(figures['lead_visitors'])}")  # fmt: skip
    track_requests, track_units = figures["known_track"]
    print(f"  known visitor's page view: /track {track_requests} DynamoDB request ({track_units} WU, a failed "
          f"condition that says 'linked'), {figures['known_sqs']} SQS request; the scorer: "
          f"{figures['known_score'][0]} request, {figures['known_score'][1]} WU")  # fmt: skip

    import_ms, compile_ms, fresh_us, repeat_us = bot_check_cost()
    print(f"  bot list (crawlerdetect + ours): import {import_ms:.0f} ms, compiled on first use in {compile_ms:.0f} ms;"
          f" {fresh_us:.0f} µs per new user agent, {repeat_us:.2f} µs per repeated one (cached)")  # fmt: skip

    lambda_per_beacon = (
        LAMBDA_REQUESTS_PER_MILLION + TRACK_MEMORY_GB * TRACK_BILLED_MS / 1000 * LAMBDA_ARM_GB_SECOND * 1e6
    )
    engagement_share = BEACONS_PER_PAGE_VIEW - 1
    dynamodb = units * DYNAMODB_WRITE_UNITS_PER_MILLION
    url_cost = BEACONS_PER_PAGE_VIEW * lambda_per_beacon + dynamodb
    api_cost = url_cost + BEACONS_PER_PAGE_VIEW * HTTP_API_PER_MILLION
    print("  cost per million anonymous page views (list prices, us-east-1):")
    print(f"    Lambda: {BEACONS_PER_PAGE_VIEW} beacons x (${LAMBDA_REQUESTS_PER_MILLION:.2f} + "
          f"{TRACK_MEMORY_GB} GB x {TRACK_BILLED_MS} ms x ${LAMBDA_ARM_GB_SECOND}/GB-s) = "
          f"${BEACONS_PER_PAGE_VIEW * lambda_per_beacon:.3f}")  # fmt: skip
    print(f"    DynamoDB: {units:.2f} WU x ${DYNAMODB_WRITE_UNITS_PER_MILLION} = ${dynamodb:.3f} "
          f"(engagement beacons write nothing: {engagement_share:.1f} of them per view)")  # fmt: skip
    print(f"    via the function URL (TrackFunctionUrl): ${url_cost:.2f} per million page views")
    print(f"    via the HTTP API route (+ {BEACONS_PER_PAGE_VIEW} x ${HTTP_API_PER_MILLION:.2f}): ${api_cost:.2f}")
    per_view_known = (figures["known_sqs"] * SQS_PER_MILLION + (track_units + figures["known_score"][1])
                      * DYNAMODB_WRITE_UNITS_PER_MILLION)  # fmt: skip
    print(
        f"    a known lead's page view adds SQS + the scorer's write: +${per_view_known:.2f} per million "
        "(plus the scorer's Lambda time)"
    )
