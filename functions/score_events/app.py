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

from leadscore import clock
from leadscore.adapters.alert_queue import FifoAlertQueue
from leadscore.adapters.clients import client
from leadscore.adapters.dynamodb import DynamoLeadStore
from leadscore.adapters.secrets import pepper
from leadscore.core.rules import CompiledModel, compile_model
from leadscore.errors import LeadscoreError
from leadscore.models.events import LeadEvent
from leadscore.models.model_files import load_models
from leadscore.models.settings import ScorerSettings
from leadscore.observability import CAPTURE_COLD_START, logger, metrics, tracer
from leadscore.services.scoring import ScoringService
from leadscore.sources import ses


class UnreadableEvent(LeadscoreError):
    """A queue message that is not a LeadEvent; it goes to the DLQ after its retries."""


@lru_cache(maxsize=2)
def load_compiled_models(models_dir: Path) -> tuple[CompiledModel, ...]:
    return tuple(compile_model(model) for model in load_models(models_dir).values())


@lru_cache(maxsize=2)
def build_service(settings: ScorerSettings) -> ScoringService:
    models = load_compiled_models(settings.models_dir)
    store = DynamoLeadStore(client("dynamodb"), settings.table_name, models)
    return ScoringService(
        scores=store,
        profiles=store,
        publisher=FifoAlertQueue(client("sqs"), settings.alerts_queue_url),
        models=models,
        pepper=pepper(settings.pepper_secret_id),
        clock=clock.now_epoch,
        alert_lease_seconds=settings.alert_lease_seconds,
    )


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
    service = build_service(ScorerSettings.from_env(os.environ))
    for event in parse_events(record.body):
        logger.append_keys(event_id=event.event_id, source=event.source, event_type=event.type.value)
        for outcome in service.process(event):
            metrics.add_metric(name=f"Scored_{outcome.path.value}", unit=MetricUnit.Count, value=1)
            if outcome.alert_published:
                metrics.add_metric(name="SalesAlerts", unit=MetricUnit.Count, value=1)
                logger.info("sales alert handed to the alert queue", extra={"alert_id": outcome.alert_published})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=CAPTURE_COLD_START)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    # A processor per invocation: it holds the batch's results, and the local runner and tests may invoke
    # this handler from several threads at once.
    processor = BatchProcessor(event_type=EventType.SQS)
    return process_partial_response(event=event, record_handler=score_record, processor=processor, context=context)
