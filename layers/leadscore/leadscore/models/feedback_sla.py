"""Settings of the feedback SLA (functions/feedback_sla; the leads API reads the same number of hours)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field

from leadscore.models.settings import _Settings

DEFAULT_SLA_HOURS = 24
SlaHours = Annotated[int, Field(ge=1, le=24 * 30)]


class FeedbackSlaSettings(_Settings):
    table_name: str = Field(alias="LEADS_TABLE_NAME")
    models_dir: Path = Field(alias="SCORING_MODELS_DIR")
    ops_topic_arn: str = Field(alias="OPS_TOPIC_ARN")
    sla_hours: SlaHours = Field(DEFAULT_SLA_HOURS, alias="FEEDBACK_SLA_HOURS")
