"""Browser tests: tracker/leadscore.min.js on the test site (local/site/) in Debian's headless Chromium.

Playwright drives the system Chromium (never a browser of its own). The site is served by
`local.site_server.serve_site`; its snippet points at a capture server standing in for POST /track, which
records every request and answers as contract C1 says (202 {"accepted": n}, CORS echoing the origin).
Time inside the page is Playwright's fake clock, paused: "read for 10 s" is exactly 10 s and takes no real time.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from local.site_server import serve_site

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# How long a negative check ("nothing was sent") waits for a beacon that should not come.
QUIET_S = 0.6


@dataclass
class Beacon:
    body: dict[str, Any]
    raw: bytes
    headers: dict[str, str]


@dataclass
class CaptureServer:
    """Stands in for POST /track: records every request, answers 202 with CORS for the site's origin."""

    url: str = ""
    beacons: list[Beacon] = field(default_factory=list)
    other_requests: list[str] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def record(self, beacon: Beacon) -> None:
        with self._changed:
            self.beacons.append(beacon)
            self._changed.notify_all()

    def wait_for(self, count: int, timeout_s: float = 5.0) -> list[Beacon]:
        """The beacons once at least `count` have arrived; fails the test after `timeout_s`."""
        return self._wait(lambda: len(self.beacons) >= count, f"{count} beacon(s)", timeout_s)

    def wait_for_events(self, count: int, timeout_s: float = 10.0) -> list[Beacon]:
        """The beacons once they hold at least `count` events between them."""
        return self._wait(lambda: len(self.events()) >= count, f"{count} event(s)", timeout_s)

    def _wait(self, done: Callable[[], bool], what: str, timeout_s: float) -> list[Beacon]:
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while not done():
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail(f"expected {what} at /track, got {len(self.beacons)} beacon(s): {self.bodies()}")
                self._changed.wait(left)
            return list(self.beacons)

    def settle(self) -> list[Beacon]:
        """The beacons after a quiet period: for checks that something was NOT sent."""
        time.sleep(QUIET_S)
        with self._changed:
            return list(self.beacons)

    def bodies(self) -> list[dict[str, Any]]:
        return [beacon.body for beacon in self.beacons]

    def events(self) -> list[dict[str, Any]]:
        return [event for beacon in self.beacons for event in beacon.body["events"]]


def _capture_handler(capture: CaptureServer) -> type[BaseHTTPRequestHandler]:
    class TrackHandler(BaseHTTPRequestHandler):
        def do_OPTIONS(self) -> None:
            # A text/plain beacon needs no preflight; answering one anyway keeps a regression visible, not hung.
            capture.other_requests.append(f"OPTIONS {self.path}")
            self._reply(HTTPStatus.NO_CONTENT, b"")

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path != "/track":
                capture.other_requests.append(f"POST {self.path}")
                self._reply(HTTPStatus.NOT_FOUND, b'{"message": "not found"}')
                return
            try:
                body = json.loads(raw)
            except ValueError:
                self._reply(HTTPStatus.BAD_REQUEST, b'{"message": "body is not JSON"}')
                return
            capture.record(Beacon(body=body, raw=raw, headers={k.lower(): v for k, v in self.headers.items()}))
            self._reply(HTTPStatus.ACCEPTED, json.dumps({"accepted": len(body.get("events", []))}).encode())

        def _reply(self, status: HTTPStatus, content: bytes) -> None:
            self.send_response(status)
            origin = self.headers.get("Origin")
            if origin:
                self.send_header("Access-Control-Allow-Origin", origin)
                self.send_header("Vary", "Origin")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return TrackHandler


@pytest.fixture
def capture() -> Iterator[CaptureServer]:
    """A new capture server per test, so a late beacon from an earlier test can never land in this one."""
    capture = CaptureServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _capture_handler(capture))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    capture.url = f"http://127.0.0.1:{server.server_address[1]}/track"
    yield capture
    server.shutdown()
    server.server_close()


@dataclass
class Site:
    url: str
    forms: list[dict[str, str]]


@pytest.fixture
def site(capture: CaptureServer) -> Iterator[Site]:
    forms: list[dict[str, str]] = []
    server, url = serve_site(0, capture.url, on_form=forms.append)
    yield Site(url=url, forms=forms)
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def site_with_api_down() -> Iterator[str]:
    """The site with its snippet pointed at a port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    server, url = serve_site(0, f"http://127.0.0.1:{dead_port}/track")
    yield url
    server.shutdown()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: `make browser` installs Debian's chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, timeout=30_000
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def browser_context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context()
    ctx.set_default_timeout(10_000)
    ctx.set_default_navigation_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def context(browser_context: Any) -> Iterator[Any]:
    """The browser profile, emptied for each test: no cookie or page left from another test.

    (One profile for the session rather than one per test: the snippet stores nothing but its cookie, and
    a new profile costs a second on a busy machine.)
    """
    browser_context.clear_cookies()
    yield browser_context
    for tab in browser_context.pages:
        tab.close()
    browser_context.clear_cookies()


@pytest.fixture
def page(context: Any) -> Any:
    """A tab whose clock stands still until the test moves it (page.clock.run_for): exact engaged times."""
    tab = context.new_page()
    tab.clock.install()
    tab.clock.pause_at(time.time() + 1)  # seconds since the epoch, a moment after the install
    return tab


@pytest.fixture
def page_errors(page: Any) -> list[str]:
    """Uncaught errors in the page (what a script throwing into the host page would produce)."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors
