"""The fault scenarios' workload (N events over M leads) and what the end state must be.

Expected figures come from the pure core: every lead's unique events applied once, in time order, to a new
state. Scores here only rise (no decay within the run), so the order the queue delivers them in does not
change the totals, and each lead crosses the sales threshold at most once.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3

from leadscore import clock
from leadscore.core.identity import lead_id_for
from leadscore.core.rules import CompiledModel, compile_model
from leadscore.core.scoring import facts_from_event, new_state, score_event
from leadscore.models.events import EventType, LeadEvent
from leadscore.models.model_files import load_models
from local.stack import ROOT, EmulatedStack
from tests.integration.faults import delivered_alerts, dlq_messages, duplicates

TITLES = ["VP Engineering", "Head of Data", "CTO", "Engineering Manager"]
FORMS = ["case-study-download", "webinar-registration", "whitepaper-download", "newsletter-signup", "demo-request"]


def compiled_models() -> list[CompiledModel]:
    return [compile_model(model) for model in load_models(ROOT / "scoring").values()]


def workload(events: int = 200, leads: int = 20, seed: int = 7, tag: str = "w") -> list[LeadEvent]:
    """`events` events over `leads` leads: each lead's first event is a form with who they are; the rest are
    forms, opens and clicks on one day (caps apply), shuffled, so some leads cross the sales threshold."""
    rng = random.Random(seed)
    start = clock.now().replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=1)
    out: list[LeadEvent] = []
    per_lead = events // leads
    for lead in range(leads):
        email = f"lead{lead}-{tag}@target-{lead}.example"
        attributes = {"first_name": f"Lead{lead}", "last_name": "Tester", "company": f"Target {lead}",
                      "job_title": TITLES[lead % len(TITLES)], "company_size": 250, "industry": "Software",
                      "country": "GB"}  # fmt: skip
        for index in range(per_lead):
            at = start + timedelta(minutes=lead, seconds=index)
            if index == 0:
                kind, props, attrs = EventType.FORM_SUBMITTED, {"form_id": "whitepaper-download"}, attributes
            else:
                kind = rng.choice([EventType.FORM_SUBMITTED, EventType.EMAIL_OPENED, EventType.EMAIL_CLICKED])
                props = {"form_id": rng.choice(FORMS)} if kind is EventType.FORM_SUBMITTED else {}
                attrs = {}
            out.append(_form_event(f"{tag}-{lead}-{index}", kind, at, email, attrs, props))
    rng.shuffle(out)
    return out


def crossing_batch(leads: int = 3, tag: str = "x") -> list[LeadEvent]:
    """One scorer batch in which every lead crosses the sales threshold: who they are (60), an open, then a
    demo request (+40). Every point of the alert path is inside the batch."""
    start = clock.now().replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=1)
    out: list[LeadEvent] = []
    for lead in range(leads):
        email = f"lead{lead}-{tag}@target-{lead}.example"
        who = {"first_name": f"Lead{lead}", "job_title": "VP Engineering", "company_size": 250,
               "industry": "Software", "country": "GB"}  # fmt: skip
        steps = [
            (EventType.FORM_SUBMITTED, {"form_id": "whitepaper-download"}, who),
            (EventType.EMAIL_OPENED, {}, {}),
            (EventType.FORM_SUBMITTED, {"form_id": "demo-request"}, {}),
        ]
        for index, (kind, props, attrs) in enumerate(steps):
            at = start + timedelta(minutes=lead, seconds=index)
            out.append(_form_event(f"{tag}-{lead}-{index}", kind, at, email, attrs, props))
    return out


def _form_event(  # noqa: PLR0917 - the fields that differ between the workloads' events
    event_id: str, kind: EventType, at: datetime, email: str, attributes: dict[str, Any], properties: dict[str, Any]
) -> LeadEvent:
    return LeadEvent(event_id=event_id, source="forms", type=kind, occurred_at=at, received_at=at, email=email,
                     attributes=attributes, properties=properties)  # fmt: skip


def enqueue(stack: EmulatedStack, events: list[LeadEvent]) -> None:
    sqs = boto3.client("sqs")
    url = stack.physical("LeadEventsQueue")
    for start in range(0, len(events), 10):
        entries: list[Any] = [
            {"Id": str(i), "MessageBody": event.model_dump_json()} for i, event in enumerate(events[start : start + 10])
        ]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


@dataclass
class Expected:
    totals: dict[tuple[str, str], Decimal]  # (lead id, model id) -> total
    crossings: Counter[str] = field(default_factory=Counter)  # lead id -> alerts owed (all models)


def expected(events: list[LeadEvent], pepper: bytes, models: list[CompiledModel]) -> Expected:
    """The pure core applied once to each lead's unique events, in time order."""
    now = clock.now_epoch()
    by_lead: dict[str, list[LeadEvent]] = {}
    for event in {event.event_id: event for event in events}.values():
        by_lead.setdefault(lead_id_for(event.email, pepper), []).append(event)
    totals: dict[tuple[str, str], Decimal] = {}
    crossings: Counter[str] = Counter()
    for lead_id, lead_events in by_lead.items():
        for model in models:
            state = new_state(lead_id, model)
            for event in sorted(lead_events, key=lambda e: (e.occurred_at, e.event_id)):
                result = score_event(facts_from_event(event), model, state, now=now, alert_lease_seconds=60)
                state = result.state
                crossings[lead_id] += int(result.new_alert is not None)
            totals[(lead_id, model.id)] = state.total
    return Expected(totals, crossings)


@dataclass
class EndState:
    """What a scenario ended with, for assertions and for the printed measurements."""

    wrong_totals: list[tuple[str, str, Any, Any]]
    alerts_owed: int
    alerts_delivered: int
    duplicate_alerts: int
    missing_alerts: int
    lead_events_dlq: int
    pending_outboxes: int


def end_state(stack: EmulatedStack, want: Expected, delivered: Counter[str] | None = None) -> EndState:
    delivered = delivered if delivered is not None else delivered_alerts(stack)
    items = {(str(item["pk"]).removeprefix("LEAD#"), str(item["sk"]).removeprefix("SCORE#")): item
             for item in stack.score_items()}  # fmt: skip
    wrong = [
        (lead[:10], model, total, items.get((lead, model), {}).get("total"))
        for (lead, model), total in want.totals.items()
        if items.get((lead, model), {}).get("total") != total
    ]
    owed = sum(want.crossings.values())
    delivered_leads: Counter[str] = Counter()
    for alert_id in delivered:
        delivered_leads[alert_id.split("-", 1)[0]] += 1  # alert ids start with the lead id's first 10 chars
    missing = sum(max(0, count - delivered_leads[lead[:10]]) for lead, count in want.crossings.items())
    return EndState(
        wrong_totals=wrong,
        alerts_owed=owed,
        alerts_delivered=sum(delivered.values()),
        duplicate_alerts=duplicates(delivered),
        missing_alerts=missing,
        lead_events_dlq=len(dlq_messages(stack, "LeadEventsDLQ")),
        pending_outboxes=sum(1 for item in items.values() if "pending" in item),
    )


def pepper_of(stack: EmulatedStack) -> bytes:
    from leadscore.adapters.secrets import pepper  # noqa: PLC0415 - the handlers' own reading of the secret

    return pepper(stack.physical("LeadIdPepperSecret"))
