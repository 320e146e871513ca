"""Rescoring: every lead of the ledger replayed under a (new) model, compared with what is stored, and
written back with one conditional write per changed lead.

Unchanged leads (same fit, engagement, total, stage and per-rule points; for a model with a predictive
block also the same artefact version, p stage and a probability stored) are not written, so a second
`--apply` writes nothing. A changed lead's write carries the probability replay computed for it, as the
scorer and the decay job would have stored it.

Historic crossings raise no alert: the alert bookkeeping of the stored item is kept as it is, and a lead
the new model puts in SQL is disarmed, unless `alerts=True`, which puts an alert in the lead's
outbox (delivered by the next decay run's sweep, or the lead's next event). The same holds for the
predictive block's SQL stage when the model opted in to predictive alerts, with the scorer's rules: once
per rise (a lead already alerted stays disarmed until its probability falls below the MQL stage), one
alert in the outbox at a time.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from leadscore.adapters.ports import DecayStore
from leadscore.core.prediction import predictive_alert_id
from leadscore.core.rules import CompiledModel
from leadscore.core.state import PendingAlert, ScoreState, Stage
from leadscore.ledger.records import LedgerRecord
from leadscore.ledger.replay import events_from_ledger, replay

LOAD_PAGE = 100


def score_of(state: ScoreState) -> tuple[object, ...]:
    """What a rescore may change (alert bookkeeping and timestamps are the stored item's own)."""
    return (state.fit, state.engagement, state.total, state.stage, state.points)


def prediction_of(state: ScoreState) -> tuple[object, ...]:
    """The predictive block's bookkeeping a rescore writes for, as the decay job does (core/prediction.py):
    another artefact version, another p stage, or a lead with no probability yet. The probability alone
    drifting (recency features fade daily) is not worth a write: the leads API recomputes it."""
    return (state.p_version, state.p_stage, state.probability is None)


@dataclass(frozen=True)
class LeadChange:
    lead_id: str
    before: ScoreState | None  # None: the model has no score item for the lead yet
    after: ScoreState

    @property
    def changed(self) -> bool:
        if self.before is None or score_of(self.before) != score_of(self.after):
            return True
        served = self.after.p_version is not None  # replayed under a model with a predictive block
        return served and prediction_of(self.before) != prediction_of(self.after)

    @property
    def stage_before(self) -> Stage:
        return self.before.stage if self.before else Stage.LEAD

    @property
    def delta(self) -> float:
        return float(self.after.total - (self.before.total if self.before else 0))


@dataclass
class RescorePlan:
    model: CompiledModel
    changes: list[LeadChange] = field(default_factory=list)

    @property
    def changed(self) -> list[LeadChange]:
        return [change for change in self.changes if change.changed]

    def stage_counts(self) -> tuple[Counter[str], Counter[str]]:
        before = Counter(change.stage_before.value for change in self.changes)
        after = Counter(change.after.stage.value for change in self.changes)
        return before, after

    def moves(self) -> Counter[tuple[str, str]]:
        return Counter(
            (change.stage_before.value, change.after.stage.value)
            for change in self.changes
            if change.stage_before is not change.after.stage
        )

    def top_movers(self, count: int = 10) -> list[LeadChange]:
        return sorted(self.changed, key=lambda change: (-abs(change.delta), change.lead_id))[:count]


def plan_rescore(
    records: Iterable[LedgerRecord],
    model: CompiledModel,
    store: DecayStore,
    *,
    until: datetime,
    progress: Callable[[int], None] | None = None,
) -> RescorePlan:
    """Replay the ledger under `model` (up to `until`, decay included) and pair each lead with its stored score."""
    result = replay(
        events_from_ledger(records, sequence_of=model.id), [model], pepper=b"", until=until, with_records=False
    )
    plan = RescorePlan(model)
    lead_ids = sorted(lead for lead, _ in result.states)
    for start in range(0, len(lead_ids), LOAD_PAGE):
        page = lead_ids[start : start + LOAD_PAGE]
        stored = {state.lead_id: state for state in store.load_many(page, model.id)}
        plan.changes += [LeadChange(lead, stored.get(lead), result.states[(lead, model.id)]) for lead in page]
        if progress:
            progress(len(page))
    return plan


def rescored_state(change: LeadChange, model: CompiledModel, *, alerts: bool, now: int) -> ScoreState:
    """The item to write: the replayed score, with the stored item's alert bookkeeping and identity."""
    before, after = change.before, change.after
    new = replace(after, version=(before.version if before else 0) + 1, updated_at=now, alert_pending=None)
    # Armed for a predictive alert as the stored item was (a lead that alerted stays disarmed until its
    # probability falls below the MQL stage, as in the scorer); a lead with no item was never alerted.
    was_armed = True if before is None else before.p_armed
    if before is not None:
        new.alerts_sent, new.last_alert_at, new.created_at = before.alerts_sent, before.last_alert_at, before.created_at
        new.alert_pending = before.alert_pending  # an alert in flight stays the outbox's
        new.alert_armed = before.alert_armed if after.stage is before.stage else after.alert_armed
        # The predictive alert's arming likewise: kept unless the p stage moved (a fall to LEAD re-arms).
        new.p_armed = before.p_armed if after.p_stage is before.p_stage else after.p_stage is Stage.LEAD or was_armed
    crossed = after.stage is Stage.SQL and change.stage_before is not Stage.SQL
    if crossed and new.alert_pending is None:
        new.alert_armed = False  # this crossing is history: no alert for it ...
        if alerts and not new.suppressed:  # ... unless asked: the outbox delivers it (lease already expired)
            new.alert_pending = PendingAlert(
                alert_id=f"{after.lead_id[:10]}-{model.id}-{new.alerts_sent + 1}-rescore",
                created_at=now,
                lease_until=0,
                total=after.total,
                stage=after.stage,
            )
    p_crossed = after.p_stage is Stage.SQL and (before is None or before.p_stage is not Stage.SQL)
    if p_crossed:
        _predictive_crossing(new, model, armed=was_armed, alerts=alerts, now=now)
    return new


def _predictive_crossing(new: ScoreState, model: CompiledModel, *, armed: bool, alerts: bool, now: int) -> None:
    """A rise to the SQL p stage, as the scorer's `core.prediction.store_estimate` treats it: with `--alerts`
    and a model that opted in (`predictive: alerts: true`), one predictive alert in the lead's outbox if the
    lead is armed, not suppressed and the outbox is free (a rule alert goes first: the predictive one waits,
    armed, for the lead's next full write); otherwise history, and the lead is disarmed."""
    served = model.predictive
    opted_in = alerts and served is not None and served.settings.alerts
    if not opted_in or not armed or new.suppressed:
        new.p_armed = False
        return
    if new.alert_pending is not None:
        new.p_armed = True  # owed: raised by the next full write that finds the outbox free
        return
    new.alert_pending = PendingAlert(
        alert_id=predictive_alert_id(new, "rescore"),
        created_at=now,
        lease_until=0,  # expired: the stranded-alert sweep (or the lead's next event) delivers it
        total=new.total,
        stage=new.stage,
        predictive=True,
    )
    new.p_armed = False


@dataclass
class ApplyReport:
    written: int = 0
    unchanged: int = 0
    skipped: int = 0  # done by an earlier, interrupted run (checkpoint)
    conflicts: int = 0  # the lead changed since it was read: rerun to rescore it
    alerts_queued: int = 0


class Checkpoint:
    """Lead ids already handled by this (model id, version)'s rescore, one per line after a header."""

    def __init__(self, path: Path, model: CompiledModel) -> None:
        self.path = path
        self.header = json.dumps({"model": model.id, "version": model.version})
        self.done: set[str] = set()
        if path.exists():
            lines = path.read_text(encoding="utf-8").splitlines()
            if lines and lines[0] == self.header:
                self.done = set(lines[1:])
        if not self.done:
            path.write_text(self.header + "\n", encoding="utf-8")
        self._file = path.open("a", encoding="utf-8")

    def mark(self, lead_id: str) -> None:
        self._file.write(lead_id + "\n")
        self._file.flush()

    def finish(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)  # complete: a later run starts afresh (and writes nothing new)

    def close(self) -> None:
        self._file.close()


def apply_rescore(
    plan: RescorePlan,
    store: DecayStore,
    checkpoint: Checkpoint,
    *,
    alerts: bool,
    now: int,
    progress: Callable[[int], None] | None = None,
) -> ApplyReport:
    """One conditional write per changed lead (on the version read), resumable from the checkpoint."""
    report = ApplyReport()
    try:
        for change in plan.changes:
            if progress:
                progress(1)
            if change.lead_id in checkpoint.done:
                report.skipped += 1
            elif not change.changed:
                report.unchanged += 1
            else:
                new = rescored_state(change, plan.model, alerts=alerts, now=now)
                written = store.save(new, expected_version=change.before.version if change.before else 0)
                if not written.applied:
                    report.conflicts += 1  # not marked: a rerun reads it again
                    continue
                report.written += 1
                queued = new.alert_pending is not None and (
                    change.before is None or change.before.alert_pending is None
                )
                report.alerts_queued += int(queued)
            if change.lead_id not in checkpoint.done:
                checkpoint.mark(change.lead_id)
    except BaseException:
        checkpoint.close()  # resumable: the next run skips what is marked
        raise
    if report.conflicts:
        checkpoint.close()
    else:
        checkpoint.finish()
    return report
