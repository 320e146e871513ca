"""The feedback SLA: a sales alert with no feedback after N hours is reported to the ops topic, once.

Run by a schedule (functions/feedback_sla). It reads the sparse by-awaiting-feedback index's waiting partition
of each model up to `now - N hours` (adapters/feedback_marks.py), and for each overdue alert:
1. marks it reported (one conditional write: still waiting, same alert) — a concurrent or later run, or a
   retry of this one, then finds nothing to report;
2. publishes ONE report to the ops topic;
3. if SNS refused it, undoes its own mark (conditional on the mark it wrote), so the next run reports it.

Delivery is at most once by choice, unlike the sales alert outbox (which republishes an attempt "in doubt"):
the one window left is a process dying between the mark and SNS accepting the report. The alert then shows as
reported without a report having gone out; it stays in `GET /leads?awaiting_feedback=true` (with its
`sla_reported_at`) until feedback arrives or it expires, so nothing is hidden, and ops never gets the same
reminder twice.

Expiry: a reported alert still unanswered `expiry_days` after it was sent leaves the index (one conditional
write: still reported, same alert). Without it the list, oldest first, would open on months-old alerts
nobody will answer; the job reads only the reported partition's old end, so the cost follows the expiries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from leadscore.adapters.feedback_marks import AwaitingAlert
from leadscore.adapters.ports import AlertPublisher
from leadscore.core.alerts import AlertMessage
from leadscore.errors import LeadscoreError, PublishFailed, StoreUnavailable
from leadscore.services.retry import backoff_pause, retry_idempotent

HOUR = 3600
PAGE = 100  # index items per Query
RUN_LIMIT = 500  # reports per model and run (a run every 15 minutes: 2,000 an hour per model)


class SlaReportsNotSent(LeadscoreError):
    """The ops topic refused some reports (they wait for the next run); raised after the whole run, so the
    invocation counts as an error (FeedbackSlaErrorsAlarm) without holding back the other reports."""


class FeedbackMarks(Protocol):
    def overdue(self, model_id: str, cutoff: int, limit: int, start: Any) -> tuple[list[AwaitingAlert], Any]: ...

    def mark_reported(self, lead_id: str, model_id: str, alert_at: int, now: int) -> bool: ...

    def unmark_reported(self, lead_id: str, model_id: str, alert_at: int, reported_at: int) -> bool: ...

    def stale(self, model_id: str, cutoff: int, limit: int, start: Any) -> tuple[list[AwaitingAlert], Any]: ...

    def expire(self, lead_id: str, model_id: str, alert_at: int) -> bool: ...


@dataclass
class SlaRun:
    reported: int = 0
    skipped: int = 0  # answered or reported by someone else between the Query and the mark
    failed: int = 0  # the ops topic refused the report: left waiting for the next run
    expired: int = 0  # reported, unanswered for expiry_days: left the awaiting-feedback list


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"


def compose_report(alert: AwaitingAlert, now: int, sla_hours: int) -> AlertMessage:
    """The ops report: which lead (by id: no email on the ops topic), how long sales has been silent, where to
    answer. Attributes let a subscriber filter (kind=feedback_sla, model)."""
    waited = (now - alert.alert_at) // HOUR
    subject = f"Sales alert without feedback for {waited} h (model {alert.model_id})"[:100]
    body = "\n".join(
        [
            f"A sales alert has had no feedback for {waited} hours (the SLA is {sla_hours} hours).",
            "",
            f"Lead id:    {alert.lead_id}",
            f"Model:      {alert.model_id}",
            f"Alerted at: {_iso(alert.alert_at)}",
            f"Now:        {alert.stage}, total {_number(alert.total)}",
            "",
            f"Read it:    GET /leads/{alert.lead_id} (or the console's lead page)",
            f"Answer it:  POST /leads/{alert.lead_id}/feedback (accepted, rejected, won, lost)",
            "This report is sent once per alert; GET /leads?awaiting_feedback=true lists every alert still waiting.",
        ]
    )
    return AlertMessage(
        alert_id=f"sla-{alert.lead_id}-{alert.model_id}-{alert.alert_at}",
        subject=subject,
        body=body,
        attributes={
            "kind": "feedback_sla",
            "model": alert.model_id,
            "stage": alert.stage,
            "hours_waiting": Decimal(waited),
        },
        lead_id=alert.lead_id,
        model_id=alert.model_id,
    )


@dataclass
class FeedbackSla:
    marks: FeedbackMarks
    publisher: AlertPublisher  # the ops topic
    model_ids: Sequence[str]
    sla_hours: int
    clock: Callable[[], int]
    expiry_days: int = 30
    page: int = PAGE
    run_limit: int = RUN_LIMIT
    pause: Callable[[int], None] = field(default=backoff_pause, repr=False)

    def run(self) -> SlaRun:
        """Report every alert that has waited `sla_hours` for feedback and was not reported yet."""
        now = self.clock()
        cutoff = now - self.sla_hours * HOUR
        expired_before = now - self.expiry_days * 24 * HOUR
        run = SlaRun()
        for model_id in self.model_ids:
            for alert in self._pages(self.marks.overdue, model_id, cutoff):
                self._report(alert, now, run)
            for alert in self._pages(self.marks.stale, model_id, expired_before):
                self._expire(alert, run)
        return run

    def _pages(
        self, query: Callable[[str, int, int, Any], tuple[list[AwaitingAlert], Any]], model_id: str, cutoff: int
    ) -> list[AwaitingAlert]:
        """At most run_limit alerts of one partition up to `cutoff`, oldest first (the rest wait for the next run)."""
        found: list[AwaitingAlert] = []
        start: Any = None
        while len(found) < self.run_limit:
            alerts, start = query(model_id, cutoff, min(self.page, self.run_limit - len(found)), start)
            found.extend(alerts)
            if not start:
                break
        return found

    def _expire(self, alert: AwaitingAlert, run: SlaRun) -> None:
        # False: feedback or a newer alert came since the Query; either way the list is already right.
        if retry_idempotent(lambda: self.marks.expire(alert.lead_id, alert.model_id, alert.alert_at), pause=self.pause):
            run.expired += 1
        else:
            run.skipped += 1

    def _report(self, alert: AwaitingAlert, now: int, run: SlaRun) -> None:
        # Marked first: whatever happens next, no retry and no concurrent run can send this report again.
        if not retry_idempotent(
            lambda: self.marks.mark_reported(alert.lead_id, alert.model_id, alert.alert_at, now), pause=self.pause
        ):
            run.skipped += 1
            return
        try:
            self.publisher.publish(compose_report(alert, now, self.sla_hours))
        except PublishFailed:
            run.failed += 1
            # Certainly not sent: hand it back to the next run. If even that fails, it stays marked (at most once).
            with suppress(StoreUnavailable):
                retry_idempotent(
                    lambda: self.marks.unmark_reported(alert.lead_id, alert.model_id, alert.alert_at, now),
                    pause=self.pause,
                )
            return
        run.reported += 1
