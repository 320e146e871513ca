"""Cold start of the DEPLOYED artefact: import + the first event, per handler, median of 15 fresh interpreters.

What Lambda runs is what `sam build` makes, zipped by SAM and unpacked read-only (lambda_artefact.py). Each
run is a new interpreter (`python -S`: no site-packages, only the task root and /opt on the path) with the
environment Lambda sets (LAMBDA_TASK_ROOT, AWS_LAMBDA_FUNCTION_NAME, AWS_EXECUTION_ENV, _HANDLER, a sampled
_X_AMZN_TRACE_ID, ...; the X-Ray SDK behaves differently without them) plus the function's variables from
template.yaml. It imports the handler and invokes it with a first event (lambda_probe.py); AWS is moto's
server on loopback, and the time moto spends answering (measured server-side) is taken out, as if AWS
answered instantly: what remains is the work the cold start does itself (imports, clients, secrets, models).

The same runs feed the cost table (bench_cost.py): warm invocations after the cold one give the billed
milliseconds, the requests each one made (counted server-side, with their bytes and DynamoDB write units)
and the log bytes written at INFO.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from benchmarks.capacity import item_size, write_units
from benchmarks.lambda_artefact import Artefact, built_artefact, snapshot
from local.cfn import ACCOUNT, REGION

ROOT = Path(__file__).resolve().parents[1]
RUNS = 15
TARGET_MS = 250
PROBE = (Path(__file__).parent / "lambda_probe.py").read_text()
WRITES = {"PutItem", "UpdateItem", "DeleteItem"}


# --- AWS requests, seen from moto's side ------------------------------------------------------------------
@dataclass
class Request:
    started: float
    ended: float
    service: str
    operation: str
    body_bytes: int
    table: str | None = None
    write_units: int = 0
    payload_bytes: int = 0  # SQS: the messages' bodies and attributes (billed in 64 KB chunks)

    @property
    def ms(self) -> float:
        return (self.ended - self.started) * 1000


@dataclass
class RequestLog:
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def between(self, start: float, end: float) -> list[Request]:
        with self.lock:
            return [request for request in self.requests if start <= request.started <= end]


def _service_and_operation(environ: dict[str, Any], body: bytes) -> tuple[str, str]:
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    service = authorization.split("Credential=", 1)[1].split("/")[3] if "Credential=" in authorization else "moto"
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return service, target.rsplit(".", 1)[-1]
    action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
    return service, action or environ.get("PATH_INFO", "")


def _peek_item(table_name: str, key: dict[str, Any]) -> dict[str, Any] | None:
    from moto.dynamodb.models import dynamodb_backends  # noqa: PLC0415
    from moto.dynamodb.models.dynamo_type import DynamoType  # noqa: PLC0415

    try:
        table = dynamodb_backends[ACCOUNT][REGION].get_table(table_name)
    except Exception:  # noqa: BLE001 - a table that does not exist has no item
        return None
    hash_key = DynamoType(key[table.hash_key_attr])
    range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    item = table.get_item(hash_key, range_key)
    return item.to_json()["Attributes"] if item else None


def _item_key(document: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    from moto.dynamodb.models import dynamodb_backends  # noqa: PLC0415

    table_name = document.get("TableName", "")
    if "Key" in document:
        return table_name, document["Key"]
    try:
        table = dynamodb_backends[ACCOUNT][REGION].get_table(table_name)
    except Exception:  # noqa: BLE001
        return None
    names = [name for name in (table.hash_key_attr, table.range_key_attr) if name]
    return table_name, {name: document["Item"][name] for name in names}


def _sqs_payload(document: dict[str, Any]) -> int:
    messages = document.get("Entries") or [document]
    total = 0
    for message in messages:
        total += len(str(message.get("MessageBody", "")).encode())
        for name, value in message.get("MessageAttributes", {}).items():
            total += len(name.encode()) + len(value.get("DataType", "")) + len(str(value.get("StringValue", "")))
    return total


@contextmanager
def recording_moto(log: RequestLog) -> Iterator[None]:
    """Every request moto's server answers is logged with its server-side duration (WSGI middleware)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication  # noqa: PLC0415

    original = DomainDispatcherApplication.__call__

    def call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        started = time.time()
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        service, operation = _service_and_operation(environ, body)
        request = Request(started, started, service, operation, len(body))
        document: dict[str, Any] = {}
        if service in {"dynamodb", "sqs"} and body.startswith(b"{"):
            document = json.loads(body)
        located = _item_key(document) if service == "dynamodb" and operation in WRITES else None
        before = item_size(_peek_item(*located)) if located else 0
        result = list(original(self, environ, start_response))
        if located:
            request.table = located[0]
            request.write_units = write_units(before, item_size(_peek_item(*located)))
        elif service == "dynamodb":
            request.table = document.get("TableName")
        if service == "sqs" and operation.startswith("SendMessage"):
            request.payload_bytes = _sqs_payload(document)
        request.ended = time.time()
        with log.lock:
            log.requests.append(request)
        return result

    DomainDispatcherApplication.__call__ = call  # type: ignore[method-assign]
    try:
        yield
    finally:
        DomainDispatcherApplication.__call__ = original  # type: ignore[method-assign]


# --- one fresh interpreter ------------------------------------------------------------------------------
@dataclass
class Invocation:
    ms: float  # measured in the handler process, AWS's answers included
    cpu_ms: float  # CPU time of the handler process (moto runs in another process: not counted)
    aws_ms: float  # moto's server-side time for the requests made meanwhile
    log_bytes: int
    log_lines: int
    requests: list[Request]
    response: dict[str, Any] | None
    records: int  # SQS records in the event (1 for an HTTP request)

    @property
    def work_ms(self) -> float:
        return max(0.0, self.ms - self.aws_ms)


@dataclass
class ColdRun:
    import_ms: float
    import_cpu_ms: float
    invocations: list[Invocation]
    compiled: list[str]
    new_files: list[str]
    modules: int = 0  # modules loaded from the artefact
    uncached: list[str] = field(default_factory=list)  # of those, the ones with no .pyc
    instructions: int = 0  # under valgrind (compare_cold_start --instructions): the whole process's, load-proof

    @property
    def cold_ms(self) -> float:
        return self.import_ms + self.invocations[0].work_ms

    @property
    def cold_cpu_ms(self) -> float:
        return self.import_cpu_ms + self.invocations[0].cpu_ms


def lambda_environment(stack: Any, artefact: Artefact, function: str) -> dict[str, str]:
    """What Lambda sets for this function, its template variables resolved against the emulated stack."""
    spec = stack.functions[function]
    opt = artefact.opt
    environment = {key: value for key, value in os.environ.items() if key in {"PATH", "LANG", "HOME", "PYENV_VERSION"}}
    for name, value in spec.environment.items():
        resolved = str(stack.template.resolve(value))
        if resolved == "/opt" or resolved.startswith("/opt/"):
            resolved = str(opt / resolved.removeprefix("/opt").lstrip("/"))
        environment[name] = resolved
    # Lambda's advanced logging controls, as the template's Globals set them.
    logging_config = stack.template.document["Globals"]["Function"].get("LoggingConfig", {})
    if logging_config.get("LogFormat") == "JSON":
        environment["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        level = logging_config.get("ApplicationLogLevel", "INFO")
        environment["AWS_LAMBDA_LOG_LEVEL"] = str(stack.template.resolve(level))
    task = artefact.task_root(function)
    environment |= {
        "LAMBDA_TASK_ROOT": str(task),
        "LAMBDA_RUNTIME_DIR": str(task),
        "_HANDLER": spec.handler,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/12/01/[$LATEST]probe",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_ENDPOINT_URL": os.environ["AWS_ENDPOINT_URL"],  # moto, as the emulated stack set it
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "TZ": ":UTC",
        # Lambda's task root and /opt are read-only: a .pyc compiled at a cold start is never kept for the next.
        # Here (as root) permissions would not stop Python writing one, so it is told not to.
        "PYTHONDONTWRITEBYTECODE": "1",
        # Lambda's order: the task root, then the layers' two conventional directories.
        "PYTHONPATH": os.pathsep.join(map(str, [task, opt / "python/lib/python3.13/site-packages", opt / "python"])),
    }  # fmt: skip
    return environment


VALGRIND = ("valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null")


def run_once(
    stack: Any,
    artefact: Artefact,
    log: RequestLog,
    function: str,
    events: list[dict[str, Any]],
    *,
    count_instructions: bool = False,
) -> ColdRun:
    environment = lambda_environment(stack, artefact, function)
    before = snapshot(artefact.root)
    wrapper = VALGRIND if count_instructions else ()
    output = subprocess.run(  # noqa: S603 - our own interpreter and probe
        [*wrapper, sys.executable, "-S", "-c", PROBE],
        input=json.dumps({"handler": environment["_HANDLER"], "events": events}),
        env=environment, capture_output=True, text=True, check=False, cwd=environment["LAMBDA_TASK_ROOT"],
    )  # fmt: skip
    if output.returncode != 0:
        raise RuntimeError(f"{function} probe failed:\n{output.stderr[-3000:]}")
    report = json.loads(output.stdout.strip().splitlines()[-1])
    invocations = []
    for measured, event in zip(report["invocations"], events, strict=True):
        requests = log.between(*measured["wall"])
        invocations.append(
            Invocation(measured["ms"], measured["cpu_ms"], sum(r.ms for r in requests), measured["log_bytes"],
                       measured["log_lines"],
                       requests, measured["response"], len(event.get("Records", [])) or 1)
        )  # fmt: skip
    new_files = sorted(snapshot(artefact.root) - before)
    counted = re.search(r"I\s+refs:\s+([\d,]+)", output.stderr) if count_instructions else None
    return ColdRun(
        report["import_ms"], report["import_cpu_ms"], invocations, report["compiled"], new_files,
        report["modules"], report["uncached"], int(counted.group(1).replace(",", "")) if counted else 0,
    )  # fmt: skip


# --- the events each handler's cold start meets ---------------------------------------------------------
def _http_event(path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    from local.lambdas import http_api_event  # noqa: PLC0415

    return http_api_event(
        "POST", path, query="", headers=headers, body=body, route="POST /webhooks/{source}",
        source_ip="203.0.113.9", path_parameters={"source": path.rsplit("/", 1)[1]},
    )  # fmt: skip


def _function_url_event(stack: Any, path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """The same request through the webhook's function URL (WebhookFunctionUrl): Lambda's event for it."""
    from local.lambdas import function_url_event  # noqa: PLC0415

    domain = stack.function_url("IngestWebhookFunction").domain
    return function_url_event("POST", path, query="", headers=headers | {"host": domain}, body=body,
                              source_ip="203.0.113.9", domain=domain)  # fmt: skip


def form_webhook(stack: Any, number: int, *, function_url: bool = False) -> dict[str, Any]:
    import hashlib  # noqa: PLC0415
    import hmac  # noqa: PLC0415

    body = json.dumps({
        "submission_id": f"bench-{uuid.uuid4().hex[:12]}", "form_id": "whitepaper-download",
        "email": f"person{number}@company{number % 40}.example", "first_name": "Pat", "last_name": f"Lead{number}",
        "company": f"Company {number % 40}", "job_title": "VP Marketing", "company_size": 250,
        "industry": "Software", "country": "GB", "page_url": "https://example.com/whitepapers/scoring",
    }).encode()  # fmt: skip
    stamp = str(int(time.time()))
    signature = hmac.new(stack.forms_key().encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    headers = {"content-type": "application/json", "x-leadscore-timestamp": stamp,
               "x-leadscore-signature": f"v1={signature}", "host": "127.0.0.1"}  # fmt: skip
    if function_url:
        return _function_url_event(stack, "/webhooks/forms", body, headers)
    return _http_event("/webhooks/forms", body, headers)


def sendgrid_batch(stack: Any, size: int = 100) -> dict[str, Any]:
    """A signed SendGrid Event Webhook POST of `size` events (deliveries, opens, clicks of 25 recipients)."""
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415

    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    stack.set_secret("SendGridWebhookSecret", {"current": base64.b64encode(public).decode(), "previous": ""})
    now = int(time.time())
    kinds = ["delivered", "open", "click", "open"]
    events = [
        {"email": f"person{i % 25}@company{i % 25}.example", "timestamp": now - 600 + i, "event": kinds[i % 4],
         "sg_event_id": f"bench-{uuid.uuid4().hex}", "sg_message_id": f"msg-{i % 25}.filter0001",
         **({"url": "https://example.com/pricing"} if kinds[i % 4] == "click" else {})}
        for i in range(size)
    ]  # fmt: skip
    body = json.dumps(events).encode()
    signature = private.sign(str(now).encode() + body, ec.ECDSA(hashes.SHA256()))
    headers = {
        "content-type": "application/json",
        "x-twilio-email-event-webhook-timestamp": str(now),
        "x-twilio-email-event-webhook-signature": base64.b64encode(signature).decode(),
        "host": "127.0.0.1",
    }
    return _http_event("/webhooks/sendgrid", body, headers)


def queued_records(stack: Any, limit: int) -> list[dict[str, Any]]:
    records = _receive(stack, limit)
    if len(records) < limit:
        raise RuntimeError(f"{limit} queued events needed, {len(records)} on the queue")
    return records


def _receive(stack: Any, limit: int) -> list[dict[str, Any]]:
    """LeadEvents the webhook runs queued, as SQS hands them to the scorer (then deleted from the queue)."""
    import boto3  # noqa: PLC0415

    from local.poller import _sqs_record  # noqa: PLC0415

    sqs = boto3.client("sqs")
    url, arn = stack.physical("LeadEventsQueue"), stack.template.physical["LeadEventsQueue"].attributes["Arn"]
    records: list[dict[str, Any]] = []
    while len(records) < limit:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
            "Messages", []
        )
        if not messages:
            break
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        records.extend(_sqs_record(message, arn) for message in messages)
    return records[:limit]


def sqs_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}


def decay_segment_record(stack: Any) -> dict[str, Any]:
    segment = {"model_id": "default", "shard": 0, "now": int(time.time())}
    arn = stack.template.physical["DecaySegmentsQueue"].attributes["Arn"]
    return {"messageId": str(uuid.uuid4()), "receiptHandle": "r", "body": json.dumps(segment), "attributes": {},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": arn,
            "awsRegion": REGION}  # fmt: skip


# --- the benchmark --------------------------------------------------------------------------------------
@dataclass
class HandlerFigures:
    function: str
    runs: list[ColdRun]

    def median(self, pick: Callable[[ColdRun], float]) -> float:
        return statistics.median(pick(run) for run in self.runs)


@contextmanager
def emulated_stack(log: RequestLog) -> Iterator[Any]:
    from local.stack import EmulatedStack  # noqa: PLC0415

    with recording_moto(log):
        stack = EmulatedStack(log_level="WARNING")
        try:
            yield stack
        finally:
            stack.stop()


def measure(
    runs: int = RUNS, say: Callable[[str], None] = print, source: Path = ROOT, pyc_mode: str = "unchecked-hash"
) -> dict[str, HandlerFigures]:
    """`runs` cold starts per handler; the webhook's runs then take warm single events and a SendGrid batch."""
    artefact = built_artefact(source, say=say, pyc_mode=pyc_mode)
    log = RequestLog()
    figures: dict[str, HandlerFigures] = {}
    with emulated_stack(log) as stack:
        ingest = "IngestWebhookFunction"
        figures[ingest] = HandlerFigures(ingest, [
            run_once(stack, artefact, log, ingest, [
                form_webhook(stack, n), *(form_webhook(stack, 1000 + 10 * n + k) for k in range(3)),
                sendgrid_batch(stack),  # new event ids every run: a repeated batch would be a replay
                # The single-event webhooks again, through the function URL (bench_cost's second door).
                *(form_webhook(stack, 2000 + 10 * n + k, function_url=True) for k in range(3)),
            ])
            for n in range(runs)
        ])  # fmt: skip
        for run in figures[ingest].runs:
            statuses = [(i.response or {}).get("statusCode") for i in run.invocations]
            if any(status != 202 for status in statuses):
                raise RuntimeError(f"the webhook runs were not all accepted: {statuses}")
        scorer = "ScoreEventsFunction"
        # Each run: a new lead's form submission (cold), then a full batch of queued events (warm).
        firsts = queued_records(stack, runs)
        figures[scorer] = HandlerFigures(scorer, [
            run_once(stack, artefact, log, scorer, [sqs_event([firsts[n]]), sqs_event(queued_records(stack, 25))])
            for n in range(runs)
        ])  # fmt: skip
        decay = "DecayScoresFunction"
        figures[decay] = HandlerFigures(decay, [
            run_once(stack, artefact, log, decay, [sqs_event([decay_segment_record(stack)])]) for _ in range(runs)
        ])  # fmt: skip
    return figures


def main(quick: bool = False, say: Callable[[str], None] = print) -> dict[str, Any]:
    runs = 7 if quick else RUNS
    figures = measure(runs, say)
    say(f"  deployed artefact (sam build, SAM's zip, unpacked read-only), Lambda's environment, median of {runs};")
    say("  CPU: the handler process's CPU time (what a busy machine barely changes); wall: elapsed, moto's time out")
    header = f"{'CPU import':>10} {'+ 1st event':>11} {'= cold':>7} {'wall cold':>10} {'compiled':>9}"
    say(f"  {'function':<22} {header}  target")
    results: dict[str, Any] = {"figures": figures}
    for name, handler in figures.items():
        imported = handler.median(lambda run: run.import_cpu_ms)
        first = handler.median(lambda run: run.invocations[0].cpu_ms)
        total = handler.median(lambda run: run.cold_cpu_ms)
        wall = handler.median(lambda run: run.cold_ms)
        compiled = max(len(run.compiled) for run in handler.runs)
        verdict = "meets" if total <= TARGET_MS else "ABOVE"
        say(f"  {name:<22} {imported:7.0f} ms {first:8.0f} ms {total:4.0f} ms {wall:7.0f} ms {compiled:9d}  "
            f"{verdict} {TARGET_MS} ms")  # fmt: skip
        results[f"cold start {name} (CPU ms)"] = total
        results[f"cold start {name} (wall ms)"] = wall
    return results


if __name__ == "__main__":
    main()
