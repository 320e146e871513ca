"""Emulated AWS in this process: moto's server, made per-item atomic, plus the resources template.yaml declares."""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import string
import threading
from typing import Any

import boto3
from moto.dynamodb.responses import DynamoHandler
from moto.server import ThreadedMotoServer
from moto.sqs import models as sqs_models

from local.cfn import REGION, Physical, Template

_dynamodb_lock = threading.RLock()
_patched = False


def serialise_dynamodb_requests() -> None:
    """Run one DynamoDB request at a time, response included, as real DynamoDB's per-item atomicity implies.

    moto's threaded server applies concurrent UpdateItems to one item without isolation and serialises
    responses from the live item (see shared/aws-emulation-notes.md); without this, concurrency tests
    would measure moto, not our conditional writes.
    """
    global _patched  # noqa: PLW0603 - a one-time process-wide patch
    if _patched:
        return
    original = DynamoHandler.call_action

    def call_action(self: DynamoHandler) -> Any:
        with _dynamodb_lock:
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    remember_fifo_deduplication_ids()
    _patched = True


def remember_fifo_deduplication_ids() -> None:
    """A FIFO queue drops a copy sent within 5 minutes of the first, even if the first was received and
    deleted meanwhile (AWS: "messages sent with the same deduplication ID are accepted but not delivered
    during the 5-minute interval"). moto compares only with messages still in the queue; remember every
    accepted id per queue, as SQS does, so tests of the alert hop measure SQS, not moto."""
    original = sqs_models.Queue.add_message
    window_ms = sqs_models.DEDUPLICATION_TIME_IN_SECONDS * 1000

    def add_message(self: Any, message: Any) -> None:
        key = message.deduplication_id if self.fifo_queue else None
        if key is None:
            original(self, message)
            return
        accepted: dict[str, int] = self.__dict__.setdefault("_leadscore_dedup", {})
        first = accepted.get(key)
        if first is not None and message.sent_timestamp - first < window_ms:
            return  # accepted, not delivered
        accepted[key] = message.sent_timestamp
        original(self, message)

    sqs_models.Queue.add_message = add_message  # type: ignore[method-assign]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Emulator:
    """moto's server on a free loopback port; every boto3 client of this process talks to it."""

    def __init__(self) -> None:
        serialise_dynamodb_requests()
        self.port = _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's HTTP server logs every request

    def start(self) -> Emulator:
        os.environ.update(
            AWS_ACCESS_KEY_ID="local",
            AWS_SECRET_ACCESS_KEY="local",  # noqa: S106 - a dummy credential for the emulator
            AWS_DEFAULT_REGION=REGION,
            AWS_REGION=REGION,
            AWS_ENDPOINT_URL=self.endpoint,
        )
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        """Forget every resource and item (moto's reset API)."""
        import urllib.request  # noqa: PLC0415

        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - loopback only
            pass


def _generated_secret(spec: dict[str, Any]) -> str:
    """What Secrets Manager's GenerateSecretString produces, for the properties we use."""
    alphabet = string.ascii_letters + string.digits
    if not spec.get("ExcludePunctuation"):
        alphabet += "!#$%&()*+,-.:;<=>?@[]^_{|}~"
    value = "".join(secrets.choice(alphabet) for _ in range(int(spec.get("PasswordLength", 32))))
    if "GenerateStringKey" not in spec:
        return value
    document = json.loads(spec.get("SecretStringTemplate", "{}"))
    document[spec["GenerateStringKey"]] = value
    return json.dumps(document)


def create_resources(template: Template) -> None:
    """Create, in the emulator, every resource of a kind the functions use; record their physical ids."""
    _create_tables(template)
    _create_queues(template)
    _create_topics(template)
    _create_secrets(template)
    _create_queue_subscriptions(template)
    _create_event_rules(template)
    _create_buckets(template)
    _create_delivery_streams(template)


def _create_buckets(template: Template) -> None:
    client = boto3.client("s3")
    for name in template.of_type("AWS::S3::Bucket"):
        bucket = f"leadscore-local-{name.lower()}"
        client.create_bucket(Bucket=bucket)
        template.physical[name] = Physical(bucket, {"Arn": f"arn:aws:s3:::{bucket}"})


def _create_delivery_streams(template: Template) -> None:
    """Firehose DirectPut streams to S3. moto writes each PutRecordBatch to one object at once, without
    evaluating the prefix's !{timestamp} expression or compressing (see shared aws-emulation-notes)."""
    client = boto3.client("firehose")
    for name, body in template.of_type("AWS::KinesisFirehose::DeliveryStream").items():
        destination = body["Properties"]["ExtendedS3DestinationConfiguration"]
        stream = f"leadscore-local-{name}"
        arn = client.create_delivery_stream(
            DeliveryStreamName=stream,
            DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "BucketARN": str(template.resolve(destination["BucketARN"])),
                "RoleARN": f"arn:aws:iam::123456789012:role/{stream}",
                "Prefix": destination.get("Prefix", ""),
                "CompressionFormat": "UNCOMPRESSED",
            },
        )["DeliveryStreamARN"]
        template.physical[name] = Physical(stream, {"Arn": arn})


def _create_tables(template: Template) -> None:
    client = boto3.client("dynamodb")
    for name, body in template.of_type("AWS::DynamoDB::Table").items():
        props = body["Properties"]
        request: dict[str, Any] = {
            "TableName": f"leadscore-local-{name}",
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            request["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        arn = client.create_table(**request)["TableDescription"]["TableArn"]
        template.physical[name] = Physical(request["TableName"], {"Arn": arn})


def _create_queues(template: Template) -> None:
    client = boto3.client("sqs")
    queues = template.of_type("AWS::SQS::Queue")
    for name, body in queues.items():  # first all queues, then the redrive policies that refer to them
        props = body["Properties"]
        attributes = {key: str(props[key]) for key in ("VisibilityTimeout", "MessageRetentionPeriod") if key in props}
        queue_name = f"leadscore-local-{name}"
        if props.get("FifoQueue"):  # FIFO queues: the .fifo suffix CloudFormation adds, dedup as declared
            queue_name += ".fifo"
            attributes["FifoQueue"] = "true"
            attributes["ContentBasedDeduplication"] = str(bool(props.get("ContentBasedDeduplication"))).lower()
        url = client.create_queue(QueueName=queue_name, Attributes=attributes)["QueueUrl"]  # type: ignore[arg-type]
        arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        template.physical[name] = Physical(url, {"Arn": arn, "QueueName": arn.rsplit(":", 1)[1], "QueueUrl": url})
    for name, body in queues.items():
        redrive = body["Properties"].get("RedrivePolicy")
        if redrive:
            policy = {key: template.resolve(value) for key, value in redrive.items()}
            client.set_queue_attributes(
                QueueUrl=template.physical[name].ref, Attributes={"RedrivePolicy": json.dumps(policy)}
            )


def _create_topics(template: Template) -> None:
    client = boto3.client("sns")
    for name in template.of_type("AWS::SNS::Topic"):
        arn = client.create_topic(Name=f"leadscore-local-{name}")["TopicArn"]
        template.physical[name] = Physical(arn, {"TopicName": arn.rsplit(":", 1)[1]})


def _create_secrets(template: Template) -> None:
    client = boto3.client("secretsmanager")
    for name, body in template.of_type("AWS::SecretsManager::Secret").items():
        props = body["Properties"]
        value = props.get("SecretString") or _generated_secret(props.get("GenerateSecretString", {}))
        arn = client.create_secret(Name=f"leadscore-local-{name}", SecretString=value)["ARN"]
        template.physical[name] = Physical(arn, {"Id": arn})


def _create_queue_subscriptions(template: Template) -> None:
    """SNS → SQS subscriptions (e.g. SES events through SNS); moto delivers them like SNS does."""
    client = boto3.client("sns")
    for body in template.of_type("AWS::SNS::Subscription").values():
        props = body["Properties"]
        if props.get("Protocol") != "sqs" or ("Condition" in body and not template.condition(body["Condition"])):
            continue
        client.subscribe(
            TopicArn=str(template.resolve(props["TopicArn"])),
            Protocol="sqs",
            Endpoint=str(template.resolve(props["Endpoint"])),
            Attributes={"RawMessageDelivery": str(bool(props.get("RawMessageDelivery", False))).lower()},
        )


def _create_event_rules(template: Template) -> None:
    """EventBridge rules with SQS targets (e.g. SES events); moto matches patterns and delivers to queues."""
    client = boto3.client("events")
    for name, body in template.of_type("AWS::Events::Rule").items():
        props = body["Properties"]
        if "EventPattern" not in props:
            continue  # scheduled rules: the local scheduler drives those
        rule = f"leadscore-local-{name}"
        arn = client.put_rule(Name=rule, EventPattern=json.dumps(props["EventPattern"]), State="ENABLED")["RuleArn"]
        template.physical[name] = Physical(rule, {"Arn": arn})
        targets = [
            {"Id": target["Id"], "Arn": str(template.resolve(target["Arn"]))}
            for target in props.get("Targets", [])
            if ":sqs:" in str(template.resolve(target["Arn"]))
        ]
        if targets:
            client.put_targets(Rule=rule, Targets=targets)
