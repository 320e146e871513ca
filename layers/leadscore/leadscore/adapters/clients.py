"""boto3 clients: one botocore session per process, each client created on first use and then reused.

A cold start pays for every botocore session it builds (service models, endpoint rules, credentials) and for
every client it creates. So every client comes from boto3's default session (Powertools' providers too, see
secrets.py), and `client()` returns a handle that creates the real client only when a request is made: the
scorer builds its SNS publisher up front but creates the SNS client only when it sends an alert.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from botocore.config import Config

# Standard retry mode backs off on throttling; timeouts stay well inside the functions' own timeouts, so a
# slow dependency fails the record (and SQS retries it) rather than the whole invocation.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=2,
    read_timeout=5,
)

# What a client is bound to when it is created: a client made under one endpoint or set of credentials
# (a test's emulator, moto's mock) is never handed out under another.
_BINDING = ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_PROFILE")
_clients: dict[tuple[str | None, ...], Any] = {}
_lock = threading.Lock()  # creating clients from one session is not thread-safe; using them is


def _binding(service: str) -> tuple[str | None, ...]:
    return (service, *(os.environ.get(name) for name in _BINDING))


def shared_client(service: str) -> Any:
    """The process's client for `service`, created now if it does not exist yet."""
    key = _binding(service)
    found = _clients.get(key)
    if found is None:
        with _lock:
            found = _clients.get(key)
            if found is None:
                import boto3  # noqa: PLC0415 - imported by the first request, not by the handler's import

                session = boto3._get_default_session()  # boto3.client() uses this very session
                found = _clients[key] = session.client(service, config=CLIENT_CONFIG)  # type: ignore[call-overload]
    return found


class LazyClient:
    """Stands for a boto3 client; the client itself is created at the first attribute access (a request)."""

    def __init__(self, service: str) -> None:
        self._service = service

    def __getattr__(self, name: str) -> Any:
        return getattr(shared_client(self._service), name)

    def __repr__(self) -> str:
        return f"LazyClient({self._service!r})"


def client(service: str) -> Any:
    return LazyClient(service)


def forget_clients() -> None:
    """Drop every client (tests and the local runner: a new cold start, or hooks registered on the session)."""
    with _lock:
        _clients.clear()
