"""In-memory fake of the feedback SLA's marks (adapters/feedback_marks.py), with the same conditions."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from leadscore.adapters.feedback_marks import AwaitingAlert


@dataclass
class InMemoryFeedbackMarks:
    """marks[(lead id, model id)]: the alert awaiting feedback (reported_at set once reported)."""

    marks: dict[tuple[str, str], AwaitingAlert] = field(default_factory=dict)
    writes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def alerted(self, lead_id: str, model_id: str, at: int, total: Decimal = Decimal(100), stage: str = "SQL") -> None:
        """What complete_alert does: the lead's newest alert now awaits feedback (not reported)."""
        with self._lock:
            self.marks[(lead_id, model_id)] = AwaitingAlert(
                lead_id, model_id, at, None, total, stage, total, Decimal(0)
            )

    def overdue(self, model_id: str, cutoff: int, limit: int, start: Any) -> tuple[list[AwaitingAlert], Any]:
        return self._page(model_id, False, cutoff, limit, start)

    def stale(self, model_id: str, cutoff: int, limit: int, start: Any) -> tuple[list[AwaitingAlert], Any]:
        return self._page(model_id, True, cutoff, limit, start)

    def _page(
        self, model_id: str, reported: bool, cutoff: int, limit: int, start: Any
    ) -> tuple[list[AwaitingAlert], Any]:
        with self._lock:
            waiting = sorted(
                (m for m in self.marks.values() if m.model_id == model_id and (m.reported_at is not None) == reported),
                key=lambda m: (m.alert_at, m.lead_id),
            )
        after = (int(start["at"]), str(start["id"])) if start else None
        page = [m for m in waiting if m.alert_at <= cutoff and (after is None or (m.alert_at, m.lead_id) > after)]
        page = page[:limit]
        more = len(page) == limit and bool(page)
        return page, ({"at": page[-1].alert_at, "id": page[-1].lead_id} if more else None)

    def mark_reported(self, lead_id: str, model_id: str, alert_at: int, now: int) -> bool:
        with self._lock:
            self.writes += 1
            mark = self.marks.get((lead_id, model_id))
            if mark is None or mark.alert_at != alert_at:
                return False
            if mark.reported_at is not None:
                return mark.reported_at == now  # its own earlier try (the response was lost)
            self.marks[(lead_id, model_id)] = replace(mark, reported_at=now)
            return True

    def unmark_reported(self, lead_id: str, model_id: str, alert_at: int, reported_at: int) -> bool:
        with self._lock:
            self.writes += 1
            mark = self.marks.get((lead_id, model_id))
            if mark is None or mark.alert_at != alert_at or mark.reported_at != reported_at:
                return False
            self.marks[(lead_id, model_id)] = replace(mark, reported_at=None)
            return True

    def expire(self, lead_id: str, model_id: str, alert_at: int) -> bool:
        with self._lock:
            self.writes += 1
            mark = self.marks.get((lead_id, model_id))
            if mark is None or mark.alert_at != alert_at or mark.reported_at is None:
                return False
            del self.marks[(lead_id, model_id)]
            return True

    def clear(self, lead_id: str, model_id: str, occurred_at: int) -> bool:
        with self._lock:
            self.writes += 1
            mark = self.marks.get((lead_id, model_id))
            if mark is None or mark.alert_at > occurred_at:
                return False
            del self.marks[(lead_id, model_id)]
            return True
