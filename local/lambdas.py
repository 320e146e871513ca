"""Running the template's functions in this process, as Lambda would: handler, event, context."""

from __future__ import annotations

import base64
import importlib.util
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl

from local.cfn import ACCOUNT, REGION, Function

Handler = Callable[[dict[str, Any], Any], Any]
_import_lock = threading.Lock()


@dataclass
class LambdaContext:
    """The attributes Powertools and our handlers read from the real context object."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


def load_handler(function: Function) -> Handler:
    """Import `<CodeUri>/<module>.py` under a unique name (every function's module is called `app`)."""
    module_name, _, attribute = function.handler.rpartition(".")
    path = Path(function.code_dir) / f"{module_name.replace('.', '/')}.py"
    unique = f"lambda_{function.logical_id}_{module_name}"
    with _import_lock:
        module = sys.modules.get(unique)
        if module is None:
            spec = importlib.util.spec_from_file_location(unique, path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {path}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[unique] = module
            spec.loader.exec_module(module)
    return _attribute(module, attribute)


def _attribute(module: ModuleType, name: str) -> Handler:
    handler: Handler = getattr(module, name)
    return handler


def invoke(function: Function, event: dict[str, Any]) -> Any:
    context = LambdaContext(function.logical_id, function.memory, function.timeout)
    try:
        return load_handler(function)(event, context)
    finally:
        _discard_metrics()


def _discard_metrics() -> None:
    """What a Lambda flush does to the shared Metrics object. With POWERTOOLS_METRICS_DISABLED (as here),
    Powertools skips the flush and never clears: metrics would pile up across invocations in one process."""
    from leadscore.observability import metrics  # noqa: PLC0415 - the functions' package, loaded on first use

    metrics.clear_metrics()


def http_api_event(
    method: str,
    path: str,
    *,
    query: str,
    headers: dict[str, str],
    body: bytes,
    route: str,
    source_ip: str,
    path_parameters: dict[str, str],
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, as API Gateway builds it."""
    lowered: dict[str, str] = {}
    for name, value in headers.items():  # API Gateway joins repeated headers with commas
        key = name.lower()
        lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode("ascii"), True
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route,
        "rawPath": path,
        "rawQueryString": query,
        "headers": lowered,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "body": text,
        "isBase64Encoded": encoded,
    }
    if path_parameters:
        event["pathParameters"] = path_parameters
    if query:
        # Decoded, as API Gateway passes them (repeated names joined with commas).
        parameters: dict[str, str] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
        event["queryStringParameters"] = parameters
    return event


def function_url_event(
    method: str, path: str, *, query: str, headers: dict[str, str], body: bytes, source_ip: str, domain: str
) -> dict[str, Any]:
    """A Lambda function URL event, as Lambda builds it: payload 2.0 like the HTTP API's, but no routes or
    stage (routeKey and stage `$default`, rawPath the whole path, no pathParameters), the URL's own domain,
    and an anonymous caller (AuthType NONE)."""
    event = http_api_event(
        method, path, query=query, headers=headers, body=body, route="$default", source_ip=source_ip, path_parameters={}
    )
    url_id = domain.split(".", 1)[0]
    event["requestContext"] |= {
        "accountId": "anonymous",
        "apiId": url_id,
        "domainName": domain,
        "domainPrefix": url_id,
        "authentication": None,
    }
    return event
