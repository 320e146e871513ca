"""Scheduled decay. The schedule's invocation plans a run (one segment per model and index shard) onto the
segments queue; the same function consumes the segments (SQS, partial batch failures), each invocation
bounded by its own time budget and handing any rest of its segment back to the queue."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from leadscore import clock, priming, snapstart
from leadscore.adapters.alert_queue import FifoAlertQueue
from leadscore.adapters.clients import client
from leadscore.adapters.dynamodb import DynamoLeadStore
from leadscore.adapters.sqs import SqsJsonQueue
from leadscore.core.rules import CompiledModel
from leadscore.models.served_models import load_served_models
from leadscore.models.settings import DecaySettings
from leadscore.observability import CAPTURE_COLD_START, logger, metrics, tracer
from leadscore.services.decay import DecaySegment, DecayService
from leadscore.services.scoring import AlertOutbox


class ScheduledRun(BaseModel):
    """The schedule's input (template.yaml: DecaySchedule)."""

    action: Literal["plan"]


@lru_cache(maxsize=2)
def load_compiled_models(models_dir: Path) -> tuple[CompiledModel, ...]:
    return load_served_models(models_dir)


@lru_cache(maxsize=2)
def build_service(settings: DecaySettings) -> tuple[DecayService, SqsJsonQueue]:
    models = load_compiled_models(settings.models_dir)
    store = DynamoLeadStore(client("dynamodb"), settings.table_name, models)
    publisher = FifoAlertQueue(client("sqs"), settings.alerts_queue_url)
    outbox = AlertOutbox(store, store, publisher, settings.alert_lease_seconds)
    service = DecayService(store=store, models=models, outbox=outbox)
    return service, SqsJsonQueue(client("sqs"), settings.segments_queue_url)


def plan_run(event: dict[str, Any]) -> dict[str, Any]:
    parse(event=event, model=ScheduledRun)
    service, queue = build_service(DecaySettings.from_env(os.environ))
    segments = service.plan(clock.now_epoch())
    queue.send_json([segment.model_dump_json() for segment in segments])
    logger.info("decay run planned", extra={"segments": len(segments)})
    metrics.add_metric(name="DecaySegmentsPlanned", unit=MetricUnit.Count, value=len(segments))
    return {"segments": len(segments)}


def run_segment(record: SQSRecord, lambda_context: LambdaContext) -> None:
    segment = DecaySegment.model_validate_json(record.body)
    settings = DecaySettings.from_env(os.environ)
    service, queue = build_service(settings)
    report = service.run(
        segment, lambda: lambda_context.get_remaining_time_in_millis() / 1000, reserve_seconds=settings.reserve_seconds
    )
    if report.continuation is not None:
        queue.send_json([report.continuation.model_dump_json()])
    logger.info(
        "decay segment done",
        extra={"model": segment.model_id, "shard": segment.shard, "read": report.read, "written": report.written,
               "recycled": report.recycled, "rearmed": report.rearmed, "conflicts": report.conflicts,
               "alerts_delivered": report.alerts_delivered,
               "continued": report.continuation is not None},
    )  # fmt: skip
    metrics.add_metric(name="DecayLeadsRead", unit=MetricUnit.Count, value=report.read)
    metrics.add_metric(name="DecayLeadsWritten", unit=MetricUnit.Count, value=report.written)
    metrics.add_metric(name="LeadsRecycled", unit=MetricUnit.Count, value=report.recycled)
    if report.alerts_delivered:
        metrics.add_metric(name="SalesAlerts", unit=MetricUnit.Count, value=report.alerts_delivered)


@snapstart.before_snapshot
def prime() -> None:
    """SnapStart: the service (models, clients) before the snapshot (snapstart.py); it holds no secret."""
    build_service(DecaySettings.from_env(os.environ))
    priming.prime_clients("dynamodb", "sqs")
    DecaySegment.model_validate_json(DecaySegment(model_id="default", shard=0, now=0).model_dump_json())
    BatchProcessor(event_type=EventType.SQS)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=CAPTURE_COLD_START)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse | dict[str, Any]:
    if "Records" not in event:
        return plan_run(event)
    processor = BatchProcessor(event_type=EventType.SQS)
    return process_partial_response(event=event, record_handler=run_segment, processor=processor, context=context)
