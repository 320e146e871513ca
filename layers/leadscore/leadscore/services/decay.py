"""The decay job: plan one segment per model and index shard, then decay each segment's due leads.

The scheduled run only plans (cheap, seconds); segments go through a queue to parallel invocations, and a
segment that does not finish inside its time budget hands a continuation (the index's LastEvaluatedKey)
back to the queue. Only leads in the sparse `by-decay` index whose due day has come are read, so the cost
follows the decayable leads, not the table. Every write is conditional on the version it was computed
from: a concurrent event wins the race and decay is recomputed from the new state, so neither is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from leadscore.adapters.ports import DecayStore
from leadscore.core.decay import apply_decay, epoch_day, yyyymmdd
from leadscore.core.prediction import bookkeeping_changes, predict_into
from leadscore.core.rules import CompiledModel
from leadscore.core.state import PendingAlert, ScoreState
from leadscore.errors import ContentionError, PublishFailed
from leadscore.services.scoring import AlertOutbox

SHARDS = 8  # = score_item.DECAY_SHARDS: one segment per shard and model
PAGE = 100  # leads per index page (and per BatchGetItem)
MAX_ATTEMPTS = 10
DECAY_ALERT_LEASE = 60  # a predictive alert raised with no outbox to hand it over: the sweep takes it after this


class DecaySegment(BaseModel):
    """One unit of work: a model's index shard, as of one run's day, from `start_key` on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_id: str = Field(min_length=1, max_length=32)
    shard: int = Field(ge=0, lt=SHARDS)
    now: int = Field(ge=0, description="The run's clock: every segment of a run decays to the same day.")
    start_key: dict[str, Any] | None = None


@dataclass
class SegmentReport:
    read: int = 0
    written: int = 0
    recycled: int = 0
    rearmed: int = 0
    conflicts: int = 0
    alerts_delivered: int = 0
    continuation: DecaySegment | None = None


@dataclass
class DecayService:
    store: DecayStore
    models: Sequence[CompiledModel]
    page_size: int = PAGE
    # Sweeps alerts stranded in the outbox (lease expired, no further event for the lead): the scheduled run
    # reads every lead with positive engagement at least daily, and a pending alert implies one.
    outbox: AlertOutbox | None = None
    by_id: dict[str, CompiledModel] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {model.id: model for model in self.models}

    def plan(self, now: int) -> list[DecaySegment]:
        """Every segment of a run at `now`."""
        return [
            DecaySegment(model_id=model.id, shard=shard, now=now) for model in self.models for shard in range(SHARDS)
        ]

    def run(self, segment: DecaySegment, time_left: Callable[[], float], reserve_seconds: float = 30) -> SegmentReport:
        """Decay the segment's due leads, page by page, until done or until fewer than `reserve_seconds` remain.

        Raises:
            StoreUnavailable, ContentionError: retryable; the segment message is redelivered (decay is
                idempotent per day, so leads already done are skipped by the index or unchanged).
        """
        model = self.by_id.get(segment.model_id)
        report = SegmentReport()
        if model is None:  # a model removed since the run was planned: nothing to decay under it
            return report
        through = yyyymmdd(epoch_day(segment.now))
        start = segment.start_key
        while True:
            page = self.store.due_leads(model.id, segment.shard, through, start, self.page_size)
            states = self.store.load_many(page.lead_ids, model.id)
            report.read += len(states)
            for state in states:
                self._decay_one(state, model, segment.now, report)
            if page.next_key is None:
                return report
            start = page.next_key
            if time_left() < reserve_seconds:
                report.continuation = segment.model_copy(update={"start_key": start})
                return report

    def _decay_one(self, state: ScoreState, model: CompiledModel, now: int, report: SegmentReport) -> None:
        current: ScoreState | None = self._deliver_stranded_alert(state, model, now, report)
        for _ in range(MAX_ATTEMPTS):
            if current is None:
                return  # erased meanwhile
            result = apply_decay(current, model, now=now)
            new, raised = result.state, None
            if model.predictive is not None:
                new = replace(new)  # an unchanged result is the input itself: never mutate that
                raised = self._predict(new, model, now)
            if (
                not result.changed
                and not _worth_reindexing(current, new, now)
                and not bookkeeping_changes(current, new)
            ):
                return
            new.version = current.version + 1
            written = self.store.save(new, current.version)
            report.written += 1
            if written.applied:
                report.recycled += int(new.recycled_at is not None and new.stage is not result.stage_before)
                report.rearmed += int(result.rearmed)
                if raised is not None and self.outbox is not None:
                    with suppress(PublishFailed):  # released: the next event, run or sweep delivers it
                        report.alerts_delivered += int(bool(self.outbox.deliver(model, new, now, holds_lease=True)))
                return
            report.conflicts += 1
            current = written.current  # an event landed first: decay what it left
        raise ContentionError(f"lead {state.lead_id[:10]}: decay lost {MAX_ATTEMPTS} races in a row")

    def _predict(self, state: ScoreState, model: CompiledModel, now: int) -> PendingAlert | None:
        """Store the predictive block's estimate at the run's time (a predictive alert, if one is owed)."""
        lease = self.outbox.alert_lease_seconds if self.outbox is not None else DECAY_ALERT_LEASE
        predicted = predict_into(state, model, at=now, seed=f"d{epoch_day(now)}", now=now, lease_seconds=lease)
        return None if predicted is None else predicted.alert

    def _deliver_stranded_alert(
        self, state: ScoreState, model: CompiledModel, now: int, report: SegmentReport
    ) -> ScoreState | None:
        pending = state.alert_pending
        if self.outbox is None or pending is None or pending.lease_until > now:
            return state
        try:
            if self.outbox.deliver(model, state, now, holds_lease=False):
                report.alerts_delivered += 1
        except PublishFailed:
            return state  # released for the next event or run; decay goes on (its write then re-reads)
        return self.store.load(state.lead_id, model.id)


def _worth_reindexing(before: ScoreState, after: ScoreState, now: int) -> bool:
    """A write that only moves the lead's due day pays off when it saves reads: when the lead would otherwise
    be read again tomorrow for nothing (a step penalty due in weeks). Due tomorrow anyway: skip the write."""
    if after.decay_due == before.decay_due:
        return False
    return after.decay_due is None or after.decay_due > yyyymmdd(epoch_day(now) + 1)
