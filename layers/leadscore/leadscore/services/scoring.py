"""Scoring one queued event: fast path, exact fallback, then the alert outbox. No AWS types in here."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from leadscore.adapters.ports import AlertPublisher, ProfileStore, ScoreStore
from leadscore.core.alerts import compose_alert
from leadscore.core.fast_path import plan_fast_path
from leadscore.core.identity import lead_id_for
from leadscore.core.prediction import estimate, predict_into, worth_a_write
from leadscore.core.rules import CompiledModel
from leadscore.core.scoring import (
    EventFacts,
    Outcome,
    RuleHit,
    ScoreResult,
    engagement_hits,
    facts_from_event,
    new_state,
    score_event,
)
from leadscore.core.state import ScoreState, Stage
from leadscore.errors import ContentionError, PublishFailed, StoreUnavailable
from leadscore.ledger.recorder import LedgerRecorder, fast_path_hits
from leadscore.ledger.records import Standing
from leadscore.models.events import LeadEvent
from leadscore.models.outcomes import OUTCOME_TYPES
from leadscore.services.feedback_clearing import may_hold_a_mark
from leadscore.services.retry import backoff_pause, retry_idempotent

MAX_ATTEMPTS = 10  # exact-path retries under contention on one lead; then SQS redelivers the event


def jittered_pause(attempt: int) -> None:
    """Full jitter, so writers racing on one lead spread out instead of colliding again in step."""
    time.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311 - jitter, not cryptography


class Path(StrEnum):
    FAST = "fast"  # one conditional write, no read
    EXACT = "exact"  # computed from the state the failed condition returned
    DUPLICATE = "duplicate"
    NO_OP = "no_op"
    SUPPRESSED = "suppressed"  # the address was erased (leads API): the event is dropped, nothing written


@dataclass(frozen=True, slots=True)
class ModelOutcome:
    model_id: str
    path: Path
    state: ScoreState | None  # after the event (None: the fast path, or a no-op the scorer did not read)
    stage_changed: bool = False
    alert_published: str | None = None  # alert id handed to the alert queue during this call
    hits: tuple[RuleHit, ...] = ()  # what the event's engagement rules gave (for the ledger)
    stage_before: Stage | None = None
    standing: Standing | None = None  # the fast path's totals after its write (it has no state)
    probability: Decimal | None = None  # the predictive block's probability after the event (None: no block)


# The paths on which an outcome's scoring read the lead's score item (or wrote it on the version it read):
# NO_OP reads it for an outcome event (None: no item); the fast path writes blind.
READ_PATHS = frozenset({Path.NO_OP, Path.EXACT, Path.DUPLICATE})


class FeedbackMarksClearing(Protocol):
    def clear(self, lead_id: str, model_id: str, occurred_at: int) -> bool:
        """Feedback on the lead: its alert no longer awaits any (unless the feedback predates the alert)."""
        ...


def _stage(state: ScoreState | None) -> Stage | None:
    return None if state is None else state.stage


def _probability(model: CompiledModel, state: ScoreState | None, at: int) -> Decimal | None:
    """The probability of a state the scorer read but did not write (for the ledger line; no I/O)."""
    found = None if state is None else estimate(state, model, at)
    return None if found is None else found.probability


@dataclass
class ScoringService:
    """Applies events to every model's score for the lead, exactly once each, and delivers alerts."""

    scores: ScoreStore
    profiles: ProfileStore
    publisher: AlertPublisher
    models: Sequence[CompiledModel]
    pepper: bytes
    clock: Callable[[], int]
    alert_lease_seconds: int = 60
    pause: Callable[[int], None] = field(default=jittered_pause, repr=False)
    ledger: LedgerRecorder | None = None  # buffers the ledger lines; the handler flushes once per batch
    # Erasure (services/leads.py): is this normalised address suppressed? Asked only before a lead would be
    # created (no score item), so scoring a known lead costs nothing more.
    erased: Callable[[str], bool] | None = None
    # ---- feedback SLA: an outcome event clears the lead's "alert awaiting feedback" marks (feedback_sla.py) ----
    feedback_marks: FeedbackMarksClearing | None = None

    def is_erased(self, email: str) -> bool:
        """Whether the address was erased (one read; the scorer asks only before linking a visitor)."""
        return self.erased is not None and self.erased(email)

    def process(self, event: LeadEvent) -> list[ModelOutcome]:
        """Score `event` under every model.

        Raises:
            ContentionError, StoreUnavailable: retryable; the caller reports the record as failed so SQS
            redelivers it, and redelivery changes no score twice. Never for a pending alert (see AlertOutbox).
        """
        facts = facts_from_event(event)
        lead_id = lead_id_for(event.email, self.pepper)
        answer: list[bool] = []

        def erased() -> bool:  # asked at most once per event, and only where a lead could be (re)created
            if not answer:
                answer.append(self.is_erased(event.email))
            return answer[0]

        if facts.type in OUTCOME_TYPES:
            if erased():  # feedback on an erased address must not bring its profile back
                return [ModelOutcome(model.id, Path.SUPPRESSED, None) for model in self.models]
            self.profiles.record_outcome(lead_id, event.email, facts.type, facts.occurred_at, event.properties)
        read_at = self.clock()  # before any read of the score items (feedback_clearing.py)
        profile_written = False
        outcomes: list[ModelOutcome] = []
        try:
            for model in self.models:
                outcome, wrote_profile = self._score_under(model, facts, event, lead_id, profile_written, erased=erased)
                profile_written = profile_written or wrote_profile
                outcomes.append(outcome)
            if facts.type in OUTCOME_TYPES and self.feedback_marks is not None:  # ---- feedback SLA ----
                self._clear_feedback_marks(lead_id, facts.occurred_at, outcomes, read_at)
        finally:  # what was written is recorded, even when a later model fails the record (SQS redelivers)
            suppressed = any(outcome.path is Path.SUPPRESSED for outcome in outcomes)
            if self.ledger is not None and not suppressed:  # an erased address leaves no ledger line
                self.ledger.append(event, lead_id, self.models, outcomes, recorded_at=self.clock())
        return outcomes

    def _clear_feedback_marks(
        self, lead_id: str, occurred_at: int, outcomes: Sequence[ModelOutcome], read_at: int
    ) -> None:
        """Sales answered: the lead's alerts stop awaiting feedback. A model whose score item, as this outcome's
        scoring read it, holds no alert the feedback may answer is skipped: its clear could only fail, yet
        cost a write unit (services/feedback_clearing.py argues why a concurrent alert is not lost)."""
        assert self.feedback_marks is not None
        for outcome in outcomes:
            read = outcome.path in READ_PATHS
            if may_hold_a_mark(outcome.state, read=read, occurred_at=occurred_at, read_at=read_at):
                self.feedback_marks.clear(lead_id, outcome.model_id, occurred_at)

    def _score_under(
        self,
        model: CompiledModel,
        facts: EventFacts,
        event: LeadEvent,
        lead_id: str,
        profile_written: bool,
        *,
        erased: Callable[[], bool] = lambda: False,
    ) -> tuple[ModelOutcome, bool]:
        now = self.clock()
        plan = plan_fast_path(facts, model, now=now)
        if plan is not None:
            write = self.scores.apply_fast(lead_id, model.id, plan)
            if write.applied:
                after = write.after  # no threshold crossed (the plan's guards): the stage did not move
                stage = after.stage if after else None
                hits = fast_path_hits(facts, model)
                probability, published = self._predict_after_fast(model, write.state_after, facts, now)
                outcome = ModelOutcome(
                    model.id,
                    Path.FAST,
                    None,
                    alert_published=published,
                    hits=hits,
                    stage_before=stage,
                    standing=after,
                    probability=probability,
                )
                return outcome, False
            state = write.current
        elif not facts.attributes and not engagement_hits(facts, model):
            # Outcome events are rare and their ledger line should say where the lead stood: one read.
            known = self.scores.load(lead_id, model.id) if facts.type in OUTCOME_TYPES else None
            probability = _probability(model, known, facts.occurred_at)
            return ModelOutcome(model.id, Path.NO_OP, known, stage_before=_stage(known), probability=probability), False
        else:
            state = self.scores.load(lead_id, model.id)  # rare: a rule worth more than its own cap
        if state is None and erased():
            return ModelOutcome(model.id, Path.SUPPRESSED, None), False

        result, wrote_profile = self._apply_exactly(
            model=model,
            facts=facts,
            event=event,
            lead_id=lead_id,
            state=state,
            now=now,
            profile_written=profile_written,
        )
        final = result.state
        published = None
        if final.alert_pending is not None:
            holds_lease = result.new_alert is not None
            published = self._deliver_alert(model, final, now, holds_lease=holds_lease)
        path = {Outcome.APPLIED: Path.EXACT, Outcome.DUPLICATE: Path.DUPLICATE}.get(result.outcome, Path.NO_OP)
        outcome = ModelOutcome(
            model.id,
            path,
            final,
            result.stage_changed,
            published,
            hits=result.hits,
            stage_before=result.stage_before,
            probability=final.probability if path is Path.EXACT else _probability(model, final, facts.occurred_at),
        )
        return outcome, wrote_profile

    def _predict_after_fast(
        self, model: CompiledModel, state: ScoreState | None, facts: EventFacts, now: int
    ) -> tuple[Decimal | None, str | None]:
        """The probability after a fast-path write, from its ALL_NEW state: no read, and no write unless the
        predictive stage rises or a predictive alert is owed (then one write conditioned on the version).

        Otherwise the stored probability lags until the lead's next full write (exact path or decay); readers
        recompute it from the state. Returns (probability, alert id handed to the alert queue).
        """
        probability = None
        for _ in range(MAX_ATTEMPTS):
            if state is None or model.predictive is None:  # no predictive block (or no state decoded for it)
                return probability, None
            new = replace(state)  # predict_into only assigns fields: a shallow copy keeps `state` intact
            predicted = predict_into(
                new,
                model,
                at=facts.occurred_at,
                seed=facts.fingerprint,
                now=now,
                lease_seconds=self.alert_lease_seconds,
            )
            if predicted is None:
                return probability, None
            probability = predicted.estimate.probability
            if not worth_a_write(state, new):
                return probability, None
            new.version = state.version + 1
            write = self.scores.save(new, expected_version=state.version)
            if write.applied:
                published = self._deliver_alert(model, new, now, holds_lease=True) if predicted.alert else None
                return probability, published
            # Another write landed (it may have recorded the crossing already), or the lead was erased (None).
            state = write.current
        # Still contended: the event is applied; the lead's next full write records the crossing.
        return probability, None

    def _apply_exactly(
        self,
        *,
        model: CompiledModel,
        facts: EventFacts,
        event: LeadEvent,
        lead_id: str,
        state: ScoreState | None,
        now: int,
        profile_written: bool,
    ) -> tuple[ScoreResult, bool]:
        wrote_profile = False
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                self.pause(attempt)
            base = state or new_state(lead_id, model)
            result = score_event(facts, model, base, now=now, alert_lease_seconds=self.alert_lease_seconds)
            if result.outcome is not Outcome.APPLIED:
                return result, wrote_profile
            predicted = predict_into(  # the predictive block: stored in this same write, at the event's time
                result.state, model, at=facts.occurred_at, seed=facts.fingerprint, now=now,
                lease_seconds=self.alert_lease_seconds,
            )  # fmt: skip
            if predicted is not None and predicted.alert is not None:
                result = result._replace(new_alert=predicted.alert)
            if (result.attributes_changed or not base.version) and not (profile_written or wrote_profile):
                # Before the score write: a crash in between leaves a profile and a retryable event.
                self.profiles.upsert(lead_id, event.email, event.attributes, facts.occurred_at)
                wrote_profile = True
            write = self.scores.save(result.state, expected_version=base.version)
            if write.applied:
                return result, wrote_profile
            state = write.current
        raise ContentionError(f"lead changed {MAX_ATTEMPTS} times while scoring one event")

    def _deliver_alert(self, model: CompiledModel, state: ScoreState, now: int, *, holds_lease: bool) -> str | None:
        outbox = AlertOutbox(self.scores, self.profiles, self.publisher, self.alert_lease_seconds)
        return outbox.deliver(model, state, now, holds_lease=holds_lease)


HANDOFF_HOLD_SECONDS = 900  # once the alert queue has an alert, look at it again only after this long


@dataclass
class AlertOutbox:
    """Hands a lead's pending alert to the alert queue (the scorer after its write; the decay job for strays).

    The publisher here is the deduplicating hop (adapters/alert_queue.py: SQS FIFO, deduplication id = alert
    id); its sender (services/alert_sender.py) publishes to SNS and then clears the outbox. So handing the
    same alert over twice is harmless: within the queue's 5-minute window SQS drops the copy, after it the
    sender finds the outbox cleared (or its own attempt in doubt) and publishes nothing new.
    """

    scores: ScoreStore
    profiles: ProfileStore
    publisher: AlertPublisher
    alert_lease_seconds: int = 60
    hold_seconds: int = HANDOFF_HOLD_SECONDS
    pause: Callable[[int], None] = field(default=backoff_pause, repr=False)

    def deliver(self, model: CompiledModel, state: ScoreState, now: int, *, holds_lease: bool) -> str | None:
        """Hand the pending alert to the alert queue once. Returns its id if this call handed it over.

        Whoever holds a live lease is responsible: a call that finds a live lease held by someone else leaves
        the alert alone, and a stranded alert (lease expired) is taken over by the next caller. Never raises
        for the alert's sake: the event was scored, and a failed hand-off frees the lease for the lead's next
        event, the decay run or the alert DLQ's redrive (the alert keeps its own retry path).
        """
        pending = state.alert_pending
        assert pending is not None
        holding = holds_lease
        try:
            if not holding:
                if pending.lease_until > now:
                    return None
                claimed = self.scores.claim_alert(
                    state.lead_id, model.id, pending.alert_id, now, now + self.alert_lease_seconds
                )
                if claimed is None:
                    return None  # claimed or completed by someone else in the meantime
                state, holding = claimed, True
            profile = self.profiles.get(state.lead_id)
            message = compose_alert(
                state,
                pending,
                model,
                profile.attributes if profile else {},
                profile.email if profile else None,
            )
            self.publisher.publish(message)
        except (PublishFailed, StoreUnavailable):
            if holding:  # never free a lease someone else holds
                self._release(state.lead_id, model.id, pending.alert_id)
            return None
        # The queue's sender owns it now; a hold that fails only lets the lease lapse early (a second
        # hand-off is then dropped by the queue, or finds the alert delivered).
        with suppress(StoreUnavailable):
            retry_idempotent(
                lambda: self.scores.hold_alert(state.lead_id, model.id, pending.alert_id, now + self.hold_seconds),
                pause=self.pause,
            )
        return pending.alert_id

    def _release(self, lead_id: str, model_id: str, alert_id: str) -> None:
        with suppress(StoreUnavailable):  # else the lease expires by itself
            self.scores.release_alert(lead_id, model_id, alert_id)
