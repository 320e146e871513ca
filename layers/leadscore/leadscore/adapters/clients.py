"""boto3 clients with explicit retry and timeout settings (created lazily, never at import)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

# Standard retry mode backs off on throttling; timeouts stay well inside the functions' own timeouts, so a
# slow dependency fails the record (and SQS retries it) rather than the whole invocation.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=2,
    read_timeout=5,
)


def client(service: str) -> Any:
    return boto3.client(service, config=CLIENT_CONFIG)  # type: ignore[call-overload]
