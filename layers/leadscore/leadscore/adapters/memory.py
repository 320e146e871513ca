"""In-memory fakes of every port, with the same conditional semantics (for unit tests and benchmarks)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from leadscore.adapters.ports import Delivery, DeliveryOutcome, DuePage, Profile, PublishClaim, WriteResult
from leadscore.adapters.score_item import DECAY_SHARDS, decay_index_entry, decay_partition
from leadscore.core.alerts import AlertMessage
from leadscore.core.fast_path import FastPathPlan
from leadscore.core.state import ScoreState
from leadscore.errors import PublishFailed
from leadscore.ledger.records import LedgerRecord, Standing
from leadscore.models.events import LeadEvent, Scalar


def _clone(state: ScoreState) -> ScoreState:
    from leadscore.core.scoring import _copy  # noqa: PLC0415 - the core's own deep copy

    return _copy(state)


@dataclass
class InMemoryLeadStore:
    """ScoreStore + ProfileStore. A lock makes each call atomic, like one DynamoDB request on one item."""

    scores: dict[tuple[str, str], ScoreState] = field(default_factory=dict)
    profiles: dict[str, tuple[int, Profile]] = field(default_factory=dict)
    writes: int = 0
    reads: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def apply_fast(self, lead_id: str, model_id: str, plan: FastPathPlan) -> WriteResult:
        with self._lock:
            self.writes += 1
            current = self.scores.get((lead_id, model_id))
            if current is None or not plan.applies_to(current):
                return WriteResult(applied=False, current=_clone(current) if current else None)
            after = plan.apply(current)
            self.scores[(lead_id, model_id)] = after
            return WriteResult(applied=True, after=Standing.of(after), state_after=after)

    def load(self, lead_id: str, model_id: str) -> ScoreState | None:
        with self._lock:
            self.reads += 1
            current = self.scores.get((lead_id, model_id))
            return _clone(current) if current else None

    def due_leads(
        self, model_id: str, shard: int, through_day: int, start_key: dict[str, Any] | None, limit: int
    ) -> DuePage:
        """The same selection as the sparse by-decay index (shared rules in score_item.to_item_values)."""
        with self._lock:
            due = sorted(
                lead_id
                for (lead_id, model), state in self.scores.items()
                if model == model_id
                and (index := decay_index_entry(state)) is not None
                and index[0] == decay_partition(model_id, lead_id)
                and int(lead_id[:4], 36) % DECAY_SHARDS == shard
                and index[1] <= through_day
            )
        after = str(start_key["lead_id"]) if start_key else ""
        page = [lead_id for lead_id in due if lead_id > after][:limit]
        more = len(page) == limit and page[-1] != due[-1]
        return DuePage(page, {"lead_id": page[-1]} if more else None)

    def load_many(self, lead_ids: Sequence[str], model_id: str) -> list[ScoreState]:
        return [state for lead_id in lead_ids if (state := self.load(lead_id, model_id)) is not None]

    def save(self, state: ScoreState, expected_version: int) -> WriteResult:
        with self._lock:
            self.writes += 1
            key = (state.lead_id, state.model_id)
            current = self.scores.get(key)
            if (current.version if current else 0) != expected_version:
                return WriteResult(applied=False, current=_clone(current) if current else None)
            self.scores[key] = _clone(state)
            return WriteResult(applied=True)

    def claim_alert(self, lead_id: str, model_id: str, alert_id: str, now: int, lease_until: int) -> ScoreState | None:
        with self._lock:
            self.writes += 1
            current = self.scores.get((lead_id, model_id))
            pending = current.alert_pending if current else None
            if current is None or pending is None or pending.alert_id != alert_id or pending.lease_until > now:
                return None
            claimed = replace(
                current, version=current.version + 1, alert_pending=replace(pending, lease_until=lease_until)
            )
            self.scores[(lead_id, model_id)] = claimed
            return _clone(claimed)

    def release_alert(self, lead_id: str, model_id: str, alert_id: str) -> None:
        self._change_pending(lead_id, model_id, alert_id, lease_until=0)

    def complete_alert(self, lead_id: str, model_id: str, alert_id: str, now: int) -> None:
        with self._lock:
            self.writes += 1
            current = self.scores.get((lead_id, model_id))
            if current is None or current.alert_pending is None or current.alert_pending.alert_id != alert_id:
                return
            self.scores[(lead_id, model_id)] = replace(
                current,
                version=current.version + 1,
                alert_pending=None,
                alerts_sent=current.alerts_sent + 1,
                last_alert_at=now,
            )

    def hold_alert(self, lead_id: str, model_id: str, alert_id: str, lease_until: int) -> None:
        self._change_pending(lead_id, model_id, alert_id, lease_until=lease_until)

    def due_alerts(self, model_id: str, now: int, limit: int) -> list[str]:
        with self._lock:
            self.reads += 1
            return [
                lead_id
                for (lead_id, model), state in self.scores.items()
                if model == model_id and state.alert_pending is not None and state.alert_pending.lease_until <= now
            ][:limit]

    def begin_publish(self, lead_id: str, model_id: str, alert_id: str, now: int) -> PublishClaim:
        with self._lock:
            current = self.scores.get((lead_id, model_id))
            pending = current.alert_pending if current else None
            if current is None or pending is None or pending.alert_id != alert_id:
                return PublishClaim.DELIVERED
            if pending.publishing_at is not None:
                return PublishClaim.IN_DOUBT
        self._change_pending(lead_id, model_id, alert_id, publishing_at=now)
        return PublishClaim.STARTED

    def abandon_publish(self, lead_id: str, model_id: str, alert_id: str) -> None:
        self._change_pending(lead_id, model_id, alert_id, publishing_at=None)

    def _change_pending(self, lead_id: str, model_id: str, alert_id: str, **changes: Any) -> None:
        with self._lock:
            self.writes += 1
            current = self.scores.get((lead_id, model_id))
            pending = current.alert_pending if current else None
            if current is None or pending is None or pending.alert_id != alert_id:
                return
            self.scores[(lead_id, model_id)] = replace(
                current, version=current.version + 1, alert_pending=replace(pending, **changes)
            )

    def upsert(self, lead_id: str, email: str, attributes: Mapping[str, Scalar], occurred_at: int) -> None:
        with self._lock:
            self.writes += 1
            at, profile = self.profiles.get(lead_id, (None, Profile(email=email)))
            present = {key: value for key, value in attributes.items() if value is not None}
            if at is None or occurred_at >= at:
                merged, stamp = {**profile.attributes, **present}, occurred_at
            else:
                merged, stamp = {**present, **profile.attributes}, at
            self.profiles[lead_id] = (stamp, Profile(email=profile.email, attributes=merged, outcome=profile.outcome))

    def record_outcome(
        self, lead_id: str, email: str, outcome_type: str, occurred_at: int, properties: Mapping[str, Scalar]
    ) -> None:
        with self._lock:
            self.writes += 1
            at, profile = self.profiles.get(lead_id, (0, Profile(email=email)))
            known = profile.outcome
            if known is not None and int(known["at"] or 0) > occurred_at:
                return
            outcome: dict[str, Scalar] = {"type": outcome_type, "at": occurred_at}
            outcome |= {
                name: properties[name] for name in ("reason", "amount", "currency") if properties.get(name) is not None
            }
            self.profiles[lead_id] = (at, replace(profile, outcome=outcome))

    def get(self, lead_id: str) -> Profile | None:
        with self._lock:
            self.reads += 1
            entry = self.profiles.get(lead_id)
            return entry[1] if entry else None


@dataclass
class InMemoryPublisher:
    """Records published alerts; `fail_next` makes the next N publishes fail like an SNS outage."""

    published: list[AlertMessage] = field(default_factory=list)
    fail_next: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def publish(self, message: AlertMessage) -> str:
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                raise PublishFailed("simulated SNS outage")
            self.published.append(message)
            return f"msg-{len(self.published)}"


@dataclass
class InMemoryQueue:
    """The queue and the delivery records, in memory, with the protocol of `IdempotentQueue`.

    `fail_next` fails the next N sends like an SQS outage; `record_fails` makes every record write fail
    (after the send, as a DynamoDB outage would); `writes` counts record writes.
    """

    sent: list[LeadEvent] = field(default_factory=list)
    fail_next: int = 0
    record_fails: bool = False
    delivered: dict[str, str] = field(default_factory=dict)  # key -> body hash
    writes: int = 0

    def send_once(self, delivery: Delivery, events: Sequence[LeadEvent]) -> DeliveryOutcome:
        known = self.delivered.get(delivery.key)
        if known is not None:
            forged = delivery.strict and known != delivery.body_hash
            return DeliveryOutcome.FORGED if forged else DeliveryOutcome.DUPLICATE
        self.send(events)  # raises before anything is remembered, as the adapter does
        if self.record_fails:
            return DeliveryOutcome.ACCEPTED_UNRECORDED
        self.writes += 1
        self.delivered[delivery.key] = delivery.body_hash
        return DeliveryOutcome.ACCEPTED

    def send(self, events: Sequence[LeadEvent]) -> None:
        from leadscore.errors import QueueUnavailable  # noqa: PLC0415

        if self.fail_next > 0:
            self.fail_next -= 1
            raise QueueUnavailable("simulated SQS outage")
        self.sent.extend(events)


@dataclass
class InMemoryLedgerSink:
    """LedgerSink fake: keeps the records; `fail_next` refuses whole puts, `refuse` refuses chosen lines."""

    records: list[LedgerRecord] = field(default_factory=list)
    puts: int = 0
    fail_next: int = 0
    refuse: Callable[[LedgerRecord], bool] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def put(self, records: Sequence[LedgerRecord]) -> None:
        from leadscore.errors import LedgerUnavailable  # noqa: PLC0415

        with self._lock:
            self.puts += 1
            if self.fail_next > 0:
                self.fail_next -= 1
                raise LedgerUnavailable("simulated Firehose outage", frozenset(range(len(records))))
            refused = {i for i, record in enumerate(records) if self.refuse is not None and self.refuse(record)}
            self.records.extend(record for i, record in enumerate(records) if i not in refused)
            if refused:
                raise LedgerUnavailable("simulated throttling", frozenset(refused))
