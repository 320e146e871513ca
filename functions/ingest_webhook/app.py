"""POST /webhooks/{source}: verify, normalise, queue. Answers 202 only once the events are on the queue."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from aws_lambda_powertools.utilities.typing import LambdaContext

from leadscore import clock, priming, snapstart
from leadscore.adapters.clients import client
from leadscore.adapters.idempotent_queue import IdempotentQueue
from leadscore.adapters.secrets import SecretMissing, signing_keys
from leadscore.adapters.sqs import SqsEventQueue
from leadscore.errors import AlreadyAccepted, QueueUnavailable, StoreUnavailable, WebhookRejected
from leadscore.models.settings import IngestSettings
from leadscore.observability import logger, metrics, tracer
from leadscore.services.ingest import IngestService
from leadscore.sources.base import WebhookRequest, WebhookSource
from leadscore.sources.config import SourceConfigError, load_source_config

app = APIGatewayHttpResolver(enable_validation=True)


@lru_cache(maxsize=4)
def build_service(settings: IngestSettings) -> IngestService:
    queue = SqsEventQueue(client("sqs"), settings.queue_url)

    def keys_for(source: WebhookSource) -> list[bytes] | None:
        secret_id: str | None = getattr(settings, source.secret_setting)
        return signing_keys(secret_id) if secret_id else None  # no secret configured: source not served

    def config_for(source: WebhookSource) -> Mapping[str, Any]:
        return load_source_config(settings.sources_config_dir, source.name)

    return IngestService(
        queue=IdempotentQueue(
            queue, client("dynamodb"), settings.idempotency_table, settings.idempotency_seconds, clock.now
        ),
        keys_for=keys_for,
        clock=clock.now,
        tolerance_seconds=settings.signature_tolerance_seconds,
        config_for=config_for,
        on_unrecorded=_report_unrecorded,
    )


def _report_unrecorded(source: str, events: int) -> None:
    # Queued, so the answer is 2xx; only a later exact retry would be queued again (and dropped by the scorer).
    logger.warning("delivery queued but not recorded", extra={"source": source, "events": events})
    metrics.add_metric(name="DeliveriesUnrecorded", unit=MetricUnit.Count, value=1)


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


def _raw_body() -> bytes:
    event = app.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")


@app.post("/webhooks/<source>")
def receive_webhook(source: str) -> Response[Any]:
    event = app.current_event
    headers = {name.lower(): value for name, value in (event.headers or {}).items()}
    request = WebhookRequest(
        method=event.request_context.http.method,
        path=event.raw_path,
        headers=headers,
        body=_raw_body(),
        query=event.raw_query_string or "",
        host=headers.get("host", event.request_context.domain_name or ""),
    )
    logger.append_keys(source=source)
    service = build_service(IngestSettings.from_env(os.environ))
    accepted = service.accept(source, request)
    metrics.add_dimension(name="source", value=source)
    metrics.add_metric(name="EventsAccepted", unit=MetricUnit.Count, value=len(accepted))
    # DEBUG: at INFO a line per request would repeat the EventsAccepted metric (and cost log bytes per event).
    logger.debug("webhook accepted", extra={"events": len(accepted), "event_ids": [e.event_id for e in accepted]})
    return _json(202, {"accepted": len(accepted), "event_ids": [e.event_id for e in accepted]})


@app.exception_handler(WebhookRejected)
def rejected(exc: WebhookRejected) -> Response[Any]:
    logger.warning("webhook rejected", extra={"status": exc.status, "reason": exc.code})
    metrics.add_metric(name="WebhooksRejected", unit=MetricUnit.Count, value=1)
    return _json(exc.status, {"error": exc.code, "message": exc.message, "details": exc.details})


@app.exception_handler(AlreadyAccepted)
def already_accepted(exc: AlreadyAccepted) -> Response[Any]:
    # An exact retry: providers count any non-2xx as a failure, so it is answered 200 (not 202: nothing queued).
    logger.info("webhook duplicate", extra={"events": len(exc.event_ids)})
    metrics.add_metric(name="WebhooksDuplicate", unit=MetricUnit.Count, value=1)
    return _json(200, {"accepted": 0, "duplicate": True, "event_ids": exc.event_ids})


@app.exception_handler([QueueUnavailable, StoreUnavailable, GetParameterError, SecretMissing, SourceConfigError])
def dependency_unavailable(exc: Exception) -> Response[Any]:
    # Our side is down or misconfigured, not the sender's input: 503 tells the sender to retry, and nothing
    # was queued. Configuration problems are logged with their message (it names files, never payloads).
    logger.error("dependency unavailable", extra={"reason": type(exc).__name__, "detail": str(exc)[:300]})
    return _json(503, {"error": "unavailable", "message": "Try again shortly."}, headers={"Retry-After": "5"})


@app.not_found
def not_found(_: Exception) -> Response[Any]:
    return _json(404, {"error": "not_found", "message": "No such route."})


@snapstart.before_snapshot
def prime() -> None:
    """SnapStart: the first event's setup before the snapshot (snapstart.py); no request, no secret."""
    settings = IngestSettings.from_env(os.environ)
    build_service(settings)
    priming.prime_clients("sqs", "dynamodb", "secretsmanager")
    priming.prime_secrets_provider()
    priming.prime_ingest(settings.sources_config_dir, settings.signature_tolerance_seconds)
    app.resolve(
        priming.lambda_http_event(), priming.lambda_context()
    )  # the resolver's machinery, through the not-found route


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
