"""The /leads routes (Powertools Router): scope check, parameters, the service call. Nothing else.

The service comes from the resolver's context (`app.append_context(service=...)` in the handler), so the
OpenAPI document can be generated without AWS.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from leadscore.core.state import Stage
from leadscore.errors import LeadscoreError
from leadscore.models.leads_api import (
    REF_PATTERN,
    SCOPE_ERASE,
    SCOPE_FEEDBACK,
    SCOPE_READ,
    ErasureResult,
    ErrorBody,
    FeedbackRequest,
    FeedbackResult,
    HotList,
    LeadView,
)
from leadscore.services.leads import BadParameter, LeadsService

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]


class Unauthorized(LeadscoreError):
    """No verified token on the request (API Gateway answers this itself; here for direct invocations)."""


class MissingScope(LeadscoreError):
    def __init__(self, scope: str) -> None:
        super().__init__(f"this route needs the scope {scope!r}")
        self.scope = scope


def _ok(description: str, model: type[Any]) -> dict[int, OpenAPIResponse]:
    return {200: {"description": description, "content": {"application/json": {"model": model}}}}


def _error(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": ErrorBody}}}


UNAUTHORIZED: dict[int, OpenAPIResponse] = {
    401: _error("No bearer token, or one that is invalid, expired or for another audience.")
}
FORBIDDEN: dict[int, OpenAPIResponse] = {403: _error("The token lacks the route's scope (named in the message).")}
NOT_FOUND: dict[int, OpenAPIResponse] = {404: _error("No lead with this email address or lead id.")}
CONFLICT: dict[int, OpenAPIResponse] = {409: _error("The Idempotency-Key was used before with another body.")}
UNSUPPORTED: dict[int, OpenAPIResponse] = {415: _error("The body is not application/json.")}
INVALID: dict[int, OpenAPIResponse] = {422: _error("A parameter or the body is invalid (named in `details`).")}
UNAVAILABLE: dict[int, OpenAPIResponse] = {503: _error("A dependency is unavailable; retry.")}

RefParam = Annotated[str, Path(pattern=REF_PATTERN, description="An email address or a 26-character lead id.")]


def _ref(ref: str) -> str:
    return unquote(ref)


def _service() -> LeadsService:
    factory: Callable[[], LeadsService] = router.context["service"]
    return factory()


def require(scope: str) -> str | None:
    """The caller's subject, if its verified token carries `scope` (API Gateway's JWT authorizer context)."""
    authorizer = (router.current_event.raw_event.get("requestContext") or {}).get("authorizer") or {}
    jwt = authorizer.get("jwt") if isinstance(authorizer, dict) else None
    if not isinstance(jwt, dict) or not isinstance(jwt.get("claims"), dict):
        raise Unauthorized("a bearer token is required")
    claims: dict[str, Any] = jwt["claims"]
    scopes = set(jwt.get("scopes") or [])
    scopes |= set(str(claims.get("scope") or "").split())
    # An issuer may prefix scopes with its resource server ("leadscore/leads:read" from Cognito).
    if not any(granted == scope or granted.endswith(f"/{scope}") for granted in scopes):
        raise MissingScope(scope)
    subject = claims.get("sub")
    return None if subject is None else str(subject)


@router.get(
    "/leads/<ref>",
    summary="A lead's page: scores decayed to now, breakdown, stage, alerts, activity, feedback",
    responses={**_ok("The lead's page.", LeadView), **UNAUTHORIZED, **FORBIDDEN, **NOT_FOUND, **INVALID, **UNAVAILABLE},
    tags=["leads"],
)
def get_lead(ref: RefParam) -> LeadView:
    require(SCOPE_READ)
    return _service().lead(_ref(ref))


@router.get(
    "/leads",
    summary="The hot list: MQL/SQL leads of a model, highest stored total first (or those awaiting feedback)",
    responses={**_ok("One page of the hot list.", HotList), **UNAUTHORIZED, **FORBIDDEN, **INVALID, **UNAVAILABLE},
    tags=["leads"],
)
def hot_list(  # noqa: PLR0917 - one argument per query parameter, as Powertools binds them
    model: Annotated[str, Query(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$", description="Scoring model id.")] = "default",
    stage: Annotated[Literal["MQL", "SQL"] | None, Query(description="Only this stage (default: both).")] = None,
    band: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9]{1,16}$", description="Only this band, e.g. A1.")] = None,
    min_total: Annotated[Decimal | None, Query(ge=-100000, le=100000, description="Lowest stored total.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(max_length=1024, description="The previous page's cursor.")] = None,
    awaiting_feedback: Annotated[
        bool,
        Query(
            description="Instead of the hot list: the leads whose last sales alert has had no feedback yet, oldest "
            "alert first, each with `alerted_at`, `overdue` (older than the feedback SLA) and `sla_reported_at`. "
            "Not combinable with stage, band or min_total."
        ),
    ] = False,
) -> HotList:
    require(SCOPE_READ)
    if awaiting_feedback:
        for name, value in (("stage", stage), ("band", band), ("min_total", min_total)):
            if value is not None:
                raise BadParameter(name, "not combinable with awaiting_feedback=true")
        return _service().awaiting_feedback(model_id=model, limit=limit, cursor=cursor)
    stages = [Stage(stage)] if stage else [Stage.SQL, Stage.MQL]
    return _service().hot_list(
        model_id=model, stages=stages, band=band, min_total=min_total, limit=limit, cursor=cursor
    )


@router.post(
    "/leads/<ref>/feedback",
    summary="Record an outcome (accepted, rejected with reason, won, lost) as an outcome event",
    responses={
        200: {
            "description": "A replay of this Idempotency-Key.",
            "content": {"application/json": {"model": FeedbackResult}},
        },
        201: {"description": "Recorded and queued.", "content": {"application/json": {"model": FeedbackResult}}},
        **UNAUTHORIZED,
        **FORBIDDEN,
        **NOT_FOUND,
        **CONFLICT,
        **UNSUPPORTED,
        **INVALID,
        **UNAVAILABLE,
    },
    tags=["leads"],
)
def feedback(
    ref: RefParam,
    body: FeedbackRequest,
    idempotency_key: Annotated[
        str, Header(alias="idempotency-key", min_length=8, max_length=128, pattern=r"^[\x21-\x7e]+$")
    ],
) -> Response[FeedbackResult]:
    actor = require(SCOPE_FEEDBACK)
    result = _service().record_feedback(_ref(ref), body, idempotency_key, actor)
    return Response(
        status_code=200 if result.replayed else 201,
        content_type=content_types.APPLICATION_JSON,
        body=result,
    )


@router.delete(
    "/leads/<ref>",
    summary="Erase a lead (profile, scores, visitors, links, outcomes) and suppress its address",
    responses={
        **_ok("Erased; the address is suppressed.", ErasureResult),
        **UNAUTHORIZED,
        **FORBIDDEN,
        **NOT_FOUND,
        **INVALID,
        **UNAVAILABLE,
    },
    tags=["leads"],
)
def erase(ref: RefParam) -> ErasureResult:
    actor = require(SCOPE_ERASE)
    return _service().erase(_ref(ref), actor)
