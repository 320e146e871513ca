"""The tiny test website (local/site/) with the tracker on it, served on 127.0.0.1 from a thread.

`serve_site(port, api_url)` serves the pages at `/`, the snippet at `/tracker/`, and puts `api_url` in every
page's `data-api` attribute, so the same pages work against `make serve`, the demo or a test's capture server.
The contact page's plain HTML form posts to `/contact`; `on_form` receives its fields (ls_visitor_id included).
"""

from __future__ import annotations

import html
import mimetypes
import re
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

REPO = Path(__file__).resolve().parent.parent
SITE_DIR = REPO / "local" / "site"
TRACKER_DIR = REPO / "tracker"
# The pages say `data-api="…"` once, in the snippet's <script> tag; this is the one thing rewritten.
_DATA_API = re.compile(rb'data-api="[^"]*"')
_MAX_FORM_BYTES = 64 * 1024
# app.html calls leadscore('page') itself; docs.html lets the snippet follow history (data-spa="history").
_SINGLE_PAGE_APPS = {"app", "docs"}

FormHook = Callable[[dict[str, str]], None]


def serve_site(port: int, api_url: str, *, on_form: FormHook | None = None) -> tuple[ThreadingHTTPServer, str]:
    """Serve the test site on 127.0.0.1:`port` (0 picks a free port) with the snippet pointed at `api_url`.

    Returns the running server (`.shutdown()` then `.server_close()` stops it) and its base URL, e.g. "http://127.0.0.1:8000".
    """
    data_api = b'data-api="' + html.escape(api_url, quote=True).encode() + b'"'
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(data_api, on_form))
    server.daemon_threads = True
    # A short poll interval so `shutdown()` returns at once (tests start and stop one server per test).
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="site-server", daemon=True
    ).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _resolve(path: str) -> Path | None:
    """The file a URL path names, never outside the two served folders."""
    if path.startswith("/tracker/"):
        root, relative = TRACKER_DIR, path.removeprefix("/tracker/")
    elif (app := path.strip("/").split("/", 1)[0]) in _SINGLE_PAGE_APPS:
        root, relative = SITE_DIR, f"{app}.html"  # a single-page app answers for all of its client-side routes
    else:
        root, relative = SITE_DIR, path.lstrip("/") or "index.html"
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def _handler(data_api: bytes, on_form: FormHook | None) -> type[BaseHTTPRequestHandler]:
    class SiteHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._get(send_body=True)

        def do_HEAD(self) -> None:
            self._get(send_body=False)

        def do_POST(self) -> None:
            if urlsplit(self.path).path != "/contact":
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > _MAX_FORM_BYTES:
                self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, b"form too large\n", "text/plain; charset=utf-8")
                return
            fields = dict(parse_qsl(self.rfile.read(length).decode("utf-8", "replace"), keep_blank_values=True))
            if on_form is not None:
                on_form(fields)
            self.send_response(HTTPStatus.SEE_OTHER)
            self.send_header("Location", "/thanks.html")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _get(self, *, send_body: bool) -> None:
            file = _resolve(urlsplit(self.path).path)
            if file is None:
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", send_body=send_body)
                return
            content = file.read_bytes()
            if file.suffix == ".html":
                content = _DATA_API.sub(lambda _: data_api, content)
            kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            if kind.startswith("text/") or kind.endswith("javascript"):
                kind += "; charset=utf-8"
            self._send(HTTPStatus.OK, content, kind, send_body=send_body)

        def _send(self, status: HTTPStatus, content: bytes, kind: str, *, send_body: bool = True) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(content)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if send_body:
                self.wfile.write(content)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the demo and the tests print what matters

    return SiteHandler
