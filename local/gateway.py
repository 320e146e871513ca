"""An HTTP front for the template's HttpApi routes: requests in, API Gateway v2 events to the real handlers."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from local.cfn import Function, Route
from local.jwt_issuer import Denied, LocalIssuer
from local.lambdas import http_api_event, invoke

API_GATEWAY_PAYLOAD_LIMIT = 10 * 1024 * 1024


class Gateway:
    def __init__(
        self,
        routes: list[Route],
        functions: dict[str, Function],
        port: int = 3000,
        issuer: LocalIssuer | None = None,
        static: dict[str, Callable[[str], tuple[int, dict[str, str], bytes] | None]] | None = None,
    ) -> None:
        self.routes = [(route, route.pattern()) for route in routes]
        self.functions = functions
        self.issuer = issuer  # verifies bearer tokens on routes with a JWT authorizer, as API Gateway does
        self.static = static or {}  # path prefix -> file server (the console), outside the API's routes
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_class(self.dispatch))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="gateway", daemon=True)

    def start(self) -> Gateway:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def dispatch(
        self, method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, str], bytes]:
        """Route and invoke; returns (status, headers, body) the way API Gateway would answer."""
        parts = urlsplit(target)
        if len(body) > API_GATEWAY_PAYLOAD_LIMIT:
            return 413, {"content-type": "application/json"}, b'{"message":"Request Entity Too Large"}'
        for prefix, serve_file in self.static.items():
            if method == "GET" and parts.path.startswith(prefix) and (found := serve_file(parts.path)) is not None:
                return found
        for route, pattern in self.routes:
            match = pattern.match(parts.path)
            if match and route.method in {method, "ANY"}:
                authorizer: dict[str, Any] | None = None
                if route.authorizer:
                    if self.issuer is None:
                        return 401, {"content-type": "application/json"}, b'{"message":"Unauthorized"}'
                    checked = self.issuer.authorize(headers, route.scopes)
                    if isinstance(checked, Denied):
                        return checked.status, {"content-type": "application/json"}, checked.body
                    authorizer = checked
                event = http_api_event(
                    method,
                    parts.path,
                    query=parts.query,
                    headers=headers,
                    body=body,
                    route=f"{route.method} {route.path}",
                    source_ip=source_ip,
                    path_parameters={name: unquote(value) for name, value in match.groupdict().items()},
                )
                if authorizer is not None:
                    event["requestContext"]["authorizer"] = authorizer
                return _http_response(invoke(self.functions[route.function], event))
        return 404, {"content-type": "application/json"}, b'{"message":"Not Found"}'


def _http_response(result: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    headers = {name.lower(): str(value) for name, value in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name.lower()] = ",".join(str(value) for value in values)
    return int(result.get("statusCode", 200)), headers, raw


def _handler_class(
    dispatch: Callable[..., tuple[int, dict[str, str], bytes]],
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            try:
                status, headers, raw = dispatch(
                    self.command, self.path, dict(self.headers.items()), body, self.client_address[0]
                )
            except Exception as exc:  # noqa: BLE001 - what API Gateway answers when the integration fails
                status, headers = 500, {"content-type": "application/json"}
                raw = json.dumps({"message": "Internal Server Error", "local_error": repr(exc)}).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815 - http.server's names

        def __getattr__(self, name: str) -> Any:
            # API Gateway answers any other method too (404: no such route), never a 501.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler
