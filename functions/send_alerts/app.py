"""FIFO queue of sales alerts → SNS sales topic, once each; the score item's outbox is cleared after SNS has it.

Also run every few minutes by a schedule ({"action": "sweep"}): hands over alerts stranded in an outbox."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from leadscore import clock
from leadscore.adapters.alert_queue import FifoAlertQueue, QueuedAlert
from leadscore.adapters.clients import client
from leadscore.adapters.dynamodb import DynamoLeadStore
from leadscore.adapters.sns import SnsAlertPublisher
from leadscore.core.rules import CompiledModel
from leadscore.models.served_models import load_served_models
from leadscore.models.settings import AlertSenderSettings
from leadscore.observability import CAPTURE_COLD_START, logger, metrics, tracer
from leadscore.services.alert_sender import AlertSender, Sent
from leadscore.services.alert_sweep import AlertSweep
from leadscore.services.scoring import AlertOutbox


class ScheduledSweep(BaseModel):
    """The schedule's input (template.yaml: AlertSweepSchedule)."""

    action: Literal["sweep"]


@lru_cache(maxsize=2)
def build_service(settings: AlertSenderSettings) -> AlertSender:
    return AlertSender(
        outbox=DynamoLeadStore(client("dynamodb"), settings.table_name),
        publisher=SnsAlertPublisher(client("sns"), settings.topic_arn),
        clock=clock.now_epoch,
    )


@lru_cache(maxsize=2)
def load_compiled_models(models_dir: Path) -> tuple[CompiledModel, ...]:
    return load_served_models(models_dir)


@lru_cache(maxsize=2)
def build_sweep(settings: AlertSenderSettings) -> AlertSweep:
    models = load_compiled_models(settings.models_dir)
    store = DynamoLeadStore(client("dynamodb"), settings.table_name, models)
    publisher = FifoAlertQueue(client("sqs"), settings.alerts_queue_url)
    outbox = AlertOutbox(store, store, publisher, settings.alert_lease_seconds)
    return AlertSweep(store=store, outbox=outbox, models=models)


def sweep(event: dict[str, Any]) -> dict[str, Any]:
    parse(event=event, model=ScheduledSweep)
    handed = build_sweep(AlertSenderSettings.from_env(os.environ)).run(clock.now_epoch())
    if handed:
        logger.warning("stranded alerts handed over again", extra={"alerts": handed})
    metrics.add_metric(name="AlertsSwept", unit=MetricUnit.Count, value=handed)
    return {"handed_over": handed}


@tracer.capture_method(capture_response=False)
def send_record(record: SQSRecord) -> None:
    alert = QueuedAlert.model_validate_json(record.body)  # unreadable: fails, and goes to the DLQ in time
    logger.append_keys(alert_id=alert.alert_id, model=alert.model_id)
    sent = build_service(AlertSenderSettings.from_env(os.environ)).send(alert.message())
    metrics.add_metric(name=f"Alerts_{sent.value}", unit=MetricUnit.Count, value=1)
    if sent is Sent.REPUBLISHED_IN_DOUBT:
        logger.warning("alert published again: an earlier attempt may have reached SNS")
    elif sent is Sent.PUBLISHED:
        logger.info("sales alert published")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=CAPTURE_COLD_START)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse | dict[str, Any]:
    if "Records" not in event:
        return sweep(event)
    # FIFO: a failed record fails the rest of its message group in this batch (kept in order); other leads'
    # alerts go on.
    processor = SqsFifoPartialProcessor(skip_group_on_error=True)
    return process_partial_response(event=event, record_handler=send_record, processor=processor, context=context)
