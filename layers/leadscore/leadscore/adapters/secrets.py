"""Secrets through Powertools Parameters (cached: a warm function does not call Secrets Manager per event)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities import parameters

from leadscore.errors import LeadscoreError

SECRET_CACHE_SECONDS = 300


class SecretMissing(LeadscoreError):
    """A configured secret does not hold what we need (a deployment problem, not bad input)."""


def secret_json(secret_id: str) -> dict[str, Any]:
    value = parameters.get_secret(secret_id, transform="json", max_age=SECRET_CACHE_SECONDS)
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
