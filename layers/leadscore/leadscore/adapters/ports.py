"""The ports the services depend on. Implementations: `dynamodb`, `sns`, `sqs` and `memory` (fakes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only: the webhook's cold start need not build the scoring and ledger models
    from leadscore.core.alerts import AlertMessage
    from leadscore.core.fast_path import FastPathPlan
    from leadscore.core.state import ScoreState
    from leadscore.ledger.records import LedgerRecord, Standing
    from leadscore.models.events import LeadEvent, Scalar


@dataclass(frozen=True, slots=True)
class WriteResult:
    """`applied`, or the state found instead (None when the lead has no score item yet).

    `after`: where the lead stands after an applied fast-path write, for its ledger line (the UpdateItem
    asks for ReturnValues=ALL_NEW: no capacity unit, ~1.2 KB more in the response; four fields decoded).
    """

    applied: bool
    current: ScoreState | None = None
    after: Standing | None = None
    # The whole state after an applied fast-path write, decoded from the same ALL_NEW response only for a
    # model with a predictive block (its probability is computed from it). Read-only.
    state_after: ScoreState | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    email: str
    attributes: Mapping[str, Scalar] = field(default_factory=dict)
    # The lead's latest outcome: {"type", "at" (epoch s), "reason", "amount", "currency"} (None: none yet).
    outcome: Mapping[str, Scalar] | None = None


class ScoreStore(Protocol):
    def apply_fast(self, lead_id: str, model_id: str, plan: FastPathPlan) -> WriteResult:
        """Apply `plan` in one conditional write; on a failed condition return the current state."""

    def load(self, lead_id: str, model_id: str) -> ScoreState | None:
        """Strongly consistent read (only used when no fast plan exists)."""

    def save(self, state: ScoreState, expected_version: int) -> WriteResult:
        """Write `state` if the stored version is still `expected_version` (0: not stored yet)."""

    def claim_alert(self, lead_id: str, model_id: str, alert_id: str, now: int, lease_until: int) -> ScoreState | None:
        """Take the lease on the pending alert if it is free; the state after the claim, or None."""

    def release_alert(self, lead_id: str, model_id: str, alert_id: str) -> None:
        """Give up the lease on the pending alert (after a failed publish), so a retry can take it at once."""

    def complete_alert(self, lead_id: str, model_id: str, alert_id: str, now: int) -> None:
        """Mark the pending alert as published (clears the outbox, counts the alert)."""

    def hold_alert(self, lead_id: str, model_id: str, alert_id: str, lease_until: int) -> None:
        """Keep the lease on the pending alert until `lease_until` (it was handed to the alert queue)."""


class PublishClaim(StrEnum):
    """What the alert sender found when it asked to publish a pending alert."""

    STARTED = "started"  # the attempt is recorded: publish, then complete
    DELIVERED = "delivered"  # the outbox no longer holds this alert: it went out already
    IN_DOUBT = "in_doubt"  # an earlier attempt began and never completed: it may or may not have reached SNS


class AlertDeliveryStore(Protocol):
    """The outbox as the alert sender sees it (the score item's pending alert)."""

    def begin_publish(self, lead_id: str, model_id: str, alert_id: str, now: int) -> PublishClaim:
        """Record a publish attempt on the pending alert, unless one is recorded already or it is gone."""

    def abandon_publish(self, lead_id: str, model_id: str, alert_id: str) -> None:
        """Forget a publish attempt that certainly failed (SNS refused it), so the next one starts clean."""

    def complete_alert(self, lead_id: str, model_id: str, alert_id: str, now: int) -> None:
        """Clear the outbox and count the alert (idempotent: a no-op once done)."""


class ProfileStore(Protocol):
    def upsert(self, lead_id: str, email: str, attributes: Mapping[str, Scalar], occurred_at: int) -> None:
        """Record what the lead told us: newer events overwrite, older ones only fill gaps."""

    def get(self, lead_id: str) -> Profile | None: ...

    def record_outcome(
        self, lead_id: str, email: str, outcome_type: str, occurred_at: int, properties: Mapping[str, Scalar]
    ) -> None:
        """Keep the lead's newest outcome (sales accepted/rejected, deal won/lost) on its profile; an older
        one arriving later changes nothing, the same one again neither (idempotent)."""


class AlertPublisher(Protocol):
    def publish(self, message: AlertMessage) -> str:
        """Publish and return the message id. Raises PublishFailed."""


class EventQueue(Protocol):
    def send(self, events: Sequence[LeadEvent]) -> None:
        """Put every event on the queue (one message each) or raise QueueUnavailable."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook request as the delivery record sees it.

    `key` names the delivery (a replay key such as Mailgun's token, or the batch of event ids); `body_hash`
    is the SHA-256 of the raw body. `strict`: a different body under the same key is a forgery (the key is
    signed but the body is not), rather than the same events serialised differently.
    """

    key: str
    body_hash: str
    strict: bool


class DeliveryOutcome(StrEnum):
    ACCEPTED = "accepted"  # queued now, and remembered
    ACCEPTED_UNRECORDED = "accepted_unrecorded"  # queued now, but the record could not be written
    DUPLICATE = "duplicate"  # the same delivery was accepted before: nothing queued
    FORGED = "forged"  # a different body under a key accepted before: nothing queued


class OnceQueue(Protocol):
    def send(self, events: Sequence[LeadEvent]) -> None:
        """Queue `events` without a delivery record (the scorer's per-lead dedup absorbs a repeat)."""

    def send_once(self, delivery: Delivery, events: Sequence[LeadEvent]) -> DeliveryOutcome:
        """Queue `events` unless `delivery` was accepted before, and remember it.

        Raises QueueUnavailable (nothing queued, nothing remembered: the sender's retry is accepted) or
        StoreUnavailable (the record could not be read: nothing queued).
        """


@dataclass(frozen=True, slots=True)
class DuePage:
    """Lead ids due for decay in one index partition, and where the next page starts (None: done)."""

    lead_ids: list[str]
    next_key: dict[str, Any] | None


class DecayStore(Protocol):
    def due_leads(
        self, model_id: str, shard: int, through_day: int, start_key: dict[str, Any] | None, limit: int
    ) -> DuePage:
        """Leads of `model_id` in decay shard `shard` whose due day is `through_day` (yyyymmdd) or earlier."""
        ...

    def load_many(self, lead_ids: Sequence[str], model_id: str) -> list[ScoreState]:
        """The score states of `lead_ids` (strongly consistent; missing ones left out)."""
        ...

    def load(self, lead_id: str, model_id: str) -> ScoreState | None: ...

    def save(self, state: ScoreState, expected_version: int) -> WriteResult: ...


class LedgerSink(Protocol):
    def put(self, records: Sequence[LedgerRecord]) -> None:
        """Append `records` to the ledger, durably, in as few requests as the service allows.

        Raises LedgerUnavailable naming the records not delivered (the rest were: at-least-once).
        """
