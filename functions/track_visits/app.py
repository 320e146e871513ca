"""POST /track: page views from the browser snippet (contract C1). Public: origin allow-list, strict schema,
bot filter, rate limits. Answers 202 {"accepted": n}, 204 for a dropped bot, 4xx JSON otherwise."""

from __future__ import annotations

import base64
import os
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from aws_lambda_powertools.utilities.typing import LambdaContext

from leadscore import clock, priming, snapstart
from leadscore.adapters.clients import client
from leadscore.adapters.rate_limits import InstanceRateLimiter
from leadscore.adapters.secrets import SecretMissing, signing_keys
from leadscore.adapters.sqs import SqsEventQueue, SqsJsonQueue
from leadscore.adapters.visits import DynamoVisitorStore
from leadscore.errors import QueueUnavailable, StoreUnavailable, WebhookRejected
from leadscore.models.beacon import MAX_BEACON_BYTES, Beacon
from leadscore.models.visit_settings import TrackSettings
from leadscore.observability import logger, metrics, tracer
from leadscore.services.track import Outcome, TrackLimits, TrackRejected, TrackService
from leadscore.sources.payloads import parse_payload

app = APIGatewayHttpResolver()
ACCEPTED_TYPES = frozenset({"text/plain", "application/json"})  # sendBeacon sends text/plain: no preflight


@lru_cache(maxsize=2)
def build_service(settings: TrackSettings) -> TrackService:
    store = DynamoVisitorStore(client("dynamodb"), settings.visitors_table)
    return TrackService(
        visitors=store,
        # Cached with the service: one set of counters per container, shared by its invocations.
        limiter=store if settings.rate_limit_store == "dynamodb" else InstanceRateLimiter(),
        events=SqsEventQueue(client("sqs"), settings.queue_url),
        links=SqsJsonQueue(client("sqs"), settings.queue_url),
        token_keys=lambda: signing_keys(settings.token_secret_id),
        clock=clock.now_epoch,
        allowed_origins=settings.origins(),
        limits=TrackLimits(
            window_seconds=settings.visitor_ttl_days * 86_400,
            ip_per_minute=settings.ip_per_minute,
            visitor_per_minute=settings.visitor_per_minute,
        ),
    )


def _headers() -> dict[str, str]:
    return {name.lower(): value for name, value in (app.current_event.headers or {}).items()}


def _cors(origin: str | None) -> dict[str, str]:
    # Echo the one allowed origin (never "*"); Vary so a cache never serves one origin's answer to another.
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"} if origin else {}


def _json(status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


def _allowed_origin() -> str | None:
    """The request's origin if it is on the allow-list (for CORS headers on error answers too)."""
    origin = _headers().get("origin")
    settings = TrackSettings.from_env(os.environ)
    return origin.rstrip("/") if origin and origin.rstrip("/") in settings.origins() else None


@app.post("/track")
def track() -> Response[Any]:
    event = app.current_event
    headers = _headers()
    service = build_service(TrackSettings.from_env(os.environ))
    origin = service.check_origin(headers.get("origin"))
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in ACCEPTED_TYPES:
        raise WebhookRejected(415, "unsupported_media_type", "Send text/plain or application/json.")
    body = base64.b64decode(event.body or "") if event.is_base64_encoded else (event.body or "").encode("utf-8")
    if len(body) > MAX_BEACON_BYTES:
        raise WebhookRejected(413, "too_large", f"A beacon is at most {MAX_BEACON_BYTES} bytes.")
    beacon = parse_payload(body, Beacon, "a beacon (contract C1)")
    result = service.accept(
        beacon, user_agent=headers.get("user-agent"), source_ip=event.request_context.http.source_ip
    )
    metrics.add_metric(name=f"Track_{result.outcome.value}", unit=MetricUnit.Count, value=1)
    if result.outcome is Outcome.BOT:
        return Response(status_code=204, headers=_cors(origin))
    return _json(202, {"accepted": result.accepted}, _cors(origin))


@app.exception_handler(TrackRejected)
def refused(exc: TrackRejected) -> Response[Any]:
    metrics.add_metric(name="TrackRejected", unit=MetricUnit.Count, value=1)
    headers = _cors(_allowed_origin())
    if exc.retry_after is not None:
        headers["Retry-After"] = str(max(1, exc.retry_after))
    return _json(exc.status, {"error": exc.code, "message": exc.message}, headers)


@app.exception_handler(WebhookRejected)
def malformed(exc: WebhookRejected) -> Response[Any]:
    metrics.add_metric(name="TrackRejected", unit=MetricUnit.Count, value=1)
    body = {"error": exc.code, "message": exc.message, "details": exc.details}
    return _json(exc.status, body, _cors(_allowed_origin()))


@app.exception_handler([StoreUnavailable, QueueUnavailable, GetParameterError, SecretMissing])
def unavailable(exc: Exception) -> Response[Any]:
    logger.error("dependency unavailable", extra={"reason": type(exc).__name__})
    headers = _cors(_allowed_origin()) | {"Retry-After": "5"}
    return _json(503, {"error": "unavailable", "message": "Try again shortly."}, headers)


@app.not_found
def not_found(_: Exception) -> Response[Any]:
    return _json(404, {"error": "not_found", "message": "No such route."})


@snapstart.before_snapshot
def prime() -> None:
    """SnapStart: the service, its clients and the resolver before the snapshot (snapstart.py); no secret."""
    build_service(TrackSettings.from_env(os.environ))
    priming.prime_clients("dynamodb", "sqs", "secretsmanager")
    priming.prime_secrets_provider()
    app.resolve(
        priming.lambda_http_event(), priming.lambda_context()
    )  # the resolver's machinery, through the not-found route


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
