"""A template's Lambda function URLs, invoked in this process: the event Lambda builds, the real handler, its answer.

Beside local/gateway.py (the HTTP API's routes): a function URL has no routes and no stage. Lambda hands
every request, whatever its method and path, to the function (`routeKey` "$default", `rawPath` the path),
so the handler's own router decides what exists. Not emulated: AWS_IAM (SigV4) URLs and CORS preflights
(the stack's public URLs are AuthType NONE; the handlers answer what they answer).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from local.cfn import REGION, Function
from local.gateway import _http_response
from local.lambdas import function_url_event, invoke

# Lambda's synchronous invocation payload limit: the event (headers, base64 or text body) must fit in 6 MB.
INVOKE_PAYLOAD_LIMIT = 6 * 1024 * 1024
SOURCE_IP = "203.0.113.10"


@dataclass(frozen=True)
class FunctionUrl:
    function: Function
    auth_type: str

    @property
    def domain(self) -> str:
        url_id = hashlib.sha256(self.function.logical_id.encode()).hexdigest()[:32]  # 32 chars, like Lambda's
        return f"{url_id}.lambda-url.{REGION}.on.aws"

    @property
    def url(self) -> str:
        """What the `FunctionUrl` attribute holds (with its trailing slash)."""
        return f"https://{self.domain}/"

    def request(
        self, method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None, query: str = ""
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request to the URL; returns (status, headers, body) as the URL would answer."""
        if self.auth_type != "NONE":
            raise NotImplementedError(f"{self.function.logical_id}: only AuthType NONE URLs are emulated")
        sent = {"host": self.domain} | {name.lower(): value for name, value in (headers or {}).items()}
        event = function_url_event(
            method, path, query=query, headers=sent, body=body, source_ip=SOURCE_IP, domain=self.domain
        )
        if len(json.dumps(event)) > INVOKE_PAYLOAD_LIMIT:
            return 413, {"content-type": "application/json"}, b'{"Message":"Request Entity Too Large"}'
        result = invoke(self.function, event)
        if not (isinstance(result, dict) and "statusCode" in result):  # Lambda's rule: any other result is a 200 body
            return 200, {"content-type": "application/json"}, json.dumps(result).encode()
        return _http_response(result)

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """POST, JSON answer: what `EmulatedStack.post` returns for the HTTP API."""
        status, _, raw = self.request("POST", path, body=body, headers=headers)
        return status, json.loads(raw or b"{}")
