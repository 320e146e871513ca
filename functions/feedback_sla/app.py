"""Scheduled ({"action": "report"}): every sales alert still without feedback after FEEDBACK_SLA_HOURS is
reported to the ops topic, once; one still unanswered after FEEDBACK_SLA_EXPIRY_DAYS leaves the awaiting list
(services/feedback_sla.py)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from leadscore import clock
from leadscore.adapters.clients import client
from leadscore.adapters.feedback_marks import DynamoFeedbackMarks
from leadscore.adapters.sns import SnsAlertPublisher
from leadscore.models.feedback_sla import FeedbackSlaSettings
from leadscore.models.model_files import load_models
from leadscore.observability import CAPTURE_COLD_START, logger, metrics, tracer
from leadscore.services.feedback_sla import FeedbackSla, SlaReportsNotSent


class ScheduledReport(BaseModel):
    """The schedule's input (template.yaml: FeedbackSlaSchedule)."""

    action: Literal["report"]


@lru_cache(maxsize=2)
def build_service(settings: FeedbackSlaSettings) -> FeedbackSla:
    return FeedbackSla(
        marks=DynamoFeedbackMarks(client("dynamodb"), settings.table_name),
        publisher=SnsAlertPublisher(client("sns"), settings.ops_topic_arn),
        model_ids=sorted(load_models(settings.models_dir)),
        sla_hours=settings.sla_hours,
        expiry_days=settings.expiry_days,
        clock=clock.now_epoch,
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=CAPTURE_COLD_START)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    parse(event=event, model=ScheduledReport)
    run = build_service(FeedbackSlaSettings.from_env(os.environ)).run()
    metrics.add_metric(name="FeedbackSlaReported", unit=MetricUnit.Count, value=run.reported)
    metrics.add_metric(name="FeedbackSlaPublishFailed", unit=MetricUnit.Count, value=run.failed)
    metrics.add_metric(name="FeedbackSlaExpired", unit=MetricUnit.Count, value=run.expired)
    if run.reported or run.failed or run.expired:
        logger.info(
            "feedback SLA run",
            extra={"reported": run.reported, "failed": run.failed, "skipped": run.skipped, "expired": run.expired},
        )
    if run.failed:
        raise SlaReportsNotSent(f"{run.failed} SLA report(s) refused by the ops topic; the next run sends them")
    return {"reported": run.reported, "failed": run.failed, "skipped": run.skipped, "expired": run.expired}
