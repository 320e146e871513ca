"""Secrets through Powertools Parameters (cached: a warm function does not call Secrets Manager per event).

Every secret goes through one provider, built on the process's shared Secrets Manager client (clients.py):
Powertools' own default provider would build a boto3 session of its own, 35-50 ms of a cold start. It is
installed as Powertools' default secrets provider, so `parameters.clear_caches()` still empties its cache.
"""

from __future__ import annotations

import threading
from typing import Any

from leadscore.adapters.clients import client
from leadscore.errors import LeadscoreError

SECRET_CACHE_SECONDS = 300
_lock = threading.Lock()


class SecretMissing(LeadscoreError):
    """A configured secret does not hold what we need (a deployment problem, not bad input)."""


def _provider() -> Any:
    from aws_lambda_powertools.utilities.parameters import secrets  # noqa: PLC0415 - first secret only
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS  # noqa: PLC0415

    with _lock:
        provider = DEFAULT_PROVIDERS.get("secrets")
        if not getattr(provider, "leadscore_shared_client", False):
            provider = secrets.SecretsProvider(boto3_client=client("secretsmanager"))
            provider.leadscore_shared_client = True  # type: ignore[attr-defined]
            DEFAULT_PROVIDERS["secrets"] = provider
        return provider


def secrets_provider() -> Any:
    """The shared provider, built now if need be (SnapStart's priming builds it before the snapshot)."""
    return _provider()


def secret_json(secret_id: str) -> dict[str, Any]:
    value = _provider().get(secret_id, transform="json", max_age=SECRET_CACHE_SECONDS)
    if not isinstance(value, dict):
        raise SecretMissing(f"secret {secret_id} is not a JSON object")
    return value


def signing_keys(secret_id: str) -> list[bytes]:
    """The active HMAC keys: 'current' and, during a rotation, 'previous'."""
    value = secret_json(secret_id)
    keys = [str(value[name]).encode() for name in ("current", "previous") if value.get(name)]
    if not keys:
        raise SecretMissing(f"secret {secret_id} has no 'current' key")
    return keys


def pepper(secret_id: str) -> bytes:
    value = secret_json(secret_id).get("pepper")
    if not value:
        raise SecretMissing(f"secret {secret_id} has no 'pepper'")
    return str(value).encode()
