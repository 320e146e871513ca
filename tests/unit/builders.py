"""Test-data builders: small scoring models, events and services made in code, with sensible defaults.

Every builder takes keyword overrides, so a test states only what matters to it.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from leadscore.adapters.memory import InMemoryLeadStore, InMemoryPublisher, InMemoryQueue
from leadscore.core.alerts import AlertMessage
from leadscore.core.rules import CompiledModel, compile_model
from leadscore.core.scoring import EventFacts, ScoreResult, facts_from_event, new_state, score_event
from leadscore.core.state import ScoreState
from leadscore.errors import PublishFailed, StoreUnavailable
from leadscore.models.events import EventType, LeadEvent, Scalar
from leadscore.models.model_files import load_model_file
from leadscore.models.scoring_model import ScoringModel
from leadscore.services.alert_sender import AlertSender, Sent
from leadscore.services.ingest import IngestService
from leadscore.services.scoring import ScoringService
from leadscore.sources.base import WebhookRequest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL_FILE = REPO_ROOT / "scoring" / "default.yaml"
PEPPER = b"unit-test-pepper"
LEASE_SECONDS = 60

# ---- Time -------------------------------------------------------------------------------------------------

DAY = 24 * 3600
HOUR = 3600


def epoch(year: int = 2026, month: int = 11, day: int = 23, hour: int = 9, minute: int = 0) -> int:
    """Unix seconds for a UTC wall-clock time (2026-11-23 is a Monday, ISO week 48)."""
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp())


MONDAY = epoch()  # 2026-11-23 09:00 UTC


def days_after(start: int, days: float) -> int:
    return start + int(days * DAY)


def as_datetime(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@dataclass
class FakeClock:
    """An injectable clock that only moves when a test moves it."""

    now: int = MONDAY

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: int) -> None:
        self.now += seconds

    def as_datetime(self) -> datetime:
        return as_datetime(self.now)


# ---- Scoring models ---------------------------------------------------------------------------------------


def a_condition(field: str, **operator: Any) -> dict[str, Any]:
    return {"field": field, **operator}


def a_fit_rule(rule_id: str, points: float, *when: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": rule_id, "points": points, "when": list(when), **extra}


def an_engagement_rule(
    rule_id: str,
    points: float,
    event: str | list[str],
    *when: dict[str, Any],
    cap: tuple[float, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    rule: dict[str, Any] = {"id": rule_id, "points": points, "event": event, "when": list(when), **extra}
    if cap is not None:
        rule["cap"] = {"points": cap[0], "per": cap[1]}
    return rule


def a_model_document(**overrides: Any) -> dict[str, Any]:
    """A small, valid model as the dict a YAML file would hold; top-level keys can be overridden."""
    document: dict[str, Any] = {
        "id": "test",
        "version": "1",
        "name": "Test model",
        "thresholds": {"mql": 20, "sql": 50},
        "rearm_margin": 10,
        "bands": {
            "fit": [{"name": "A", "min": 20}, {"name": "B", "min": 10}, {"name": "C"}],
            "engagement": [{"name": "1", "min": 30}, {"name": "2", "min": 10}, {"name": "3"}],
        },
        "fit_rules": [
            a_fit_rule("exec_title", 20, a_condition("job_title", matches=r"\b(vp|ceo|cto)\b")),
            a_fit_rule("mid_size", 10, a_condition("company_size", between=[50, 2000])),
            a_fit_rule("webmail", -15, a_condition("email_domain", one_of=["gmail.com"])),
        ],
        "engagement_rules": [
            an_engagement_rule("demo_request", 30, "form_submitted", a_condition("form_id", equals="demo")),
            an_engagement_rule("whitepaper", 5, "form_submitted", a_condition("form_id", equals="paper")),
            an_engagement_rule("email_open", 1, "email_opened", cap=(3, "day")),
            an_engagement_rule("email_click", 4, "email_clicked", cap=(12, "day")),
            an_engagement_rule(
                "product_page",
                3,
                "page_viewed",
                a_condition("page_url", contains="/product"),
                cap=(9, "week"),
            ),
            an_engagement_rule("pricing_page", 5, "page_viewed", a_condition("page_url", contains="/pricing")),
            an_engagement_rule("blog", 1, "page_viewed", a_condition("page_url", contains="/blog"), cap=(2, "month")),
            an_engagement_rule("hard_bounce", -20, "email_bounced"),
            an_engagement_rule("unsubscribed", -15, "email_unsubscribed"),
        ],
    }
    document.update(overrides)
    return document


def a_scoring_model(**overrides: Any) -> ScoringModel:
    return ScoringModel.model_validate(a_model_document(**overrides))


def a_model(**overrides: Any) -> CompiledModel:
    """A small compiled model (see `a_model_document` for the rules); override any top-level key."""
    return compile_model(a_scoring_model(**overrides))


@cache
def the_default_model() -> CompiledModel:
    """scoring/default.yaml, loaded and compiled exactly as the deployed scorer does."""
    return compile_model(load_model_file(DEFAULT_MODEL_FILE))


# ---- Events -----------------------------------------------------------------------------------------------

_ids = itertools.count(1)


def next_event_id(prefix: str = "evt") -> str:
    return f"{prefix}-{next(_ids)}"


def a_lead_event(
    type: str | EventType = EventType.PAGE_VIEWED,
    *,
    email: str = "ada@analytical.example",
    at: int = MONDAY,
    event_id: str | None = None,
    source: str = "test",
    attributes: dict[str, Scalar] | None = None,
    properties: dict[str, Scalar] | None = None,
    received_at: int | None = None,
) -> LeadEvent:
    return LeadEvent(
        event_id=event_id or next_event_id(),
        source=source,
        type=EventType(type),
        occurred_at=as_datetime(at),
        received_at=as_datetime(received_at if received_at is not None else at),
        email=email,
        attributes=attributes or {},
        properties=properties or {},
    )


def a_form_event(
    *,
    email: str = "ada@analytical.example",
    form_id: str = "contact",
    title: str | None = None,
    size: int | str | None = None,
    company: str | None = None,
    industry: str | None = None,
    country: str | None = None,
    page_url: str | None = None,
    at: int = MONDAY,
    event_id: str | None = None,
    **attributes: Scalar,
) -> LeadEvent:
    """A form submission: what the lead told us becomes attributes, the form and page become properties."""
    told: dict[str, Scalar] = {
        "job_title": title,
        "company_size": size,
        "company": company,
        "industry": industry,
        "country": country,
        **attributes,
    }
    properties: dict[str, Scalar] = {"form_id": form_id}
    if page_url is not None:
        properties["page_url"] = page_url
    return a_lead_event(
        EventType.FORM_SUBMITTED,
        email=email,
        at=at,
        event_id=event_id,
        source="forms",
        attributes={key: value for key, value in told.items() if value is not None},
        properties=properties,
    )


def an_email_event(
    type: str | EventType = EventType.EMAIL_OPENED,
    *,
    email: str = "ada@analytical.example",
    at: int = MONDAY,
    event_id: str | None = None,
    **properties: Scalar,
) -> LeadEvent:
    return a_lead_event(type, email=email, at=at, event_id=event_id, source="sendgrid", properties=properties)


def a_page_view(
    url: str = "https://www.example.com/product",
    *,
    email: str = "ada@analytical.example",
    at: int = MONDAY,
    event_id: str | None = None,
) -> LeadEvent:
    return a_lead_event(EventType.PAGE_VIEWED, email=email, at=at, event_id=event_id, properties={"page_url": url})


def facts(event: LeadEvent) -> EventFacts:
    return facts_from_event(event)


# ---- Scoring ----------------------------------------------------------------------------------------------


def a_new_lead(model: CompiledModel, lead_id: str = "lead000001") -> ScoreState:
    return new_state(lead_id, model)


def score(event: LeadEvent, model: CompiledModel, state: ScoreState, *, now: int | None = None) -> ScoreResult:
    """score_event with the event's own time as `now` unless told otherwise."""
    facts_ = facts_from_event(event)
    return score_event(
        facts_,
        model,
        state,
        now=now if now is not None else facts_.occurred_at,
        alert_lease_seconds=LEASE_SECONDS,
    )


def score_all(
    events: Iterable[LeadEvent], model: CompiledModel, state: ScoreState | None = None
) -> tuple[ScoreState, list[ScoreResult]]:
    """Apply events in order; the final state and every result."""
    current = state or a_new_lead(model)
    results: list[ScoreResult] = []
    for event in events:
        result = score(event, model, current)
        results.append(result)
        current = result.state
    return current, results


# ---- Services ---------------------------------------------------------------------------------------------


@dataclass
class InMemoryAlertHop:
    """The alert path after the scorer, in memory: the FIFO queue (a copy of an alert id sent within
    `dedup_seconds` of the first is dropped, whether or not the first was consumed) and the real AlertSender
    publishing to `sns`. Each hand-off is sent at once; what the sender could not send stays queued for
    `redeliver()`. `published` is what sales received; `fail_next` makes SNS fail like an outage."""

    store: InMemoryLeadStore
    clock: FakeClock
    sns: InMemoryPublisher = field(default_factory=InMemoryPublisher)
    dedup_seconds: int = 300
    handed_off: list[AlertMessage] = field(default_factory=list)  # every hand-off the queue accepted
    queued: list[AlertMessage] = field(default_factory=list)
    results: list[Sent] = field(default_factory=list)
    _first_sent: dict[str, int] = field(default_factory=dict)

    @property
    def published(self) -> list[AlertMessage]:
        return self.sns.published

    @property
    def fail_next(self) -> int:
        return self.sns.fail_next

    @fail_next.setter
    def fail_next(self, count: int) -> None:
        self.sns.fail_next = count

    def publish(self, message: AlertMessage) -> str:
        now = self.clock()
        first = self._first_sent.get(message.alert_id)
        if first is not None and now - first < self.dedup_seconds:
            return f"dedup-{message.alert_id}"
        self._first_sent[message.alert_id] = now
        self.handed_off.append(message)
        self.queued.append(message)
        self.redeliver()
        return f"queued-{len(self.handed_off)}"

    def redeliver(self) -> None:
        sender = AlertSender(outbox=self.store, publisher=self.sns, clock=self.clock, pause=lambda _: None)
        for message in list(self.queued):
            try:
                self.results.append(sender.send(message))
            except (PublishFailed, StoreUnavailable):
                continue  # stays queued: SQS redelivers after the visibility timeout
            self.queued.remove(message)


@dataclass
class ScoringRig:
    """A ScoringService wired to in-memory fakes, with handles on each fake."""

    service: ScoringService
    store: InMemoryLeadStore
    publisher: InMemoryAlertHop
    clock: FakeClock
    models: Sequence[CompiledModel] = field(default_factory=tuple)


def a_scoring_rig(
    *models: CompiledModel,
    clock: FakeClock | None = None,
    store: InMemoryLeadStore | None = None,
    lease_seconds: int = LEASE_SECONDS,
) -> ScoringRig:
    clock = clock or FakeClock()
    store = store or InMemoryLeadStore()
    publisher = InMemoryAlertHop(store, clock)
    chosen = models or (the_default_model(),)
    service = ScoringService(
        scores=store,
        profiles=store,
        publisher=publisher,
        models=chosen,
        pepper=PEPPER,
        clock=clock,
        alert_lease_seconds=lease_seconds,
    )
    return ScoringRig(service, store, publisher, clock, chosen)


def points(value: float | str) -> Decimal:
    return Decimal(str(value))


def shifted(at: int, *, hours: float = 0, days: float = 0) -> int:
    return at + int(timedelta(hours=hours, days=days).total_seconds())


Builder = Callable[..., LeadEvent]


# ---- Webhooks ---------------------------------------------------------------------------------------------

FORMS_KEY = b"whsec-current-0123456789"
PREVIOUS_FORMS_KEY = b"whsec-previous-9876543210"
OMIT: Any = object()  # leave this key or header out entirely


def a_form_submission(**overrides: Any) -> dict[str, Any]:
    """A generic-form payload (docs/contracts.md); pass OMIT to drop a key."""
    document: dict[str, Any] = {
        "submission_id": "sub_8f1c2",
        "form_id": "demo-request",
        "email": "ada@analytical.example",
    }
    document.update(overrides)
    return {key: value for key, value in document.items() if value is not OMIT}


def signature_for(body: bytes, timestamp: int, key: bytes = FORMS_KEY) -> str:
    """`v1=<hex HMAC-SHA256(key, "<timestamp>." + raw body)>`, as docs/contracts.md specifies."""
    return "v1=" + hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def body_of(payload: Any) -> bytes:
    return payload if isinstance(payload, bytes) else json.dumps(payload).encode()


def a_webhook_request(
    payload: Any = None,
    *,
    key: bytes = FORMS_KEY,
    timestamp: Any = None,
    signature: Any = None,
    content_type: Any = "application/json",
    path: str = "/webhooks/forms",
) -> WebhookRequest:
    """A signed request for `payload` (a dict/list is JSON-encoded, bytes are sent as they are).

    `timestamp` defaults to MONDAY (the tests' clock); `signature` defaults to a correct one for the body.
    Pass OMIT to leave a header out, or a string to send it as it is.
    """
    body = body_of(a_form_submission() if payload is None else payload)
    stamp = MONDAY if timestamp is None else timestamp
    headers: dict[str, str] = {}
    if stamp is not OMIT:
        headers["x-leadscore-timestamp"] = str(stamp)
    if signature is None:
        signature = signature_for(body, stamp if isinstance(stamp, int) else MONDAY, key)
    if signature is not OMIT:
        headers["x-leadscore-signature"] = signature
    if content_type is not OMIT:
        headers["content-type"] = content_type
    return WebhookRequest(method="POST", path=path, headers=headers, body=body)


@dataclass
class IngestRig:
    service: IngestService
    queue: InMemoryQueue
    clock: FakeClock


def an_ingest_rig(
    *,
    keys: Sequence[bytes] = (FORMS_KEY, PREVIOUS_FORMS_KEY),
    tolerance_seconds: int = 300,
    clock: FakeClock | None = None,
) -> IngestRig:
    clock = clock or FakeClock()
    queue = InMemoryQueue()
    service = IngestService(
        queue=queue,
        keys_for=lambda source: list(keys),
        clock=clock.as_datetime,
        tolerance_seconds=tolerance_seconds,
    )
    return IngestRig(service, queue, clock)
