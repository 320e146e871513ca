"""SNS adapter: publishes sales alerts with filterable message attributes."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from leadscore.core.alerts import AlertMessage
from leadscore.errors import PublishFailed

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient


def message_attributes(message: AlertMessage) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for name, value in message.attributes.items():
        if isinstance(value, Decimal):
            attributes[name] = {"DataType": "Number", "StringValue": f"{value.normalize():f}"}
        else:
            attributes[name] = {"DataType": "String", "StringValue": value}
    return attributes


class SnsAlertPublisher:
    def __init__(self, client: SNSClient, topic_arn: str) -> None:
        self._client = client
        self._topic_arn = topic_arn

    def publish(self, message: AlertMessage) -> str:
        try:
            response = self._client.publish(
                TopicArn=self._topic_arn,
                Subject=message.subject,
                Message=message.body,
                MessageAttributes=message_attributes(message),
            )
        except (ClientError, BotoCoreError) as exc:
            raise PublishFailed(f"SNS publish failed: {type(exc).__name__}") from exc
        return response["MessageId"]
