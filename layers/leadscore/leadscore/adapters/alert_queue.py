"""The deduplicating hop in front of the sales topic: an SQS FIFO queue keyed by alert id.

MessageDeduplicationId = alert_id, so SQS accepts and drops any copy sent within 5 minutes of the first
(ContentBasedDeduplication is off: a retried alert may carry a later score in its text, yet it is the same
alert). MessageGroupId = lead id: one lead's alerts leave in order, different leads in parallel.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field

from leadscore.core.alerts import AlertMessage
from leadscore.errors import PublishFailed

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

FORMAT_VERSION = 1


class QueuedAlert(BaseModel):
    """An alert as it travels through the FIFO queue (the body holds the lead's email: the queue is KMS
    encrypted with the alerts key, like the topic)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: int = Field(FORMAT_VERSION, ge=1, le=FORMAT_VERSION)
    lead_id: str = Field(min_length=1, max_length=128)
    model_id: str = Field(min_length=1, max_length=64)
    alert_id: str = Field(min_length=1, max_length=128)
    subject: str = Field(min_length=1, max_length=100)
    body: str
    # Numbers as strings (Decimal text), so what SNS receives is exactly what the scorer decided.
    attributes: dict[str, str]
    numbers: list[str] = Field(default_factory=list, description="Which attributes are SNS Number attributes.")

    @classmethod
    def of(cls, message: AlertMessage) -> QueuedAlert:
        attributes = {
            name: f"{value.normalize():f}" if isinstance(value, Decimal) else value
            for name, value in message.attributes.items()
        }
        numbers = sorted(name for name, value in message.attributes.items() if isinstance(value, Decimal))
        return cls(
            lead_id=message.lead_id,
            model_id=message.model_id,
            alert_id=message.alert_id,
            subject=message.subject,
            body=message.body,
            attributes=attributes,
            numbers=numbers,
        )

    def message(self) -> AlertMessage:
        attributes: dict[str, str | Decimal] = {
            name: Decimal(value) if name in self.numbers else value for name, value in self.attributes.items()
        }
        return AlertMessage(
            alert_id=self.alert_id,
            subject=self.subject,
            body=self.body,
            attributes=attributes,
            lead_id=self.lead_id,
            model_id=self.model_id,
        )


class FifoAlertQueue:
    """AlertPublisher that hands alerts to the FIFO queue (the scorer's side of the hop)."""

    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def publish(self, message: AlertMessage) -> str:
        if not message.lead_id or not message.model_id:
            raise ValueError("an alert for the queue names its lead and model")
        body: dict[str, Any] = QueuedAlert.of(message).model_dump()
        try:
            response = self._client.send_message(
                QueueUrl=self._queue_url,
                MessageBody=json.dumps(body, separators=(",", ":")),
                MessageGroupId=message.lead_id,
                MessageDeduplicationId=message.alert_id,
            )
        except (ClientError, BotoCoreError) as exc:
            raise PublishFailed(f"alert queue refused the alert: {type(exc).__name__}") from exc
        return response["MessageId"]
