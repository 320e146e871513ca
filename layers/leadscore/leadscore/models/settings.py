"""Function settings: environment variables parsed once, at the edge, into typed models."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field


class _Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Self:
        return cls.model_validate(dict(environ))


class IngestSettings(_Settings):
    queue_url: str = Field(alias="LEAD_EVENTS_QUEUE_URL")
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE_NAME")
    forms_webhook_secret_id: str = Field(alias="FORMS_WEBHOOK_SECRET_ID")
    # One secret per provider; a provider whose secret is not configured is not served (404).
    sendgrid_webhook_secret_id: str | None = Field(None, alias="SENDGRID_WEBHOOK_SECRET_ID")
    mailgun_webhook_secret_id: str | None = Field(None, alias="MAILGUN_WEBHOOK_SECRET_ID")
    postmark_webhook_secret_id: str | None = Field(None, alias="POSTMARK_WEBHOOK_SECRET_ID")
    typeform_webhook_secret_id: str | None = Field(None, alias="TYPEFORM_WEBHOOK_SECRET_ID")
    tally_webhook_secret_id: str | None = Field(None, alias="TALLY_WEBHOOK_SECRET_ID")
    webflow_webhook_secret_id: str | None = Field(None, alias="WEBFLOW_WEBHOOK_SECRET_ID")
    hubspot_webhook_secret_id: str | None = Field(None, alias="HUBSPOT_WEBHOOK_SECRET_ID")
    sources_config_dir: Path | None = Field(None, alias="SOURCES_CONFIG_DIR")
    signature_tolerance_seconds: Annotated[int, Field(ge=30, le=3600)] = Field(300, alias="SIGNATURE_TOLERANCE_SECONDS")
    # Body limits are per source (WebhookSource.max_body_bytes), from each provider's documented maximum.
    # Provider retries arrive within days (SendGrid retries for 72 hours); remember accepted ids that long.
    idempotency_seconds: int = Field(3 * 24 * 3600, alias="IDEMPOTENCY_SECONDS")


class ScorerSettings(_Settings):
    table_name: str = Field(alias="LEADS_TABLE_NAME")
    # Alerts go to the deduplicating FIFO queue; SendAlertsFunction publishes them to the sales topic.
    alerts_queue_url: str = Field(alias="ALERTS_QUEUE_URL")
    pepper_secret_id: str = Field(alias="LEAD_ID_PEPPER_SECRET_ID")
    models_dir: Path = Field(alias="SCORING_MODELS_DIR")
    alert_lease_seconds: Annotated[int, Field(ge=1, le=900)] = Field(60, alias="ALERT_LEASE_SECONDS")
    # The ledger: a Firehose delivery stream on AWS; a directory locally (LEDGER_DIR wins when both are set).
    ledger_stream_name: str | None = Field(None, alias="LEDGER_STREAM_NAME")
    ledger_dir: Path | None = Field(None, alias="LEDGER_DIR")


class DecaySettings(_Settings):
    table_name: str = Field(alias="LEADS_TABLE_NAME")
    models_dir: Path = Field(alias="SCORING_MODELS_DIR")
    segments_queue_url: str = Field(alias="DECAY_SEGMENTS_QUEUE_URL")
    alerts_queue_url: str = Field(alias="ALERTS_QUEUE_URL")  # to hand over alerts stranded in the outbox
    alert_lease_seconds: Annotated[int, Field(ge=1, le=900)] = Field(60, alias="ALERT_LEASE_SECONDS")
    # Stop taking new pages with this much of the invocation left; the rest goes back to the queue.
    reserve_seconds: Annotated[int, Field(ge=5, le=600)] = Field(30, alias="DECAY_RESERVE_SECONDS")


class AlertSenderSettings(_Settings):
    table_name: str = Field(alias="LEADS_TABLE_NAME")
    topic_arn: str = Field(alias="SALES_ALERTS_TOPIC_ARN")
    # The sweep: models to compose stranded alerts with, and the queue to hand them to.
    models_dir: Path = Field(alias="SCORING_MODELS_DIR")
    alerts_queue_url: str = Field(alias="ALERTS_QUEUE_URL")
    alert_lease_seconds: Annotated[int, Field(ge=1, le=900)] = Field(60, alias="ALERT_LEASE_SECONDS")
