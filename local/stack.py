"""EmulatedStack: template.yaml brought up in this process — resources, functions, routes, queue pollers."""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer

from local.cfn import Function, Template
from local.emulator import Emulator, create_resources
from local.gateway import Gateway
from local.lambdas import invoke
from local.poller import QueuePoller

ROOT = Path(__file__).resolve().parents[1]
_deserializer = TypeDeserializer()

# Locally: no X-Ray daemon, no metrics shipping (EMF to stdout would drown the demo), quieter logs.
LOCAL_ENVIRONMENT = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


class EmulatedStack:
    """The deployed application, emulated: the same resources, environment, handlers and wiring."""

    def __init__(self, template_path: Path = ROOT / "template.yaml", *, log_level: str | None = None) -> None:
        self.template_path = template_path
        self.log_level = log_level
        self.emulator = Emulator().start()
        self.gateway: Gateway | None = None
        self.build()

    # --- lifecycle --------------------------------------------------------------------------------
    def build(self) -> None:
        """(Re)create every resource and the functions' environment from the template."""
        self.template = Template(self.template_path)
        create_resources(self.template)
        self.functions: dict[str, Function] = self.template.functions()
        self.environment = self._environment()
        os.environ.update(self.environment)
        self.pollers = [
            QueuePoller(
                source,
                self.functions[source.function],
                queue_url=self.template.physical[source.queue].ref,
                queue_arn=self.template.physical[source.queue].attributes["Arn"],
            )
            for source in self.template.queue_sources()
        ]
        self._alerts_queue = self._tap_topic("SalesAlertsTopic")
        self.reset_handler_caches()

    def reset(self) -> None:
        """A clean slate: every table, queue, topic and secret recreated empty (fresh secrets too)."""
        self.emulator.reset()
        self.build()

    def serve(self, port: int = 3000) -> Gateway:
        self.gateway = Gateway(self.template.routes(), self.functions, port).start()
        return self.gateway

    def stop(self) -> None:
        if self.gateway is not None:
            self.gateway.stop()
        self.emulator.stop()

    def _environment(self) -> dict[str, str]:
        """Every function's resolved variables (they agree on shared names), with /opt mapped to layers."""
        layers = list(self.template.layer_dirs().values())
        environment: dict[str, str] = {}
        for function in self.functions.values():
            for name, value in function.environment.items():
                resolved = str(self.template.resolve(value))
                if (resolved == "/opt" or resolved.startswith("/opt/")) and layers:
                    resolved = str(layers[0] / resolved.removeprefix("/opt").lstrip("/"))
                environment[name] = resolved
        environment |= LOCAL_ENVIRONMENT
        if self.log_level:
            environment["POWERTOOLS_LOG_LEVEL"] = self.log_level
        return environment

    def set_log_level(self, level: str) -> None:
        """Change the functions' log level now (Powertools reads POWERTOOLS_LOG_LEVEL only at import)."""
        from leadscore.observability import logger  # noqa: PLC0415

        os.environ["POWERTOOLS_LOG_LEVEL"] = level
        logger.setLevel(level)

    def reset_handler_caches(self) -> None:
        """Cold-start every function: handlers cache clients, models and secrets per container."""
        from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415

        from leadscore.adapters.clients import forget_clients  # noqa: PLC0415

        parameters.clear_caches()  # type: ignore[no-untyped-call]
        forget_clients()  # a cold start creates its clients anew (and picks up hooks registered since)
        for module in [module for name, module in list(sys.modules.items()) if name.startswith("lambda_")]:
            for attribute in ("build_service", "load_compiled_models"):
                cached = getattr(module, attribute, None)
                if cached is not None and hasattr(cached, "cache_clear"):
                    cached.cache_clear()

    # --- driving it -------------------------------------------------------------------------------
    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        return invoke(self.functions[function], event)

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """POST through the HTTP front (started on demand on a free port)."""
        gateway = self.gateway or self.serve(port=0)
        request = urllib.request.Request(f"{gateway.url}{path}", data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def run_schedule(self, name: str) -> Any:
        """Fire a template schedule the way EventBridge Scheduler does (its Input, to its function), then drain
        the queues it feeds. Time is the process clock: `leadscore.clock.advance` simulates days passing."""
        schedule = self.template.schedules()[name]
        result = self.invoke(schedule.function, dict(schedule.input))
        self.drain()
        return result

    def drain(self) -> int:
        """Run every queue's poller until all queues are empty; returns records processed successfully."""
        total = 0
        while True:
            done = sum(poller.drain() for poller in self.pollers)
            total += done
            if done == 0 and all(self.queue_depth(p.source.queue) == 0 for p in self.pollers):
                return total

    # --- looking inside ---------------------------------------------------------------------------
    def physical(self, logical_id: str) -> str:
        return self.template.physical[logical_id].ref

    def queue_depth(self, logical_id: str) -> int:
        attributes = boto3.client("sqs").get_queue_attributes(
            QueueUrl=self.physical(logical_id),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def items(self, table: str = "LeadsTable") -> list[dict[str, Any]]:
        client = boto3.client("dynamodb")
        items: list[dict[str, Any]] = []
        for page in client.get_paginator("scan").paginate(TableName=self.physical(table)):
            items += [{k: _deserializer.deserialize(v) for k, v in item.items()} for item in page["Items"]]
        return items

    def score_items(self) -> list[dict[str, Any]]:
        return [item for item in self.items() if str(item["sk"]).startswith("SCORE#")]

    def profiles(self) -> dict[str, dict[str, Any]]:
        return {item["pk"]: item for item in self.items() if item["sk"] == "PROFILE"}

    def secret(self, logical_id: str) -> dict[str, Any]:
        value = boto3.client("secretsmanager").get_secret_value(SecretId=self.physical(logical_id))
        secret: dict[str, Any] = json.loads(value["SecretString"])
        return secret

    def forms_key(self) -> str:
        return str(self.secret("FormsWebhookSecret")["current"])

    def set_secret(self, logical_id: str, document: dict[str, Any]) -> None:
        """Put a new secret value (as `aws secretsmanager put-secret-value` would) and drop cached copies."""
        boto3.client("secretsmanager").put_secret_value(
            SecretId=self.physical(logical_id), SecretString=json.dumps(document)
        )
        self.reset_handler_caches()

    def publish_ses_event(self, path: str, document: dict[str, Any], detail_type: str = "") -> None:
        """Publish an SES event the way a configuration set does: to EventBridge's default bus or to SNS."""
        if path == "eventbridge":
            response = boto3.client("events").put_events(
                Entries=[{"Source": "aws.ses", "DetailType": detail_type, "Detail": json.dumps(document)}]
            )
            if response["FailedEntryCount"]:
                raise RuntimeError(f"EventBridge refused the event: {response['Entries']}")
        else:
            boto3.client("sns").publish(TopicArn=self.physical("SesEventsTopic"), Message=json.dumps(document))

    def _tap_topic(self, logical_id: str) -> str:
        """Subscribe a queue to a topic, the way an email subscriber would receive what sales receives."""
        sqs, sns = boto3.client("sqs"), boto3.client("sns")
        url = sqs.create_queue(QueueName=f"leadscore-local-{logical_id}-tap")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=self.physical(logical_id), Protocol="sqs", Endpoint=arn)
        return url

    def alerts(self) -> list[dict[str, Any]]:
        """Every sales alert published so far (consumed: each is returned once)."""
        sqs = boto3.client("sqs")
        alerts: list[dict[str, Any]] = []
        while True:
            messages = sqs.receive_message(QueueUrl=self._alerts_queue, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return alerts
            for message in messages:
                envelope = json.loads(message["Body"])
                alerts.append(
                    {
                        "subject": envelope.get("Subject"),
                        "message": envelope.get("Message"),
                        "attributes": {
                            name: value.get("Value") for name, value in envelope.get("MessageAttributes", {}).items()
                        },
                    }
                )
                sqs.delete_message(QueueUrl=self._alerts_queue, ReceiptHandle=message["ReceiptHandle"])
