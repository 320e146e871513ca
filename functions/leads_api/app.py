"""GET/POST/DELETE /leads…: sales and ops read scores, record feedback, erase on request.

API Gateway's JWT authorizer verifies the bearer token; the routes check its scopes again (defence in depth).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from aws_lambda_powertools.utilities.typing import LambdaContext

from leadscore import clock, priming, snapstart
from leadscore.adapters.clients import client
from leadscore.adapters.lead_reads import DynamoLeadsReader
from leadscore.adapters.secrets import SecretMissing, pepper
from leadscore.adapters.sqs import SqsEventQueue
from leadscore.api.leads_routes import MissingScope, Unauthorized, router
from leadscore.errors import QueueUnavailable, StoreUnavailable
from leadscore.models.leads_api import LeadsApiSettings
from leadscore.models.served_models import load_served_models
from leadscore.observability import logger, tracer
from leadscore.services.leads import BadParameter, IdempotencyConflict, LeadNotFound, LeadsService

app = APIGatewayHttpResolver(enable_validation=True)
app.include_router(router)


@lru_cache(maxsize=2)
def build_service(settings: LeadsApiSettings) -> LeadsService:
    models = load_served_models(Path(settings.models_dir))
    return LeadsService(
        store=DynamoLeadsReader(client("dynamodb"), settings.table_name, models),
        queue=SqsEventQueue(client("sqs"), settings.queue_url),
        models=models,
        pepper=pepper(settings.pepper_secret_id),
        clock=clock.now_epoch,
        visitors_table=settings.visitors_table,
        sla_hours=settings.feedback_sla_hours,
    )


def _json(status: int, error: str, message: str, details: list[dict[str, str]] | None = None) -> Response[Any]:
    body: dict[str, Any] = {"error": error, "message": message}
    if details is not None:
        body["details"] = details
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


@app.exception_handler(Unauthorized)
def unauthorized(exc: Unauthorized) -> Response[Any]:
    return _json(401, "unauthorized", str(exc))


@app.exception_handler(MissingScope)
def missing_scope(exc: MissingScope) -> Response[Any]:
    return _json(403, "missing_scope", str(exc))


@app.exception_handler(LeadNotFound)
def lead_not_found(exc: LeadNotFound) -> Response[Any]:
    return _json(404, "lead_not_found", str(exc))


@app.exception_handler(IdempotencyConflict)
def conflict(exc: IdempotencyConflict) -> Response[Any]:
    return _json(409, "idempotency_conflict", str(exc))


@app.exception_handler(BadParameter)
def bad_parameter(exc: BadParameter) -> Response[Any]:
    return _json(422, "invalid_request", str(exc), [{"loc": f"query.{exc.parameter}", "msg": str(exc)}])


@app.exception_handler(RequestValidationError)
def invalid(exc: RequestValidationError) -> Response[Any]:
    # Where and what only: never the input, which may hold an email address.
    details = [
        {"loc": ".".join(str(part) for part in error["loc"]), "msg": str(error["msg"])} for error in exc.errors()
    ]
    names = ", ".join(sorted({detail["loc"] for detail in details}))
    return _json(422, "invalid_request", f"invalid: {names}", details)


BODY_READER = "aws_lambda_powertools.event_handler.middlewares.openapi_validation"


def raised_reading_the_body(exc: BaseException) -> bool:
    """Whether `exc` came out of the resolver's body parsing (its validation middleware's `_get_body`)."""
    frame = exc.__traceback__
    while frame is not None:
        code = frame.tb_frame
        if code.f_globals.get("__name__") == BODY_READER and code.f_code.co_name == "_get_body":
            return True
        frame = frame.tb_next
    return False


@app.exception_handler(ValueError)
def unreadable_body(exc: ValueError) -> Response[Any]:
    # The resolver parses the body by its Content-Type before validation (e.g. a multipart body without a
    # boundary) and raises a bare ValueError for what it cannot read: the caller's problem, never a 500.
    # Any other ValueError is a bug of ours: it is not dressed up as a 415.
    if not raised_reading_the_body(exc):
        raise exc
    logger.info("unreadable request body", extra={"reason": type(exc).__name__})
    return _json(415, "unsupported_media_type", "Send the body as application/json.")


@app.exception_handler([StoreUnavailable, QueueUnavailable, GetParameterError, SecretMissing])
def unavailable(exc: Exception) -> Response[Any]:
    logger.error("dependency unavailable", extra={"reason": type(exc).__name__})
    response = _json(503, "unavailable", "Try again shortly.")
    response.headers["Retry-After"] = "5"
    return response


@app.not_found
def not_found(_: Exception) -> Response[Any]:
    return _json(404, "not_found", "No such route.")


@snapstart.before_snapshot
def prime() -> None:
    """SnapStart: clients and the resolver before the snapshot (snapstart.py). The service needs the pepper,
    a secret, so it is built by the first request, as without SnapStart."""
    priming.prime_clients("dynamodb", "sqs", "secretsmanager")
    priming.prime_secrets_provider()
    app.resolve(
        priming.lambda_http_event(), priming.lambda_context()
    )  # the resolver's machinery, through the not-found route


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # A factory, not the service: a secret that cannot be read fails inside the route (503, not a crash).
    app.append_context(
        # type: ignore[no-untyped-call]
        service=lambda: build_service(LeadsApiSettings.model_validate(dict(os.environ)))
    )
    return app.resolve(event, context)
