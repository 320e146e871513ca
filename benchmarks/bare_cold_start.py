"""The least a cold start can cost with the layer's libraries: minimal handlers beside the real webhook.

    python -m benchmarks.bare_cold_start [--runs 7]

Each handler is imported and given one HTTP event in the deployed artefact's Lambda-like environment (the same
layer, variables and moto server as bench_cold_start), CPU time of import + first event, runs interleaved:

- `boto3`: import boto3, create an SQS client, send one message: any Python function that queues with boto3.
- `+ powertools`: the same behind Powertools' Logger, Metrics and Tracer (botocore patched) and an HTTP
  resolver with validation: what the conventions (Powertools for cross-cutting concerns) add.
- `webhook`: the real ingest_webhook handler and a signed form submission.

The gap between the last two is what our own code and its libraries (pydantic models, email-validator, YAML
source maps, secrets) add; the first is a floor no change of ours goes below on this box.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import py_compile
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import bench_cold_start as bench
from benchmarks.lambda_artefact import built_artefact

BARE_BOTO3 = """
import os

import boto3


def handler(event, context):
    boto3.client("sqs").send_message(QueueUrl=os.environ["BARE_QUEUE_URL"], MessageBody=event["body"])
    return {"statusCode": 202, "body": "{}"}
"""

BARE_POWERTOOLS = """
import os

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.metrics import MetricUnit

logger, metrics, tracer = Logger(), Metrics(), Tracer(patch_modules=["botocore"])
app = APIGatewayHttpResolver(enable_validation=True)


@app.post("/webhooks/<source>")
def receive(source: str) -> dict:
    boto3.client("sqs").send_message(QueueUrl=os.environ["BARE_QUEUE_URL"], MessageBody=app.current_event.body)
    metrics.add_metric(name="EventsAccepted", unit=MetricUnit.Count, value=1)
    return {"accepted": 1}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event, context):
    return app.resolve(event, context)
"""

VARIANTS = {"boto3": "bare_boto3.handler", "+ powertools": "bare_powertools.handler", "webhook": None}


def run(environment: dict[str, str], handler: str, event: dict[str, Any]) -> dict[str, Any]:
    output = subprocess.run(  # noqa: S603 - our own interpreter and probe
        [sys.executable, "-S", "-c", bench.PROBE],
        input=json.dumps({"handler": handler, "events": [event]}),
        env=environment, capture_output=True, text=True, check=False, cwd=environment["LAMBDA_TASK_ROOT"],
    )  # fmt: skip
    if output.returncode != 0:
        raise RuntimeError(f"{handler} failed:\n{output.stderr[-3000:]}")
    report: dict[str, Any] = json.loads(output.stdout.strip().splitlines()[-1])
    status = (report["invocations"][0]["response"] or {}).get("statusCode")
    if status not in {200, 202}:
        raise RuntimeError(f"{handler} answered {status}")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bare_cold_start", description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--source", type=Path, default=bench.ROOT, help="the source tree to build")
    options = parser.parse_args()
    artefact = built_artefact(options.source.resolve(), say=print)
    function = "IngestWebhookFunction"
    samples: dict[str, list[float]] = {label: [] for label in VARIANTS}
    with bench.emulated_stack(bench.RequestLog()) as stack, tempfile.TemporaryDirectory() as scratch:
        task = Path(scratch)
        (task / "bare_boto3.py").write_text(BARE_BOTO3)
        (task / "bare_powertools.py").write_text(BARE_POWERTOOLS)
        compileall.compile_dir(task, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        real = bench.lambda_environment(stack, artefact, function)
        bare = real | {
            "LAMBDA_TASK_ROOT": str(task),
            "PYTHONPATH": os.pathsep.join([str(task), *real["PYTHONPATH"].split(os.pathsep)[1:]]),
            "BARE_QUEUE_URL": stack.physical("LeadEventsQueue"),
        }
        for number in range(options.runs):
            event = bench.form_webhook(stack, number)
            for label, handler in VARIANTS.items():
                report = run(real if handler is None else bare, handler or real["_HANDLER"], event)
                samples[label].append(report["import_cpu_ms"] + report["invocations"][0]["cpu_ms"])
    print(f"median of {options.runs} interleaved runs, CPU ms of import + first event (load {os.getloadavg()[0]:.1f}):")
    for label, values in samples.items():
        print(f"  {label:<14} {statistics.median(values):6.0f} ms  (min {min(values):.0f}, max {max(values):.0f})")


if __name__ == "__main__":
    main()
