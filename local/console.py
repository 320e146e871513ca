"""The console (console/) served by the local gateway under /console/, with a config.json for local sign-in."""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from local.stack import EmulatedStack

CONSOLE_DIR = Path(__file__).resolve().parents[1] / "console"


def console_files(stack: EmulatedStack) -> Callable[[str], tuple[int, dict[str, str], bytes] | None]:
    """GET /console/<file> from console/; /console/config.json tells the page to use a local token."""

    def serve(path: str) -> tuple[int, dict[str, str], bytes] | None:
        name = path.removeprefix("/console").lstrip("/") or "index.html"
        if name == "config.json":
            config = {"api": "", "auth": "local", "local_token_url": "/console/local-token"}
            return 200, {"content-type": "application/json"}, json.dumps(config).encode()
        if name == "local-token":
            # Loopback only: the whole point of the local stack. On AWS the console signs in with Cognito.
            body = json.dumps({"access_token": stack.issuer.mint()}).encode()
            return 200, {"content-type": "application/json", "cache-control": "no-store"}, body
        file = (CONSOLE_DIR / name).resolve()
        if CONSOLE_DIR.resolve() not in file.parents or not file.is_file():
            return None
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return 200, {"content-type": kind, "cache-control": "no-store"}, file.read_bytes()

    return serve
