"""What a webhook source is: verify a raw request, then turn its payload into LeadEvents."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from leadscore.models.events import LeadEvent


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """The request as the provider signed it: raw body bytes and lower-cased headers."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True, slots=True)
class VerifyContext:
    keys: list[bytes]  # active secrets, newest first (two during a rotation)
    now: int
    tolerance_seconds: int


@dataclass(frozen=True, slots=True)
class WebhookSource:
    """A provider. `verify` raises WebhookRejected(401); `normalise` raises WebhookRejected(400/422)."""

    name: str
    secret_setting: str  # the settings field holding this source's secret id
    verify: Callable[[WebhookRequest, VerifyContext], None]
    normalise: Callable[[bytes, datetime], list[LeadEvent]]
    content_types: tuple[str, ...] = ("application/json",)
