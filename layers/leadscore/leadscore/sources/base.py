"""What a webhook source is: verify a raw request, then turn its payload into LeadEvents."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadscore.models.events import LeadEvent


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """The request as the provider signed it: raw body bytes and lower-cased headers."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    query: str = ""  # raw query string, without '?' (HubSpot signs the full URI)
    host: str = ""  # the Host the provider called (HubSpot signs https://<host><path>?<query>)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True, slots=True)
class VerifyContext:
    keys: list[bytes]  # active secrets, newest first (two during a rotation)
    now: int
    tolerance_seconds: int


@dataclass(frozen=True, slots=True)
class NormaliseContext:
    """What normalising needs besides the body: when we received it, and this source's configuration.

    `config` is the source's section of the sources configuration (`scoring/sources/<name>.yaml`, deployed
    beside the scoring models), e.g. which form field holds the email. Each source validates its own.
    """

    received_at: datetime
    config: Mapping[str, Any] = field(default_factory=dict)


def no_replay_key(_: WebhookRequest) -> str | None:
    return None


KIB = 1024
MIB = 1024 * KIB
# The largest body any source may set. API Gateway HTTP APIs take up to 10 MB, but the Lambda function it
# invokes synchronously takes an event of at most 6 MB, and the body sits in that event JSON-escaped (a
# newline or quote doubles) or base64-encoded when it is not UTF-8 (4/3). 2 MiB doubled plus the envelope
# still fits, so a body up to any source's limit reaches our function, and one over it gets our 413.
# docs/architecture.md, "Body size limits".
MAX_SOURCE_BODY_BYTES = 2 * MIB


@dataclass(frozen=True, slots=True)
class WebhookSource:
    """A provider. `verify` raises WebhookRejected(401); `normalise` raises WebhookRejected(400/422).

    `replay_key` names what must never be accepted twice when the signature does not cover the body
    (Mailgun signs only timestamp + token, so the token is remembered); by default the batch of event ids.
    `max_body_bytes` is the provider's documented largest body (or, where none is documented, one derived
    from what its payload holds) with headroom; each source says its basis where it sets it, and
    docs/architecture.md tables them with their sources.
    """

    name: str
    secret_setting: str  # the settings field holding this source's secret id
    verify: Callable[[WebhookRequest, VerifyContext], None]
    normalise: Callable[[bytes, NormaliseContext], list[LeadEvent]]
    content_types: tuple[str, ...] = ("application/json",)
    replay_key: Callable[[WebhookRequest], str | None] = no_replay_key
    max_body_bytes: int = 256 * KIB
    # True when the signature covers a timestamp checked against a window: a captured request cannot be
    # replayed later, so a single-event delivery needs no delivery record (see services.ingest.delivery_of).
    signed_timestamp: bool = False
