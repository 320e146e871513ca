"""EmulatedStack: template.yaml brought up in this process — resources, functions, routes, queue pollers."""

from __future__ import annotations

import json
import os
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer

from local.cfn import Function, Template
from local.emulator import Emulator, create_resources
from local.function_url import FunctionUrl
from local.gateway import Gateway
from local.jwt_issuer import LocalIssuer
from local.lambdas import invoke
from local.poller import QueuePoller

ROOT = Path(__file__).resolve().parents[1]
STACK_FILE = "stack.json"  # in the ledger dir: how the leadscore CLI finds a running local stack
ALERTS_QUEUE = "AlertsFifoQueue"  # the alert dedup hop in front of SalesAlertsTopic
_deserializer = TypeDeserializer()

# Locally: no X-Ray daemon, no metrics shipping (EMF to stdout would drown the demo), quieter logs.
LOCAL_ENVIRONMENT = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


class EmulatedStack:
    """The deployed application, emulated: the same resources, environment, handlers and wiring."""

    def __init__(
        self,
        template_path: Path = ROOT / "template.yaml",
        *,
        log_level: str | None = None,
        ledger_dir: Path | None = None,
        models_dir: Path | None = None,
    ) -> None:
        """`ledger_dir`: the scorer writes the ledger as files under `<ledger_dir>/ledger/` (LEDGER_DIR), where
        `leadscore evaluate` reads it; None: through the template's Firehose stream into moto's S3.
        `models_dir`: the functions serve the models (and predictive artefacts) of this directory instead of
        the ScoringModelsLayer's scoring/ (the demo's copy with a predictive block: local/predictive_demo.py)."""
        self.template_path = template_path
        self.log_level = log_level
        self.ledger_dir = ledger_dir
        self.models_dir = models_dir
        self.emulator = Emulator().start()
        self.gateway: Gateway | None = None
        # Leads API: the local stand-in for the JWT authorizer's issuer (its scope prefix is the template's).
        self.issuer = LocalIssuer()
        self.build()

    # --- lifecycle --------------------------------------------------------------------------------
    def build(self) -> None:
        """(Re)create every resource and the functions' environment from the template."""
        self.template = Template(self.template_path)
        self.issuer.scope_prefix = str(self.template.parameters.get("LeadsScopePrefix") or "")
        create_resources(self.template)
        if self.ledger_dir is not None:  # the ledger of the scores this fresh emulator holds, and only those
            shutil.rmtree(self.ledger_dir / "ledger", ignore_errors=True)
            self._write_stack_file()
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

    def _write_stack_file(self) -> None:
        """Where this running stack is, for `leadscore … --local` in another terminal (no secrets in it)."""
        assert self.ledger_dir is not None
        self.ledger_dir.mkdir(parents=True, exist_ok=True)
        document = {
            "endpoint": self.emulator.endpoint,
            "region": os.environ.get("AWS_REGION", "us-east-1"),
            "resources": {name: physical.ref for name, physical in self.template.physical.items()},
            "ledger_dir": str(self.ledger_dir),
        }
        (self.ledger_dir / STACK_FILE).write_text(json.dumps(document, indent=2), encoding="utf-8")

    def reset(self) -> None:
        """A clean slate: every table, queue, topic and secret recreated empty (fresh secrets too), no ledger."""
        self.emulator.reset()
        self.build()

    def serve(self, port: int = 3000) -> Gateway:
        from local.console import console_files  # noqa: PLC0415

        self.gateway = Gateway(
            self.template.routes(), self.functions, port, issuer=self.issuer, static={"/console": console_files(self)}
        ).start()
        return self.gateway

    def stop(self) -> None:
        if self.gateway is not None:
            self.gateway.stop()
        self.emulator.stop()
        if self.ledger_dir is not None:  # `leadscore --local` must not find a stack that is gone
            (self.ledger_dir / STACK_FILE).unlink(missing_ok=True)

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
        if self.ledger_dir is not None:
            environment["LEDGER_DIR"] = str(self.ledger_dir)
        if self.models_dir is not None:
            environment["SCORING_MODELS_DIR"] = str(self.models_dir)
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
            for attribute in ("build_service", "load_compiled_models", "build_stitching"):
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

    def function_url(self, function: str) -> FunctionUrl:
        """The function's Lambda function URL (template `FunctionUrlConfig`), invoked in process."""
        auth_type = self.template.function_urls().get(function)
        if auth_type is None:
            raise KeyError(f"{function} has no FunctionUrlConfig in the template")
        return FunctionUrl(self.functions[function], auth_type)

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        """Any request through the HTTP front (JSON in and out); `token` goes in a Bearer Authorization header."""
        gateway = self.gateway or self.serve(port=0)
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        data = None if body is None else json.dumps(body).encode()
        if data is not None:
            sent.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(f"{gateway.url}{path}", data=data, headers=sent, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
                return response.status, dict(response.headers.items()), json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers.items()), json.loads(error.read() or b"null")

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

    def ledger_lines(self) -> list[bytes]:
        """Every ledger line the scorer wrote, duplicates included, in the order written (files or S3)."""
        if self.ledger_dir is not None:
            return [
                line
                for path in sorted((self.ledger_dir / "ledger").glob("dt=*/*.jsonl"), key=lambda p: p.stat().st_mtime)
                for line in path.read_bytes().splitlines(keepends=True)
            ]
        s3 = boto3.client("s3")
        bucket = self.physical("LedgerBucket")
        objects = [
            item
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="ledger/")
            for item in page.get("Contents", [])
        ]
        lines: list[bytes] = []
        for item in sorted(objects, key=lambda item: (item["LastModified"], item["Key"])):
            lines += s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().splitlines(keepends=True)
        return lines

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
        """Every sales alert sales has received so far (consumed: each is returned once).

        Alerts reach the topic through the deduplicating FIFO hop (AlertsFifoQueue -> SendAlertsFunction):
        what is still on that queue is sent first, then the topic's subscriber is read."""
        for poller in self.pollers:
            if poller.source.queue == ALERTS_QUEUE:
                poller.drain()
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
