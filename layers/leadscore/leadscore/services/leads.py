"""The leads API's use cases: a lead's page, the hot list, feedback (outcome events) and erasure.

No AWS types here: the store is DynamoLeadsReader (adapters/lead_reads.py) behind the `LeadsStore` protocol.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from leadscore.adapters.feedback_marks import AwaitingAlert
from leadscore.adapters.lead_reads import IndexEntry, LeadPartition
from leadscore.adapters.ports import EventQueue
from leadscore.core.decay import apply_decay, day_of_code, epoch_day
from leadscore.core.erasure import ForgedCursor, cursor_key, open_cursor, sign_cursor, suppression_key
from leadscore.core.identity import lead_id_for
from leadscore.core.prediction import estimate
from leadscore.core.rules import CompiledModel
from leadscore.core.stages import DAY_SECONDS, band_for
from leadscore.core.state import STAGE_LOG_MAX, ScoreState, Stage
from leadscore.errors import LeadscoreError
from leadscore.models.events import LeadEvent, normalise_email
from leadscore.models.feedback_sla import DEFAULT_SLA_HOURS
from leadscore.models.leads_api import (
    Activity,
    ErasureResult,
    FeedbackRecord,
    FeedbackRequest,
    FeedbackResult,
    HotLead,
    HotList,
    LeadView,
    ModelScore,
    PredictiveFactor,
    PredictiveScore,
    RuleLine,
    StageHistory,
    StagePeriod,
)
from leadscore.services.awaiting_feedback import awaiting_feedback, display_fields

STAGE_SHARDS = 4  # = score_item.STAGE_SHARDS (the by-stage index's shards per model and stage)
ACTIVITY_SHOWN = 20
FEEDBACK_SOURCE = "sales"


class LeadNotFound(LeadscoreError):
    """No lead under this reference."""


class BadParameter(LeadscoreError):
    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter


class IdempotencyConflict(LeadscoreError):
    """The Idempotency-Key was used before with another body."""


class LeadsStore(Protocol):
    def partition(self, lead_id: str) -> LeadPartition: ...

    def index_page(
        self, partition: str, *, at_most: Decimal | None, at_least: Decimal | None, limit: int, start: Any
    ) -> tuple[list[IndexEntry], Any]: ...

    def put_outcome(self, lead_id: str, event_id: str, record: dict[str, Any]) -> dict[str, Any] | None: ...

    def put_suppression(self, key: str, at: int) -> None: ...

    def put_audit(self, sort_key: str, record: dict[str, Any]) -> None: ...

    def delete_partition(self, lead_id: str) -> int: ...

    def erase_visitors(self, visitors_table: str, lead_id: str) -> tuple[int, int]: ...

    def profiles_for(self, lead_ids: Sequence[str]) -> dict[str, dict[str, Any]]: ...

    def awaiting_page(
        self, partition: str, *, from_at: int | None, limit: int, start: Any
    ) -> tuple[list[AwaitingAlert], Any]: ...


def _iso(epoch: int | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(epoch_day_number: int) -> str:
    return datetime.fromtimestamp(epoch_day_number * DAY_SECONDS, UTC).strftime("%Y-%m-%d")


def _predictive_score(state: ScoreState, stored: ScoreState, model: CompiledModel, now: int) -> PredictiveScore | None:
    """The probability at `now` from the decayed state: the scorer's own arithmetic (core/prediction.py)."""
    found = estimate(state, model, now)
    if found is None:
        return None
    from leadscore.predictive.words import stored_factor_label  # noqa: PLC0415 - only a model with a block

    return PredictiveScore(
        probability=float(found.probability),
        p_stage=None if found.stage is None else found.stage.value,
        factors=[
            PredictiveFactor(label=stored_factor_label(f, model.descriptions), contribution=float(f.contribution))
            for f in found.factors
        ],
        artefact_version=found.version,
        stored_probability=None if stored.probability is None else float(stored.probability),
    )


def _money(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))


@dataclass
class LeadsService:
    store: LeadsStore
    queue: EventQueue
    models: Sequence[CompiledModel]
    pepper: bytes
    clock: Callable[[], int]
    visitors_table: str | None = None
    sla_hours: int = DEFAULT_SLA_HOURS  # feedback SLA: an alert older than this without feedback is overdue
    by_id: dict[str, CompiledModel] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {model.id: model for model in self.models}

    # --- references ---------------------------------------------------------------------------------
    def lead_id_of(self, ref: str) -> str:
        """An email address (hashed with the pepper, as the scorer does) or a lead id as is."""
        return lead_id_for(normalise_email(ref), self.pepper) if "@" in ref else ref

    def _existing(self, ref: str) -> tuple[str, LeadPartition]:
        lead_id = self.lead_id_of(ref)
        found = self.store.partition(lead_id)
        if found.empty:
            raise LeadNotFound("no lead with this reference")
        return lead_id, found

    # --- GET /leads/{ref} ---------------------------------------------------------------------------
    def lead(self, ref: str) -> LeadView:
        lead_id, found = self._existing(ref)
        now = self.clock()
        scores = [
            self._model_score(state, now, found.awaiting.get(state.model_id))
            for state in sorted(found.scores, key=lambda s: s.model_id)
        ]
        activity = [
            Activity(model_id=state.model_id, rule=rule, day=_day(day_of_code(code)), hits=state.hits.get(rule, 0))
            for state in found.scores
            for rule, code in state.rule_days.items()
        ]
        activity.sort(key=lambda line: (line.day, line.rule), reverse=True)
        feedback = sorted((_feedback_record(item) for item in found.outcomes), key=lambda f: f.recorded_at)
        profile = found.profile
        return LeadView(
            lead_id=lead_id,
            email=profile.email if profile else None,
            attributes=dict(profile.attributes) if profile else {},
            models=scores,
            activity=activity[:ACTIVITY_SHOWN],
            feedback=feedback,
        )

    def decayed(self, state: ScoreState, now: int) -> ScoreState:
        """The state as the decay job would store it today (the same function, core/decay.apply_decay)."""
        model = self.by_id.get(state.model_id)
        return state if model is None else apply_decay(state, model, now=now).state

    def _model_score(self, stored: ScoreState, now: int, awaiting: tuple[int, int | None] | None = None) -> ModelScore:
        state = self.decayed(stored, now)
        model = self.by_id.get(state.model_id)
        band = band_for(state.fit, state.engagement, model.model) if model else ""
        breakdown = [
            RuleLine(
                rule=rule,
                points=float(points),
                hits=state.hits.get(rule, 0),
                last_activity=_day(day_of_code(state.rule_days[rule])) if rule in state.rule_days else None,
            )
            for rule, points in sorted(state.points.items(), key=lambda item: -abs(item[1]))
        ]
        return ModelScore(
            model_id=state.model_id,
            model_version=state.model_version,
            fit=float(state.fit),
            engagement=float(state.engagement),
            total=float(state.total),
            stage=state.stage.value,
            band=band,
            stored_total=float(stored.total),
            decayed_to=_day(epoch_day(now)),
            breakdown=breakdown,
            stage_history=StageHistory(
                stage=state.stage.value,
                entered_at=_iso(state.stage_changed_at),
                recycled_at=_iso(state.recycled_at),
                periods=stage_periods(state),
            ),
            alerts_sent=state.alerts_sent,
            last_alert_at=_iso(state.last_alert_at),
            alert_pending=state.alert_pending is not None,
            awaiting_feedback_since=_iso(awaiting[0]) if awaiting else None,
            sla_reported_at=_iso(awaiting[1]) if awaiting else None,
            suppressed=state.suppressed,
            last_activity_at=_iso(state.last_activity_at),
            predictive=None if model is None else _predictive_score(state, stored, model, now),
        )

    # --- GET /leads ---------------------------------------------------------------------------------
    def hot_list(
        self,
        *,
        model_id: str,
        stages: Sequence[Stage],
        band: str | None,
        min_total: Decimal | None,
        limit: int,
        cursor: str | None,
    ) -> HotList:
        """Leads of `model_id` in `stages`, highest stored total first (ties: lead id), `limit` at a time.

        Every (stage, shard) index partition is read from the cursor's position down and the pages merged;
        a partition is read again only while its entries may still make the page (band filters after).
        """
        model = self.by_id.get(model_id)
        if model is None:
            raise BadParameter("model", f"unknown model {model_id!r}")
        query = hashlib.sha256(
            json.dumps([model_id, sorted(s.value for s in stages), band, str(min_total)]).encode()
        ).hexdigest()[:16]
        key = cursor_key(self.pepper)
        after: tuple[Decimal, str] | None = None
        if cursor:
            try:
                position = open_cursor(cursor, query, key)
                after = (Decimal(str(position["t"])), str(position["id"]))
            except (ForgedCursor, KeyError, ValueError, ArithmeticError) as exc:
                raise BadParameter("cursor", str(exc) if isinstance(exc, ForgedCursor) else "malformed") from None

        def keep(entry: IndexEntry) -> bool:
            if after is not None and (
                entry.total > after[0] or (entry.total == after[0] and entry.lead_id <= after[1])
            ):
                return False
            return band is None or band_for(entry.fit, entry.engagement, model.model) == band

        streams = [
            self._partition_stream(f"{model_id}#{stage.value}#{shard}", after, min_total, limit, keep)
            for stage in stages
            for shard in range(STAGE_SHARDS)
        ]
        merged = heapq.merge(*streams, key=lambda entry: (-entry.total, entry.lead_id))
        page: list[IndexEntry] = []
        for entry in merged:
            if len(page) == limit:
                last = page[-1]
                next_cursor = sign_cursor({"t": str(last.total), "id": last.lead_id}, query, key)
                return HotList(items=self._named([self._hot(e, model) for e in page]), cursor=next_cursor)
            page.append(entry)
        return HotList(items=self._named([self._hot(e, model) for e in page]), cursor=None)

    def _named(self, rows: list[HotLead]) -> list[HotLead]:
        """Rows with the name, company and title from the leads' profiles (one batch read for the page)."""
        if not rows:
            return rows
        profiles = self.store.profiles_for([row.lead_id for row in rows])
        return [row.model_copy(update=display_fields(profiles.get(row.lead_id, {}))) for row in rows]

    # --- GET /leads?awaiting_feedback=true (feedback SLA) -------------------------------------------
    def awaiting_feedback(self, *, model_id: str, limit: int, cursor: str | None) -> HotList:
        """Leads of `model_id` whose last sales alert has had no feedback, oldest alert first."""
        model = self.by_id.get(model_id)
        if model is None:
            raise BadParameter("model", f"unknown model {model_id!r}")
        query = hashlib.sha256(json.dumps(["awaiting_feedback", model_id]).encode()).hexdigest()[:16]
        key = cursor_key(self.pepper)
        after: tuple[int, str] | None = None
        if cursor:
            try:
                position = open_cursor(cursor, query, key)
                after = (int(position["at"]), str(position["id"]))
            except (ForgedCursor, KeyError, ValueError, TypeError) as exc:
                raise BadParameter("cursor", str(exc) if isinstance(exc, ForgedCursor) else "malformed") from None
        page, more = awaiting_feedback(self.store, model_id, after=after, limit=limit)
        overdue_before = self.clock() - self.sla_hours * 3600
        rows = [
            HotLead(
                lead_id=entry.lead_id,
                model_id=model_id,
                stage=entry.stage,
                band=band_for(entry.fit, entry.engagement, model.model),
                fit=float(entry.fit),
                engagement=float(entry.engagement),
                total=float(entry.total),
                alerted_at=_iso(entry.alert_at),
                overdue=entry.alert_at <= overdue_before,
                sla_reported_at=_iso(entry.reported_at),
            )
            for entry in page
        ]
        next_cursor = (
            sign_cursor({"at": page[-1].alert_at, "id": page[-1].lead_id}, query, key) if more and page else None
        )
        return HotList(items=self._named(rows), cursor=next_cursor)

    def _partition_stream(
        self,
        partition: str,
        after: tuple[Decimal, str] | None,
        min_total: Decimal | None,
        limit: int,
        keep: Callable[[IndexEntry], bool],
    ) -> Any:
        start: Any = None
        at_most = after[0] if after else None
        held: list[IndexEntry] = []  # entries tied with the page's lowest total: the next page may add to them
        while True:
            entries, start = self.store.index_page(
                partition, at_most=at_most, at_least=min_total, limit=limit + 1, start=start
            )
            held += entries
            if start and held:
                lowest = held[-1].total  # the index returns totals in descending order
                ready = [entry for entry in held if entry.total > lowest]
                held = [entry for entry in held if entry.total <= lowest]
            else:
                ready, held = held, []
            # Equal totals come in no defined order within a partition: order them by lead id here.
            ready.sort(key=lambda entry: (-entry.total, entry.lead_id))
            yield from (entry for entry in ready if keep(entry))
            if not start:
                return

    @staticmethod
    def _hot(entry: IndexEntry, model: CompiledModel) -> HotLead:
        return HotLead(
            lead_id=entry.lead_id,
            model_id=entry.model_id,
            stage=entry.stage,
            band=band_for(entry.fit, entry.engagement, model.model),
            fit=float(entry.fit),
            engagement=float(entry.engagement),
            total=float(entry.total),
        )

    # --- POST /leads/{ref}/feedback -----------------------------------------------------------------
    def record_feedback(
        self, ref: str, request: FeedbackRequest, idempotency_key: str, actor: str | None
    ) -> FeedbackResult:
        """Store the outcome once per Idempotency-Key, then queue it as an outcome LeadEvent.

        The event id is derived from the key, so a retry (even after a crash between the two steps) queues
        the same event again and every consumer (scorer, ledger) sees one event.
        """
        lead_id, found = self._existing(ref)
        if found.profile is None or not found.profile.email:
            raise LeadNotFound("the lead has no profile to attach feedback to")
        event_id = "fb-" + hashlib.sha256(f"{lead_id}\x1f{idempotency_key}".encode()).hexdigest()[:32]
        body = request.model_dump(mode="json", exclude_none=True)
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        now = self.clock()
        record: dict[str, Any] = {
            "outcome": request.outcome.value,
            "reason": request.reason,
            "amount": request.amount,
            "currency": request.currency,
            "note": request.note,
            "at": now,
            "by": actor,
            "digest": digest,
        }
        stored = self.store.put_outcome(lead_id, event_id, record)
        if stored is not None and stored.get("digest") != digest:
            raise IdempotencyConflict("this Idempotency-Key was used with another body")
        at = int(stored["at"]) if stored is not None else now
        properties: dict[str, str | int | float | bool | None] = {"feedback_id": event_id}
        if request.reason:
            properties["reason"] = request.reason
        if request.amount is not None:
            properties |= {"amount": float(request.amount), "currency": request.currency}
        moment = datetime.fromtimestamp(at, UTC)
        event = LeadEvent(
            event_id=event_id,
            source=FEEDBACK_SOURCE,
            type=request.outcome.event_type,
            occurred_at=moment,
            received_at=moment,
            email=found.profile.email,
            properties=properties,
        )
        self.queue.send([event])
        return FeedbackResult(event_id=event_id, lead_id=lead_id, outcome=request.outcome, replayed=stored is not None)

    # --- DELETE /leads/{ref} ------------------------------------------------------------------------
    def erase(self, ref: str, actor: str | None) -> ErasureResult:
        """Suppress first (so an event in flight cannot recreate the lead), then delete, then audit."""
        lead_id, found = self._existing(ref)
        email = normalise_email(ref) if "@" in ref else (found.profile.email if found.profile else "")
        now = self.clock()
        key = suppression_key(email, self.pepper) if email else ""
        if key:
            self.store.put_suppression(key, now)
        lead_items = self.store.delete_partition(lead_id)
        visitors, visitor_items = (
            self.store.erase_visitors(self.visitors_table, lead_id) if self.visitors_table else (0, 0)
        )
        audit_id = uuid.uuid4().hex
        # The audit names the lead id (a keyed hash) only by its own hash: nothing here leads back to a person.
        self.store.put_audit(
            f"{_iso(now)}#{audit_id}",
            {
                "audit_id": audit_id,
                "at": now,
                "by": actor,
                "lead_ref": hashlib.sha256(lead_id.encode()).hexdigest()[:16],
                "suppression_key": key or None,
                "lead_items": lead_items,
                "visitors": visitors,
                "visitor_items": visitor_items,
            },
        )
        return ErasureResult(
            lead_id=lead_id,
            audit_id=audit_id,
            lead_items_deleted=lead_items,
            visitors_deleted=visitors,
            visitor_items_deleted=visitor_items,
            suppression_key=key,
        )


def stage_periods(state: ScoreState) -> list[StagePeriod]:
    """The stage log as periods: each stage with when it was entered and left (oldest first).

    The first period starts at the lead's creation when the log reaches back that far; an item written before
    the log existed shows its current stage since `stage_changed_at` only."""
    log = list(state.stage_log)
    if not log:
        return [StagePeriod(stage=state.stage.value, entered_at=_iso(state.stage_changed_at), left_at=None)]
    periods: list[StagePeriod] = []
    if len(log) < STAGE_LOG_MAX:  # nothing trimmed: the lead started as a LEAD when it was created
        periods.append(StagePeriod(stage=Stage.LEAD.value, entered_at=_iso(state.created_at), left_at=_iso(log[0][1])))
    for index, (stage, at) in enumerate(log):
        left = log[index + 1][1] if index + 1 < len(log) else None
        periods.append(StagePeriod(stage=stage.value, entered_at=_iso(at), left_at=_iso(left)))
    return periods


def _feedback_record(item: dict[str, Any]) -> FeedbackRecord:
    amount = item.get("amount")
    return FeedbackRecord(
        event_id=str(item["sk"]).split("#", 1)[1],
        outcome=item["outcome"],
        reason=item.get("reason"),
        amount=None if amount is None else _money(Decimal(amount)),
        currency=item.get("currency"),
        note=item.get("note"),
        recorded_at=_iso(int(item["at"])) or "",
        recorded_by=item.get("by"),
    )
