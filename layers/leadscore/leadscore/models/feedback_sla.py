"""Settings of the feedback SLA (functions/feedback_sla; the leads API reads the same number of hours)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator

from leadscore.models.settings import _Settings

DEFAULT_SLA_HOURS = 24
DEFAULT_EXPIRY_DAYS = 30
SlaHours = Annotated[int, Field(ge=1, le=24 * 30)]
ExpiryDays = Annotated[int, Field(ge=1, le=365)]


class FeedbackSlaSettings(_Settings):
    table_name: str = Field(alias="LEADS_TABLE_NAME")
    models_dir: Path = Field(alias="SCORING_MODELS_DIR")
    ops_topic_arn: str = Field(alias="OPS_TOPIC_ARN")
    sla_hours: SlaHours = Field(DEFAULT_SLA_HOURS, alias="FEEDBACK_SLA_HOURS")
    expiry_days: ExpiryDays = Field(DEFAULT_EXPIRY_DAYS, alias="FEEDBACK_SLA_EXPIRY_DAYS")

    @model_validator(mode="after")
    def _expires_after_the_report(self) -> FeedbackSlaSettings:
        # An alert must be reported before it can expire, or ops would never hear of it.
        if self.expiry_days * 24 <= self.sla_hours:
            raise ValueError(
                f"FEEDBACK_SLA_EXPIRY_DAYS ({self.expiry_days} days) must be longer than "
                f"FEEDBACK_SLA_HOURS ({self.sla_hours} hours)"
            )
        return self
