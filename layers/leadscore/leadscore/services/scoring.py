"""Scoring one queued event: fast path, exact fallback, then the alert outbox. No AWS types in here."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from leadscore.adapters.ports import AlertPublisher, ProfileStore, ScoreStore
from leadscore.core.alerts import compose_alert
from leadscore.core.fast_path import plan_fast_path
from leadscore.core.identity import lead_id_for
from leadscore.core.rules import CompiledModel
from leadscore.core.scoring import (
    EventFacts,
    Outcome,
    ScoreResult,
    engagement_hits,
    facts_from_event,
    new_state,
    score_event,
)
from leadscore.core.state import ScoreState
from leadscore.errors import ContentionError, PublishFailed
from leadscore.models.events import LeadEvent

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
    state: ScoreState | None
    stage_changed: bool = False
    alert_published: str | None = None  # alert id published during this call


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
    # Erasure (services/leads.py): is this normalised address suppressed? Asked only before a lead would be
    # created (no score item), so scoring a known lead costs nothing more.
    erased: Callable[[str], bool] | None = None

    def process(self, event: LeadEvent) -> list[ModelOutcome]:
        """Score `event` under every model.

        Raises:
            ContentionError, PublishFailed, StoreUnavailable: all retryable; the caller reports the record
            as failed so SQS redelivers it, and redelivery changes no score twice.
        """
        facts = facts_from_event(event)
        lead_id = lead_id_for(event.email, self.pepper)
        profile_written = False
        outcomes: list[ModelOutcome] = []
        answer: list[bool] = []

        def erased() -> bool:  # asked at most once per event
            if not answer:
                answer.append(self.erased is not None and self.erased(event.email))
            return answer[0]

        for model in self.models:
            outcome, wrote_profile = self._score_under(model, facts, event, lead_id, profile_written, erased=erased)
            profile_written = profile_written or wrote_profile
            outcomes.append(outcome)
        return outcomes

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
                return ModelOutcome(model.id, Path.FAST, None), False
            state = write.current
        elif not facts.attributes and not engagement_hits(facts, model):
            return ModelOutcome(model.id, Path.NO_OP, None), False
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
        return ModelOutcome(model.id, path, final, result.stage_changed, published), wrote_profile

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


@dataclass
class AlertOutbox:
    """Delivers a lead's pending alert exactly once (the scorer after its write; the decay job for strays)."""

    scores: ScoreStore
    profiles: ProfileStore
    publisher: AlertPublisher
    alert_lease_seconds: int = 60

    def deliver(self, model: CompiledModel, state: ScoreState, now: int, *, holds_lease: bool) -> str | None:
        """Publish the pending alert once. Returns its id if this call published it.

        Whoever holds a live lease is responsible: it publishes, or its own record fails and is redelivered
        (after the lease has been released, or has expired). So a call that finds a live lease held by
        someone else leaves the alert alone and succeeds, and a stranded alert (lease expired) is taken
        over by the next event of the lead.
        """
        pending = state.alert_pending
        assert pending is not None
        if not holds_lease:
            if pending.lease_until > now:
                return None
            claimed = self.scores.claim_alert(
                state.lead_id, model.id, pending.alert_id, now, now + self.alert_lease_seconds
            )
            if claimed is None:
                return None  # claimed or completed by someone else in the meantime
            state = claimed
        profile = self.profiles.get(state.lead_id)
        message = compose_alert(
            state,
            pending,
            model,
            profile.attributes if profile else {},
            profile.email if profile else None,
        )
        try:
            self.publisher.publish(message)
        except PublishFailed:
            # Let the redelivery of this record (or any later event of the lead) take over at once.
            self.scores.release_alert(state.lead_id, model.id, pending.alert_id)
            raise
        self.scores.complete_alert(state.lead_id, model.id, pending.alert_id, now)
        return pending.alert_id
