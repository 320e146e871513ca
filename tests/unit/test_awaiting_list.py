"""GET /leads?awaiting_feedback=true in the service, over a fake index that pages like DynamoDB (sorted by alert
time only, ties in no defined order): complete, ordered, never a lead twice, whatever the page size."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.adapters.feedback_marks import AwaitingAlert, awaiting_partition
from leadscore.adapters.memory import InMemoryQueue
from leadscore.services.leads import BadParameter, LeadsService
from tests.unit.builders import HOUR, MONDAY, PEPPER, the_default_model

SLA_HOURS = 24


@dataclass
class FakeAwaitingIndex:
    """by-awaiting-feedback as DynamoDB serves it: one partition, sort key alert_at, Limit, LastEvaluatedKey."""

    partitions: dict[str, list[AwaitingAlert]] = field(default_factory=dict)
    queries: int = 0
    shuffle: random.Random = field(default_factory=lambda: random.Random(3))

    def add(self, alert: AwaitingAlert, *, reported: bool) -> None:
        self.partitions.setdefault(awaiting_partition(alert.model_id, reported=reported), []).append(alert)

    def awaiting_page(
        self, partition: str, *, from_at: int | None, limit: int, start: Any
    ) -> tuple[list[AwaitingAlert], Any]:
        self.queries += 1
        entries = self.partitions.get(partition, [])
        # Equal sort keys come back in an order of DynamoDB's choosing: not by lead id.
        order = sorted(entries, key=lambda entry: (entry.alert_at, hash((entry.lead_id, "salt")) % 97))
        order = [entry for entry in order if from_at is None or entry.alert_at >= from_at]
        offset = int(start or 0)
        page = order[offset : offset + limit]
        more = offset + limit < len(order)
        return page, (offset + limit if more else None)

    def profiles_for(self, lead_ids: list[str]) -> dict[str, dict[str, Any]]:
        return {lead_id: {"first_name": "Lead", "last_name": lead_id} for lead_id in lead_ids}


def a_service(index: FakeAwaitingIndex, now: int) -> LeadsService:
    return LeadsService(
        store=index,  # type: ignore[arg-type] - only the awaiting-feedback reads are used here
        queue=InMemoryQueue(),
        models=[the_default_model()],
        pepper=PEPPER,
        clock=lambda: now,
        sla_hours=SLA_HOURS,
    )


def an_alert(lead: int, at: int, reported_at: int | None = None) -> AwaitingAlert:
    return AwaitingAlert(f"lead-{lead:03d}", "default", at, reported_at, Decimal(110), "SQL", Decimal(60), Decimal(50))


@settings(max_examples=60, deadline=None)
@given(
    times=st.lists(st.tuples(st.integers(0, 5), st.booleans()), min_size=0, max_size=40),
    limit=st.integers(1, 7),
)
def test_paging_is_complete_ordered_and_never_repeats(times: list[tuple[int, bool]], limit: int) -> None:
    # Given alerts at few distinct times (many ties), some already reported to ops
    index = FakeAwaitingIndex()
    expected = []
    for lead, (hour, reported) in enumerate(times):
        alert = an_alert(lead, MONDAY + hour * HOUR, MONDAY + 30 * HOUR if reported else None)
        index.add(alert, reported=reported)
        expected.append((alert.alert_at, alert.lead_id))
    service = a_service(index, MONDAY + 26 * HOUR)

    # When listed `limit` at a time, following the cursor
    seen: list[str] = []
    cursor = None
    for _ in range(len(times) + 2):
        page = service.awaiting_feedback(model_id="default", limit=limit, cursor=cursor)
        assert len(page.items) <= limit
        seen += [row.lead_id for row in page.items]
        cursor = page.cursor
        if cursor is None:
            break

    # Then every alert once, oldest first (ties by lead id)
    assert seen == [lead for _, lead in sorted(expected)]


def test_rows_say_overdue_reported_and_who() -> None:
    # Given one alert older than the SLA (reported) and one younger
    index = FakeAwaitingIndex()
    index.add(an_alert(1, MONDAY, MONDAY + SLA_HOURS * HOUR), reported=True)
    index.add(an_alert(2, MONDAY + 20 * HOUR), reported=False)
    service = a_service(index, MONDAY + 25 * HOUR)

    # When listed, Then the old one is overdue and reported, the young one neither; rows carry names
    page = service.awaiting_feedback(model_id="default", limit=10, cursor=None)
    rows = [(row.lead_id, row.overdue, row.sla_reported_at is not None, row.name) for row in page.items]
    assert rows == [("lead-001", True, True, "Lead lead-001"), ("lead-002", False, False, "Lead lead-002")]
    assert page.items[0].alerted_at == "2026-11-23T09:00:00Z"


def test_an_unknown_model_or_a_foreign_cursor_is_a_bad_parameter() -> None:
    index = FakeAwaitingIndex()
    for lead in range(3):
        index.add(an_alert(lead, MONDAY + lead), reported=False)
    service = a_service(index, MONDAY)
    with pytest.raises(BadParameter, match="model"):
        service.awaiting_feedback(model_id="nosuch", limit=1, cursor=None)
    cursor = service.awaiting_feedback(model_id="default", limit=1, cursor=None).cursor
    assert cursor is not None
    with pytest.raises(BadParameter, match="cursor"):
        service.awaiting_feedback(model_id="default", limit=1, cursor=cursor[:-2] + "AA")
