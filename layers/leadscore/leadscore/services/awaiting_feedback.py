"""GET /leads?awaiting_feedback=true: leads whose last sales alert has had no feedback, oldest alert first.

Read from the sparse by-awaiting-feedback index (adapters/feedback_marks.py): the model's `waiting` and
`reported` partitions merged by (alert time, lead id), `limit` at a time, with the leads API's signed cursor.
A row is `overdue` once its alert is older than the SLA (FEEDBACK_SLA_HOURS); `sla_reported_at` says when
ops had the report.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from leadscore.adapters.feedback_marks import AwaitingAlert, awaiting_partition


class AwaitingStore(Protocol):
    def awaiting_page(
        self, partition: str, *, from_at: int | None, limit: int, start: Any
    ) -> tuple[list[AwaitingAlert], Any]: ...


def _ordered(
    store: AwaitingStore, partition: str, after: tuple[int, str] | None, limit: int
) -> Iterator[AwaitingAlert]:
    """One partition in (alert time, lead id) order, strictly after `after`. The index orders by time only:
    alerts of the same second are held back until the next page shows no more of them, then sorted."""
    start: Any = None
    held: list[AwaitingAlert] = []
    while True:
        entries, start = store.awaiting_page(
            partition, from_at=after[0] if after else None, limit=limit + 1, start=start
        )
        held += entries
        if start and held:
            latest = held[-1].alert_at
            ready = [entry for entry in held if entry.alert_at < latest]
            held = [entry for entry in held if entry.alert_at >= latest]
        else:
            ready, held = held, []
        ready.sort(key=lambda entry: (entry.alert_at, entry.lead_id))
        yield from (entry for entry in ready if after is None or (entry.alert_at, entry.lead_id) > after)
        if not start:
            return


def awaiting_feedback(
    store: AwaitingStore, model_id: str, *, after: tuple[int, str] | None, limit: int
) -> tuple[list[AwaitingAlert], bool]:
    """Up to `limit` alerts awaiting feedback after `after`, oldest first; and whether more follow."""
    streams = [_ordered(store, awaiting_partition(model_id, reported=flag), after, limit) for flag in (False, True)]
    merged = heapq.merge(*streams, key=lambda entry: (entry.alert_at, entry.lead_id))
    page: list[AwaitingAlert] = []
    for entry in merged:
        if len(page) == limit:
            return page, True
        page.append(entry)
    return page, False


def display_fields(profile: dict[str, Any]) -> dict[str, str | None]:
    """Who a row is, for a human: name and company from the lead's profile (None where unknown)."""

    def text(name: str) -> str | None:
        value = profile.get(name)
        return None if value is None or str(value).strip() == "" else str(value).strip()

    names = [part for part in (text("first_name"), text("last_name")) if part]
    return {"name": " ".join(names) or None, "company": text("company"), "job_title": text("job_title")}


DisplayLookup = Callable[[list[str]], dict[str, dict[str, Any]]]
