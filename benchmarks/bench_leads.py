"""Leads API reads: DynamoDB requests and read units per GET /leads/{ref} (target: one Query) and per hot-list
page, through the real LeadsService and DynamoLeadsReader on moto (tables from template.yaml).

moto reports a constant consumed capacity, so a Query is priced here by AWS's rule: the summed size of the
items it returned, ceil(size / 4 KB) units, half for an eventually consistent read (the API's reads are).
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from benchmarks.bench_track import emulated
from benchmarks.capacity import READ_UNIT_BYTES, item_size
from leadscore.adapters.dynamodb import DynamoLeadStore
from leadscore.adapters.feedback_marks import awaiting_partition
from leadscore.adapters.lead_reads import DynamoLeadsReader
from leadscore.adapters.memory import InMemoryPublisher
from leadscore.adapters.score_item import RuleKeys, to_item
from leadscore.adapters.sqs import SqsEventQueue
from leadscore.core.identity import lead_id_for
from leadscore.core.rules import compile_model
from leadscore.core.state import ScoreState, Stage
from leadscore.models.events import EventType, LeadEvent
from leadscore.models.leads_api import FeedbackRequest, Outcome
from leadscore.models.model_files import load_model_file
from leadscore.services.leads import LeadsService
from leadscore.services.scoring import ScoringService
from local.cfn import Template
from local.stack import ROOT

PEPPER = b"benchmark-pepper"
NOW = int(datetime(2026, 12, 1, 12, tzinfo=UTC).timestamp())
EMAIL = "ada@analytical-engines.example"
# What a form usually tells about a lead (the hot list's rows read name, company and title from the profile).
PROFILE = {
    "first_name": "Ada", "last_name": "Lovelace", "company": "Analytical Engines", "job_title": "VP Engineering",
    "company_size": "250", "industry": "Software", "country": "GB", "phone": "+44 20 7946 0000",
}  # fmt: skip


class QueryMeter:
    """Counts Query/GetItem requests on one client and prices each by the items it returned."""

    def __init__(self, client: Any) -> None:
        self.requests = 0
        self.read_units = 0.0
        self.batch_gets = 0  # BatchGetItem requests (the list rows' names), counted in `requests` too
        client.meta.events.register("after-call.dynamodb", self._after)

    def _after(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        if model.name == "BatchGetItem":  # priced per item read (each a small profile, projected)
            self.requests += 1
            self.batch_gets += 1
            items = [item for found in parsed.get("Responses", {}).values() for item in found]
            self.read_units += sum(max(1, math.ceil(item_size(item) / READ_UNIT_BYTES)) / 2 for item in items)
            return
        if model.name not in {"Query", "GetItem"}:
            return
        self.requests += 1
        items = parsed.get("Items") or ([parsed["Item"]] if parsed.get("Item") else [])
        size = sum(item_size(item) for item in items)
        self.read_units += max(1, math.ceil(size / READ_UNIT_BYTES)) / 2  # eventually consistent

    def take(self) -> tuple[int, float]:
        taken = (self.requests, self.read_units)
        self.requests, self.read_units = 0, 0.0
        return taken


def _score_a_busy_lead(template: Template, client: Any, model: Any) -> None:
    store = DynamoLeadStore(client, template.physical["LeadsTable"].ref, [model])
    scoring = ScoringService(store, store, InMemoryPublisher(), [model], PEPPER, clock=lambda: NOW)
    base = datetime.fromtimestamp(NOW, UTC) - timedelta(days=10)
    attributes = {"job_title": "VP Engineering", "company_size": 250, "industry": "Software", "country": "GB"}
    events = [("form_submitted", {"form_id": form}) for form in ("whitepaper-download", "demo-request", "webinar")]
    events += [("email_opened", {"campaign": f"c{i}"}) for i in range(10)]
    events += [("email_clicked", {"campaign": f"c{i}", "link_url": "https://x.example/pricing"}) for i in range(5)]
    for index, (kind, properties) in enumerate(events):
        at = base + timedelta(hours=index * 7)
        event = LeadEvent(
            event_id=f"e{index}", source="forms", type=EventType(kind), occurred_at=at, received_at=at,
            email=EMAIL, attributes=attributes if index == 0 else {}, properties=properties,
        )  # fmt: skip
        scoring.process(event)


def _seed_hot_list(template: Template, client: Any, model: Any, count: int) -> None:
    keys = RuleKeys(model.rule_ids)
    rng = random.Random(7)
    for n in range(count):
        total = Decimal(rng.randrange(50, 200))
        stage = Stage.SQL if total >= 100 else Stage.MQL
        state = ScoreState(lead_id=lead_id_for(f"l{n}@example.com", PEPPER), model_id=model.id,
                           model_version=model.version, version=1, fit=total / 2, engagement=total / 2,
                           total=total, stage=stage)  # fmt: skip
        client.put_item(TableName=template.physical["LeadsTable"].ref, Item=to_item(state, keys))
        profile = {"pk": {"S": f"LEAD#{state.lead_id}"}, "sk": {"S": "PROFILE"}, "email": {"S": f"l{n}@example.com"}}
        profile |= {name: {"S": value} for name, value in PROFILE.items()}
        client.put_item(TableName=template.physical["LeadsTable"].ref, Item=profile)


def main(*, quick: bool = False) -> None:
    model = compile_model(load_model_file(ROOT / "scoring" / "default.yaml"))
    hot_leads = 400 if quick else 2000
    with emulated() as (template, (client, sqs), _meter, _sqs_requests):
        _score_a_busy_lead(template, client, model)
        _seed_hot_list(template, client, model, hot_leads)
        meter = QueryMeter(client)
        reader = DynamoLeadsReader(client, template.physical["LeadsTable"].ref, [model])
        queue = SqsEventQueue(sqs, template.physical["LeadEventsQueue"].ref)
        service = LeadsService(reader, queue, [model], PEPPER, clock=lambda: NOW)
        for index, outcome in enumerate((Outcome.ACCEPTED, Outcome.WON)):
            money = {"amount": Decimal(1200), "currency": "EUR"} if outcome is Outcome.WON else {}
            service.record_feedback(EMAIL, FeedbackRequest(outcome=outcome, **money), f"bench-key-{index}", "bench")
        meter.take()
        view = service.lead(EMAIL)
        requests, units = meter.take()
        rules = len(view.models[0].breakdown)
        print(f"  GET /leads/{{ref}}: {requests} request ({requests} Query), {units:.1f} read units "
              f"(profile + score item with {rules} rules + {len(view.feedback)} outcomes)")  # fmt: skip
        pages, cursor, listed = 0, None, 0
        page_requests, page_units = [], []
        while True:
            page = service.hot_list(model_id=model.id, stages=[Stage.SQL, Stage.MQL], band=None, min_total=None,
                                    limit=25, cursor=cursor)  # fmt: skip
            requests, units = meter.take()
            page_requests.append(requests)
            page_units.append(units)
            pages += 1
            listed += len(page.items)
            cursor = page.cursor
            if cursor is None or pages >= 20:
                break
        print(f"  GET /leads (hot list, limit 25, {hot_leads} MQL/SQL leads, 2 stages x 4 shards): "
              f"{sum(page_requests) / pages:.1f} requests (1 of them a BatchGetItem for the rows' names) and "
              f"{sum(page_units) / pages:.1f} read units per page on average over {pages} pages ({listed} leads); "
              f"first page {page_requests[0]} requests, {page_units[0]:.1f} units")  # fmt: skip
        _bench_awaiting(template, client, model, service, meter, quick=quick)


def _bench_awaiting(
    template: Template, client: Any, model: Any, service: LeadsService, meter: Any, *, quick: bool
) -> None:
    """GET /leads?awaiting_feedback=true over leads marked as complete_alert marks them (feedback SLA)."""
    table = template.physical["LeadsTable"].ref
    count = 200 if quick else 1000
    keys = RuleKeys(model.rule_ids)
    for n in range(count):
        lead_id = lead_id_for(f"alerted{n}@example.com", PEPPER)
        state = ScoreState(lead_id=lead_id, model_id=model.id, model_version=model.version, version=1,
                           fit=Decimal(60), engagement=Decimal(50), total=Decimal(110), stage=Stage.SQL,
                           alerts_sent=1, last_alert_at=NOW - n * 60)  # fmt: skip
        item = to_item(state, keys)
        item["fb_pk"] = {"S": awaiting_partition(model.id, reported=n % 3 == 0)}
        client.put_item(TableName=table, Item=item)
    meter.take()
    pages, cursor, listed, requests, units = 0, None, 0, 0, 0.0
    while pages < 10:
        page = service.awaiting_feedback(model_id=model.id, limit=25, cursor=cursor)
        taken = meter.take()
        requests, units, pages, listed = requests + taken[0], units + taken[1], pages + 1, listed + len(page.items)
        cursor = page.cursor
        if cursor is None:
            break
    print(f"  GET /leads?awaiting_feedback=true (limit 25, {count} alerts awaiting feedback, 2 partitions): "
          f"{requests / pages:.1f} requests and {units / pages:.1f} read units per page over {pages} pages "
          f"({listed} leads)")  # fmt: skip
