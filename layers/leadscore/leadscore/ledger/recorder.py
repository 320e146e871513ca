"""LedgerRecorder: the ledger lines of one SQS batch, buffered per batch item and delivered in one flush.

The scorer appends one line per event and model after scoring (no I/O), and the handler flushes once per
batch: one Firehose PutRecordBatch for up to 500 packed records, instead of a request per event. Items whose
lines could not be delivered are reported failed, so SQS redelivers them: the ledger is at-least-once
(a redelivery appends the event again, usually as "duplicate"); readers dedupe with `records.dedupe`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from leadscore.core.rules import CompiledModel
from leadscore.core.scoring import EventFacts, RuleHit, engagement_hits
from leadscore.errors import LedgerUnavailable
from leadscore.ledger.records import LedgerEvent, LedgerRecord, Result, Standing, build_record
from leadscore.models.events import LeadEvent

if TYPE_CHECKING:
    from leadscore.adapters.ports import LedgerSink
    from leadscore.services.scoring import ModelOutcome

_RESULTS: dict[str, Result] = {"fast": "applied", "exact": "applied", "duplicate": "duplicate", "no_op": "no_op"}


def fast_path_hits(facts: EventFacts, model: CompiledModel) -> tuple[RuleHit, ...]:
    """The hits of an event the fast path applied: every matched rule's full points (its cap had room)."""
    return tuple(RuleHit(rule.id, rule.points) for rule in engagement_hits(facts, model))


@dataclass
class _Batch:
    item: str = ""
    records: list[LedgerRecord] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)


@dataclass
class LedgerRecorder:
    """Buffers per thread (the local runner invokes one cached handler from several threads at once)."""

    sink: LedgerSink
    _local: threading.local = field(default_factory=threading.local, repr=False)

    def _batch(self) -> _Batch:
        batch: _Batch | None = getattr(self._local, "batch", None)
        if batch is None:
            batch = self._local.batch = _Batch()
        return batch

    def begin(self, item_id: str) -> None:
        """Lines appended from now on belong to this batch item (its SQS message id)."""
        self._batch().item = item_id

    def discard(self) -> None:
        """Forget what an earlier, crashed invocation left (its items are redelivered)."""
        self._local.batch = _Batch()

    def append(
        self,
        event: LeadEvent,
        lead_id: str,
        models: Sequence[CompiledModel],
        outcomes: Sequence[ModelOutcome],
        *,
        recorded_at: int,
    ) -> None:
        """One line per model the event was scored under (`outcomes` in `models` order; may be shorter)."""
        batch = self._batch()
        ledger_event = LedgerEvent.of(event, lead_id)
        for model, outcome in zip(models, outcomes, strict=False):
            batch.records.append(
                build_record(
                    ledger_event,
                    model_id=model.id,
                    model_version=model.version,
                    result=_RESULTS[outcome.path.value],
                    hits=outcome.hits,
                    standing=outcome.standing or (Standing.of(outcome.state) if outcome.state else None),
                    stage_before=outcome.stage_before,
                    recorded_at=recorded_at,
                    probability=outcome.probability,
                )
            )
            batch.owners.append(batch.item)

    def pending(self) -> int:
        return len(self._batch().records)

    def flush(self) -> set[str]:
        """Deliver the buffered lines; the batch items whose lines were not all delivered."""
        batch = self._batch()
        self.discard()
        if not batch.records:
            return set()
        try:
            self.sink.put(batch.records)
        except LedgerUnavailable as exc:
            return {batch.owners[index] for index in exc.undelivered}
        return set()
