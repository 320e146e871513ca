"""SQS batch of LeadEvents → one conditional score write per event per model; alerts sales exactly once."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from leadscore import clock, priming, snapstart
from leadscore.adapters.alert_queue import FifoAlertQueue
from leadscore.adapters.clients import client
from leadscore.adapters.dynamodb import DynamoLeadStore
from leadscore.adapters.feedback_marks import DynamoFeedbackMarks
from leadscore.adapters.firehose import FirehoseLedgerSink
from leadscore.adapters.lead_reads import DynamoLeadsReader
from leadscore.adapters.ledger_files import FileLedgerSink
from leadscore.adapters.secrets import pepper
from leadscore.adapters.visits import DynamoVisitorStore
from leadscore.core.erasure import suppression_key
from leadscore.core.rules import CompiledModel
from leadscore.errors import LeadscoreError
from leadscore.ledger.recorder import LedgerRecorder
from leadscore.models.events import LeadEvent
from leadscore.models.served_models import load_served_models
from leadscore.models.settings import ScorerSettings
from leadscore.models.visit_settings import LINKED_VISITOR_DAYS, StitchSettings
from leadscore.observability import CAPTURE_COLD_START, logger, metrics, tracer
from leadscore.services.scoring import Path as ScoringPath
from leadscore.services.scoring import ScoringService
from leadscore.services.stitching import StitchingService, carried_visitor
from leadscore.services.track import read_link_message
from leadscore.sources import ses


class UnreadableEvent(LeadscoreError):
    """A queue message that is not a LeadEvent; it goes to the DLQ after its retries."""


@lru_cache(maxsize=2)
def load_compiled_models(models_dir: Path) -> tuple[CompiledModel, ...]:
    return load_served_models(models_dir)


def build_ledger(settings: ScorerSettings) -> LedgerRecorder | None:
    if settings.ledger_dir is not None:
        return LedgerRecorder(FileLedgerSink(settings.ledger_dir))
    if settings.ledger_stream_name:
        return LedgerRecorder(FirehoseLedgerSink(client("firehose"), settings.ledger_stream_name))
    return None


@lru_cache(maxsize=2)
def build_service(settings: ScorerSettings) -> ScoringService:
    models = load_compiled_models(settings.models_dir)
    store = DynamoLeadStore(client("dynamodb"), settings.table_name, models)
    # ---- leads API: erased addresses are suppressed by keyed hash (core/erasure.py) ----
    key = pepper(settings.pepper_secret_id)
    erasures = DynamoLeadsReader(client("dynamodb"), settings.table_name)
    return ScoringService(
        ledger=build_ledger(settings),
        erased=lambda email: erasures.is_suppressed(suppression_key(email, key)),
        scores=store,
        profiles=store,
        publisher=FifoAlertQueue(client("sqs"), settings.alerts_queue_url),
        models=models,
        pepper=key,
        clock=clock.now_epoch,
        alert_lease_seconds=settings.alert_lease_seconds,
        feedback_marks=DynamoFeedbackMarks(client("dynamodb"), settings.table_name),  # feedback SLA
    )


@lru_cache(maxsize=2)
def build_stitching(scorer: ScorerSettings, settings: StitchSettings) -> StitchingService | None:
    if not settings.visitors_table:
        return None
    service = build_service(scorer)
    return StitchingService(
        visitors=DynamoVisitorStore(client("dynamodb"), settings.visitors_table),
        profiles=service.profiles,
        scoring=service,
        pepper=service.pepper,
        clock=clock.now_epoch,
        window_seconds=settings.visitor_ttl_days * 86_400,
        linked_ttl_seconds=LINKED_VISITOR_DAYS * 86_400,
    )


def stitch_link_message(body: str) -> bool:
    """A visitor identified by a signed token (queued by /track): link it and score its backlog."""
    try:
        link = read_link_message(json.loads(body))
    except ValueError:
        return False
    if link is None:
        return False
    stitching = build_stitching(ScorerSettings.from_env(os.environ), StitchSettings.from_env(os.environ))
    if stitching is None:
        raise UnreadableEvent("a visitor link, but VISITORS_TABLE_NAME is not set")
    result = stitching.link_token(link["visitor_id"], link["lead_id"], at=link["at"], owner=link["owner"])
    metrics.add_metric(name="VisitorsLinked", unit=MetricUnit.Count, value=int(result is not None))
    return True


# ---- end website ----


def parse_events(body: str) -> list[LeadEvent]:
    """The events in one queue message: a LeadEvent from our webhooks, or an SES event as SES sent it."""
    try:
        document = json.loads(body)
    except ValueError:
        raise UnreadableEvent("not JSON") from None
    if ses.is_ses_document(document):
        try:
            return ses.normalise_document(document, clock.now())
        except ses.NotSesEvent as exc:
            raise UnreadableEvent(str(exc)) from None
    try:
        return [LeadEvent.model_validate(document)]
    except ValidationError as exc:
        # Field names only: the payload holds an email address, which must not reach the logs.
        fields = sorted({".".join(map(str, error["loc"])) for error in exc.errors()})
        raise UnreadableEvent(f"not a LeadEvent (fields: {', '.join(fields)})") from None


@tracer.capture_method(capture_response=False)
def score_record(record: SQSRecord) -> None:
    if stitch_link_message(record.body):  # website: a token link, not an event
        return
    service = build_service(ScorerSettings.from_env(os.environ))
    if service.ledger is not None:
        service.ledger.begin(record.message_id)
    for event in parse_events(record.body):
        logger.append_keys(event_id=event.event_id, source=event.source, event_type=event.type.value)
        # Website: a form carrying the snippet's visitor id links the visitor and scores its earlier anonymous
        # views first, oldest first, so they meet the score in the order they happened (one write each).
        # An erased address links nothing (leads API erasure); only forms with a visitor id ask.
        stitching = build_stitching(ScorerSettings.from_env(os.environ), StitchSettings.from_env(os.environ))
        if stitching is not None and carried_visitor(event) is not None and not service.is_erased(event.email):
            stitched = stitching.after_event(event)
            if stitched is not None:
                metrics.add_metric(name="BacklogViewsScored", unit=MetricUnit.Count, value=stitched.scored)
        outcomes = service.process(event)
        if any(outcome.path is ScoringPath.SUPPRESSED for outcome in outcomes):
            metrics.add_metric(name="ErasedEventsDropped", unit=MetricUnit.Count, value=1)
            continue  # an erased address: no score, no profile, no visitor link
        for outcome in outcomes:
            metrics.add_metric(name=f"Scored_{outcome.path.value}", unit=MetricUnit.Count, value=1)
            if outcome.alert_published:
                metrics.add_metric(name="SalesAlerts", unit=MetricUnit.Count, value=1)
                logger.info("sales alert handed to the alert queue", extra={"alert_id": outcome.alert_published})


@snapstart.before_snapshot
def prime() -> None:
    """SnapStart: the first batch's setup before the snapshot (snapstart.py). The service itself needs the
    pepper (a secret, never in the snapshot), so its parts are built here and the scoring runs in memory."""
    settings = ScorerSettings.from_env(os.environ)
    models = load_compiled_models(settings.models_dir)
    priming.prime_clients("dynamodb", "sqs", "secretsmanager", *(["firehose"] if settings.ledger_stream_name else []))
    priming.prime_secrets_provider()
    priming.prime_scoring(models)
    parse_events(priming.synthetic_event().model_dump_json())
    BatchProcessor(event_type=EventType.SQS)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=CAPTURE_COLD_START)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    # A processor per invocation: it holds the batch's results, and the local runner and tests may invoke
    # this handler from several threads at once.
    processor = BatchProcessor(event_type=EventType.SQS)
    ledger = build_service(ScorerSettings.from_env(os.environ)).ledger
    if ledger is None:
        return process_partial_response(event=event, record_handler=score_record, processor=processor, context=context)
    ledger.discard()
    try:
        response = process_partial_response(
            event=event, record_handler=score_record, processor=processor, context=context
        )
    finally:  # also when every record failed: what was scored is recorded
        undelivered = ledger.flush()
    return with_failed_items(response, undelivered)


def with_failed_items(response: PartialItemFailureResponse, message_ids: set[str]) -> PartialItemFailureResponse:
    """Items whose ledger lines Firehose did not take are failed too: SQS redelivers them (at-least-once)."""
    if message_ids:
        logger.warning("ledger lines not delivered", extra={"failed_items": len(message_ids)})
        metrics.add_metric(name="LedgerUndeliveredItems", unit=MetricUnit.Count, value=len(message_ids))
    failed = [item["itemIdentifier"] for item in response["batchItemFailures"]]
    failed += sorted(message_ids - set(failed))
    return {"batchItemFailures": [{"itemIdentifier": item} for item in failed]}
