"""What a handler's before-snapshot hook runs (snapstart.py): the first event's work, with no request made.

Each primer runs the real code path on a synthetic input against in-memory fakes (adapters/memory.py), so
everything it builds on the way (pydantic schemas, email-validator's regexes, the sources' parsers, the
scoring core and predictors, lazily imported modules) is in the snapshot, and nothing is sent or written.
The synthetic lead is `prime@snapstart.example` (RFC 2606: a domain reserved for examples); the key that signs
the synthetic webhook is random and dropped with it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadscore.adapters.clients import shared_client

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from leadscore.core.rules import CompiledModel
    from leadscore.models.events import LeadEvent

PRIME_EMAIL = "prime@snapstart.example"


def prime_clients(*services: str) -> None:
    """Create the process's clients now (botocore's service model and endpoint rules): no request is made."""
    for service in services:
        shared_client(service)


def prime_secrets_provider() -> None:
    """Build the one secrets provider on the shared client; fetches nothing (see snapstart.py: no secret in
    the snapshot)."""
    from leadscore.adapters.secrets import secrets_provider  # noqa: PLC0415

    secrets_provider()


def synthetic_event(now: datetime | None = None) -> LeadEvent:
    """A form submission, validated as the scorer validates a queued one (schema, email-validator)."""
    from leadscore.models.events import LeadEvent  # noqa: PLC0415

    at = (now or datetime.now(UTC)).replace(microsecond=0).isoformat()
    document = {
        "event_id": "snapstart-prime", "source": "forms", "type": "form_submitted", "occurred_at": at,
        "received_at": at, "email": PRIME_EMAIL,
        "attributes": {"job_title": "VP Marketing", "company_size": 250, "industry": "Software", "country": "GB"},
        "properties": {"form_id": "prime", "page_url": "https://snapstart.example/pricing"},
    }  # fmt: skip
    return LeadEvent.model_validate_json(json.dumps(document))


def prime_ingest(sources_config_dir: Path | None, tolerance_seconds: int = 300) -> int:
    """A signed forms webhook through the real IngestService, queued in memory; returns the events accepted."""
    from leadscore import clock  # noqa: PLC0415
    from leadscore.adapters.memory import InMemoryQueue  # noqa: PLC0415
    from leadscore.services.ingest import IngestService  # noqa: PLC0415
    from leadscore.sources import forms  # noqa: PLC0415
    from leadscore.sources.base import WebhookRequest  # noqa: PLC0415
    from leadscore.sources.config import load_source_config  # noqa: PLC0415

    key = os.urandom(32).hex().encode()
    service = IngestService(
        queue=InMemoryQueue(),
        keys_for=lambda _source: [key],
        clock=clock.now,
        tolerance_seconds=tolerance_seconds,
        config_for=lambda source: load_source_config(sources_config_dir, source.name),
    )
    body = json.dumps({
        "submission_id": "snapstart-prime", "form_id": "prime", "email": PRIME_EMAIL, "first_name": "Prime",
        "last_name": "Snapshot", "company": "Snapstart", "job_title": "VP Marketing", "company_size": 250,
        "industry": "Software", "country": "GB", "page_url": "https://snapstart.example/pricing",
    }).encode()  # fmt: skip
    stamp = str(int(clock.now().timestamp()))
    signature = hmac.new(key, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    request = WebhookRequest(
        method="POST",
        path="/webhooks/forms",
        headers={
            "content-type": "application/json",
            forms.TIMESTAMP_HEADER: stamp,
            forms.SIGNATURE_HEADER: f"v1={signature}",
        },
        body=body,
        query="",
        host="snapstart.example",
    )
    return len(service.accept(forms.SOURCE.name, request))


def prime_scoring(models: Sequence[CompiledModel]) -> int:
    """The synthetic event through the real ScoringService and every model (predictors included), in memory;
    returns the model outcomes."""
    from leadscore import clock  # noqa: PLC0415
    from leadscore.adapters.memory import InMemoryLeadStore, InMemoryPublisher  # noqa: PLC0415
    from leadscore.services.scoring import ScoringService  # noqa: PLC0415

    store = InMemoryLeadStore()
    service = ScoringService(
        scores=store,
        profiles=store,
        publisher=InMemoryPublisher(),
        models=models,
        pepper=os.urandom(32),
        clock=clock.now_epoch,
        erased=lambda _email: False,
    )
    return len(service.process(synthetic_event()))


def lambda_context() -> LambdaContext:
    """A context for resolving the synthetic request (the resolver keeps it; no route of ours reads it)."""
    from aws_lambda_powertools.utilities.typing import LambdaContext  # noqa: PLC0415

    return LambdaContext()


def lambda_http_event(path: str = "/snapstart/prime") -> dict[str, Any]:
    """An HTTP API (payload 2.0) request for a route no function serves: resolving it runs the resolver's
    own machinery (event classes, route matching, the JSON response) and no route of ours."""
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "", "headers": {},
        "requestContext": {"http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1",
                                    "userAgent": "snapstart"},
                           "requestId": "snapstart-prime", "routeKey": "$default", "stage": "$default",
                           "domainName": "snapstart.example", "timeEpoch": 0},
        "isBase64Encoded": False,
    }  # fmt: skip
