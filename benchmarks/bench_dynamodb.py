"""DynamoDB request units per scored event: our conditional single write vs a naive read-modify-write.

Runs the real ScoringService and DynamoLeadStore against moto (in-process), with the table built from
template.yaml, over a realistic stream: 300 leads (60 with --quick), each arriving through a form and then opening and
clicking emails, viewing pages and submitting more forms over 30 days, with 2% redeliveries. Requests are
counted from botocore events and priced by AWS's item-size rule (moto's consumed capacity is a constant).
"""

from __future__ import annotations

import os
import random
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import boto3
from moto import mock_aws

from benchmarks.capacity import CapacityMeter, item_size
from leadscore.adapters.dynamodb import DynamoLeadStore
from leadscore.adapters.memory import InMemoryPublisher
from leadscore.adapters.score_item import RuleKeys, from_item, score_key, to_item
from leadscore.core.identity import lead_id_for
from leadscore.core.rules import CompiledModel, compile_model
from leadscore.core.scoring import Outcome, facts_from_event, new_state, score_event
from leadscore.models.events import LeadEvent
from leadscore.models.model_files import load_model_file
from leadscore.services.scoring import ScoringService
from local.cfn import Template
from local.emulator import create_resources

ROOT = Path(__file__).resolve().parents[1]
PEPPER = b"benchmark-pepper"
TITLES = ["VP Marketing", "Head of Sales Operations", "Marketing Manager", "Software Engineer", "CTO", "Student"]
SIZES = [8, 45, 250, 900, 3000, 12000]
INDUSTRIES = ["Software", "Financial Services", "Retail", "Healthcare", "Education"]
FORMS = ["demo-request", "whitepaper-download", "webinar-registration", "newsletter-signup", "case-study-download"]
PAGES = ["/pricing", "/product/scoring", "/customers", "/about", "/blog/lead-scoring-101", "/careers"]


def realistic_stream(leads: int, events_per_lead: int, seed: int = 11) -> list[LeadEvent]:
    """Each lead's first event is a form submission with attributes; the rest interleave over 30 days."""
    rng = random.Random(seed)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    stream: list[tuple[datetime, LeadEvent]] = []
    for lead in range(leads):
        email = f"person{lead}@company{lead % 400}.example"
        profile: dict[str, Any] = {
            "first_name": "Pat",
            "last_name": f"Lead{lead}",
            "company": f"Company {lead % 400}",
            "job_title": rng.choice(TITLES),
            "company_size": rng.choice(SIZES),
            "industry": rng.choice(INDUSTRIES),
            "country": rng.choice(["US", "GB", "DE", "FR", "BR"]),
        }
        at = start + timedelta(minutes=rng.randrange(60 * 24 * 3))
        for step in range(events_per_lead):
            kind = (
                "form_submitted"
                if step == 0
                else rng.choices(
                    ["email_opened", "email_clicked", "page_viewed", "form_submitted", "email_delivered"],
                    [40, 15, 25, 8, 12],
                )[0]
            )
            properties: dict[str, Any] = {}
            attributes: dict[str, Any] = {}
            if kind == "form_submitted":
                properties = {"form_id": rng.choice(FORMS), "page_url": f"https://www.example.com{rng.choice(PAGES)}"}
                if step and rng.random() < 0.1:  # now and then a lead updates their title
                    profile["job_title"] = rng.choice(TITLES)
                attributes = dict(profile)
            elif kind == "page_viewed":
                properties = {"page_url": f"https://www.example.com{rng.choice(PAGES)}"}
            elif kind in {"email_opened", "email_clicked"}:
                properties = {"campaign_id": f"nurture-{step % 4}"}
                if kind == "email_clicked":
                    properties["link_url"] = f"https://www.example.com{rng.choice(PAGES)}"
            event = LeadEvent(
                event_id=f"evt-{lead}-{step}",
                source="bench",
                type=kind,
                occurred_at=at,
                received_at=at,
                email=email,
                attributes=attributes,
                properties=properties,
            )
            stream.append((at, event))
            at += timedelta(hours=rng.expovariate(1 / 40))
    stream.sort(key=lambda pair: pair[0])
    events = [event for _, event in stream]
    for index in rng.sample(range(len(events)), k=len(events) // 50):  # redeliveries (SQS is at-least-once)
        events.insert(min(len(events), index + rng.randrange(1, 50)), events[index])
    return events


@contextmanager
def emulated_table() -> Iterator[tuple[str, Any, CapacityMeter]]:
    """moto in-process, resources from template.yaml; yields (table, metered client, meter)."""
    # moto's own credentials and region, and no endpoint override (the local runner sets one): restored after.
    fake = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    with patch.dict(os.environ, fake), mock_aws():
        os.environ.pop("AWS_ENDPOINT_URL", None)
        template = Template(ROOT / "template.yaml")
        create_resources(template)
        table = template.physical["LeadsTable"].ref
        peek_client = boto3.client("dynamodb")
        metered = boto3.client("dynamodb")

        def peek(table_name: str, key: dict[str, Any]) -> dict[str, Any] | None:
            item: dict[str, Any] | None = peek_client.get_item(TableName=table_name, Key=key, ConsistentRead=True).get(
                "Item"
            )
            return item

        meter = CapacityMeter(peek=peek)
        meter.attach(metered)
        yield table, metered, meter


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def run_ours(events: list[LeadEvent], model: CompiledModel) -> dict[str, Any]:
    """The real service: one conditional UpdateItem per event, falling back to the exact path."""
    now = [0]
    by_path: dict[str, Counter[str]] = defaultdict(Counter)
    with emulated_table() as (table, client, meter):
        store = DynamoLeadStore(client, table, (model,))
        service = ScoringService(
            scores=store,
            profiles=store,
            publisher=InMemoryPublisher(),
            models=(model,),
            pepper=PEPPER,
            clock=lambda: now[0],
            pause=lambda attempt: None,
        )
        seen_leads: set[str] = set()
        for event in events:
            now[0] = _epoch(event.received_at)
            before = meter.snapshot()
            (outcome,) = service.process(event)
            after = meter.snapshot()
            path = outcome.path.value
            if path == "exact" and event.email not in seen_leads:
                path = "exact (new lead)"
            seen_leads.add(event.email)
            _account(by_path[path], before, after)
        sizes = _item_sizes(client, table)
        alerts = len(service.publisher.published)  # type: ignore[attr-defined]
    return {"paths": by_path, "total": _total(by_path), "sizes": sizes, "alerts": alerts}


def run_naive(events: list[LeadEvent], model: CompiledModel) -> dict[str, Any]:
    """Baseline: GetItem (consistent) → score in memory → PutItem. Also unsafe under concurrency."""
    by_path: dict[str, Counter[str]] = defaultdict(Counter)
    keys = RuleKeys(model.rule_ids)
    with emulated_table() as (table, client, meter):
        for event in events:
            before = meter.snapshot()
            lead_id = lead_id_for(event.email, PEPPER)
            key = score_key(lead_id, model.id)
            item = client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
            state = from_item(item, keys) if item else new_state(lead_id, model)
            result = score_event(
                facts_from_event(event), model, state, now=_epoch(event.received_at), alert_lease_seconds=60
            )
            if result.outcome is Outcome.APPLIED:
                client.put_item(TableName=table, Item=to_item(result.state, keys))
            _account(by_path["read-modify-write"], before, meter.snapshot())
    return {"paths": by_path, "total": _total(by_path)}


def _account(counter: Counter[str], before: dict[str, Any], after: dict[str, Any]) -> None:
    counter["events"] += 1
    for operation, count in after["requests"].items():
        counter[operation] += count - before["requests"].get(operation, 0)
    counter["writes"] += sum(counter_delta(before, after, op) for op in ("UpdateItem", "PutItem"))
    counter["reads"] += sum(counter_delta(before, after, op) for op in ("GetItem", "Query"))
    counter["wcu"] += after["write_units"] - before["write_units"]
    counter["rcu_x2"] += round(2 * (after["read_units"] - before["read_units"]))


def counter_delta(before: dict[str, Any], after: dict[str, Any], operation: str) -> int:
    return int(after["requests"].get(operation, 0) - before["requests"].get(operation, 0))


def _total(by_path: dict[str, Counter[str]]) -> Counter[str]:
    total: Counter[str] = Counter()
    for counter in by_path.values():
        total.update(counter)
    return total


def _item_sizes(client: Any, table: str) -> dict[str, list[int]]:
    sizes: dict[str, list[int]] = {"score": [], "profile": []}
    paginator = client.get_paginator("scan")
    for page in paginator.paginate(TableName=table):
        for item in page["Items"]:
            kind = "score" if item["sk"]["S"].startswith("SCORE#") else "profile"
            sizes[kind].append(item_size(item))
    return sizes


def _row(label: str, counter: Counter[str]) -> str:
    events = counter["events"] or 1
    return (
        f"  {label:<20} {counter['events']:>7,} events  {counter['writes'] / events:>5.2f} writes  "
        f"{counter['reads'] / events:>5.2f} reads  {counter['wcu'] / events:>5.2f} WCU  "
        f"{counter['rcu_x2'] / 2 / events:>5.2f} RCU  per event"
    )


def _percentile(values: list[int], fraction: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0


def main(quick: bool = False, say: Callable[[str], None] = print) -> dict[str, float]:
    leads, per_lead = (60, 10) if quick else (300, 12)
    model = compile_model(load_model_file(ROOT / "scoring" / "default.yaml"))
    events = realistic_stream(leads, per_lead)
    ours = run_ours(events, model)
    naive = run_naive(events, model)
    say(f"  {len(events):,} events for {leads:,} leads (default.yaml), by path:")
    for path, counter in sorted(ours["paths"].items(), key=lambda pair: -pair[1]["events"]):
        say(_row(path, counter))
    say(_row("all events (ours)", ours["total"]))
    say(_row("naive baseline", naive["total"]))
    scores, profiles = ours["sizes"]["score"], ours["sizes"]["profile"]
    say(
        f"  score item size: p50 {statistics.median(scores):.0f} B, p95 {_percentile(scores, 0.95)} B, "
        f"max {max(scores)} B ({sum(size > 1024 for size in scores)} of {len(scores)} over 1 KB); "
        f"profile item p50 {statistics.median(profiles):.0f} B; {ours['alerts']} sales alerts"
    )
    total, baseline = ours["total"], naive["total"]
    fast = ours["paths"].get("fast", Counter())
    return {
        "hot path (fast) writes per event": fast["writes"] / max(1, fast["events"]),
        "hot path (fast) reads per event": fast["reads"] / max(1, fast["events"]),
        "hot path (fast) WCU per event": fast["wcu"] / max(1, fast["events"]),
        "fast-path share of events": fast["events"] / max(1, total["events"]),
        "all events WCU per event": total["wcu"] / max(1, total["events"]),
        "all events RCU per event": total["rcu_x2"] / 2 / max(1, total["events"]),
        "naive WCU per event": baseline["wcu"] / max(1, baseline["events"]),
        "naive RCU per event": baseline["rcu_x2"] / 2 / max(1, baseline["events"]),
        "score item p95 bytes": _percentile(scores, 0.95),
        "score item max bytes": max(scores),
    }


if __name__ == "__main__":
    main()
