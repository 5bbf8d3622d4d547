"""The REST resolver every API handler uses, with one mapping from errors to JSON answers."""

from __future__ import annotations

import os
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.metrics import MetricUnit

from swarm_learning.api.observability import logger, metrics
from swarm_learning.errors import LearningError
from swarm_learning.models.reads import ErrorDetail, ErrorResponse

API_PREFIX = "/api/v1/learning"
# The dashboard's origin (https://host, no path): the only origin a browser may call the API from.
DASHBOARD_ORIGIN_ENV = "DASHBOARD_ORIGIN"
# Headers a browser may send cross-origin, beyond the ones Powertools always allows.
CORS_HEADERS = ["Idempotency-Key", "X-Correlation-Id"]


def cors_config() -> CORSConfig | None:
    """CORS for the dashboard's origin only; None (no CORS headers at all) when it is not set,
    as locally, where the dashboard is served from the API's own origin."""
    origin = os.environ.get(DASHBOARD_ORIGIN_ENV, "").strip()
    return CORSConfig(allow_origin=origin, allow_headers=CORS_HEADERS, max_age=600) if origin else None


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": ErrorResponse}}}


# Every authenticated route can answer these; listed in the OpenAPI document of each operation.
ERROR_RESPONSES: dict[int, Any] = {
    400: _error("Malformed request (bad JSON, body nested too deeply)"),
    401: _error("Missing, invalid, revoked or expired API key"),
    403: _error("The API key may not use the workspace the request names"),
    413: _error("Request body over the size limit"),
    415: _error("Request body sent as something other than application/json"),
    422: _error("Invalid field"),
    429: _error("Throttled by the stage or the key's usage plan (API Gateway)"),
}
# A route that lists its error responses must list its success too (Powertools then documents the
# return type under it); without it the document would say the route never answers 200.
OK_RESPONSE: dict[int, Any] = {200: {"description": "OK"}}
NOT_FOUND_RESPONSE: dict[int, Any] = {404: _error("Unknown id (in this workspace)")}
CONFLICT_RESPONSE: dict[int, Any] = {409: _error("Conflicts with the current state")}


def _field(location: tuple[Any, ...]) -> str:
    # ("body", "confidence_score") -> "confidence_score"; ("query", "limit") -> "limit";
    # ("header", "idempotency-key") -> "Idempotency-Key", spelled as the API documents the header.
    if len(location) == 2 and location[0] == "header":
        return "-".join(word.capitalize() for word in str(location[1]).split("-"))
    parts = [str(p) for p in location[1:]] if len(location) > 1 else [str(p) for p in location]
    return ".".join(parts)


def _malformed_json(problem: Mapping[str, Any], document: Any) -> ErrorDetail:
    """Powertools reports where the JSON broke as the field ("body", 25); the field is the body,
    and the position belongs in the message."""
    location = problem.get("loc", ())
    position = location[1] if len(location) > 1 and isinstance(location[1], int) else None
    reason = (problem.get("ctx") or {}).get("error") or problem.get("msg", "invalid JSON")
    where = ""
    if position is not None:
        text = document if isinstance(document, str) else ""
        line = text.count("\n", 0, position) + 1
        column = position - text.rfind("\n", 0, position)
        where = f" at character {position} (line {line}, column {column})"
    return ErrorDetail(field="body", message=f"{reason}{where}", type="json_invalid")


def error_response(
    app: APIGatewayRestResolver,
    status: int,
    error: str,
    message: str,
    details: list[ErrorDetail] | None = None,
) -> Response:
    """The JSON answer every error gets, carrying the request id to quote in a report."""
    body = ErrorResponse(
        error=error,
        message=message,
        details=details or [],
        request_id=app.current_event.request_context.request_id,
    )
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=body.model_dump_json()
    )


def register_error_handlers(app: APIGatewayRestResolver) -> APIGatewayRestResolver:
    """Map every error to a JSON ``ErrorResponse`` with the status that says what went wrong."""

    def answer(status: int, error: str, message: str, details: list[ErrorDetail] | None = None) -> Response:
        return error_response(app, status, error, message, details)

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response:
        problems = error.errors()
        malformed = [p for p in problems if p.get("type") == "json_invalid"]
        if malformed:
            detail = _malformed_json(malformed[0], error.body)
            return answer(
                400, "malformed_json", f"request body is not valid JSON: {detail.message}", [detail]
            )
        details = [
            ErrorDetail(
                field=_field(tuple(p.get("loc", ()))) or None,
                message=p.get("msg", "invalid"),
                type=p.get("type"),
            )
            for p in problems
        ]
        fields = ", ".join(sorted({d.field for d in details if d.field})) or "request"
        return answer(422, "validation_error", f"invalid input: {fields}", details)

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported_content_type(_: RequestUnsupportedContentType) -> Response:
        detail = ErrorDetail(field="Content-Type", message="send the body as application/json")
        return answer(415, "unsupported_media_type", detail.message, [detail])

    @app.exception_handler(LearningError)
    def domain_error(error: LearningError) -> Response:
        details = [ErrorDetail(field=error.field, message=error.message)] if error.field else []
        return answer(error.status_code, error.code, error.message, details)

    @app.not_found
    def unknown_route(_: Exception) -> Response:
        return answer(
            404, "route_not_found", f"no route for {app.current_event.http_method} {app.current_event.path}"
        )

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Response:
        logger.exception("unhandled error", extra={"error_type": type(error).__name__})
        metrics.add_metric(name="UnhandledErrors", unit=MetricUnit.Count, value=1)
        return answer(500, "internal_error", "internal error; quote the request_id when reporting it")

    return app


def resolver_options(*, cors: bool = True) -> dict[str, Any]:
    """The settings of every API function's resolver (``APIGatewayRestResolver(**resolver_options())``
    in each handler, where the OpenAPI merge finds it): request validation on, and CORS for the
    dashboard unless the dashboard never calls the function. ``register_error_handlers`` follows."""
    return {
        "cors": cors_config() if cors else None,
        "enable_validation": True,
        # A response that breaks its own schema is our bug: a 500 we see, not a 422 for the client.
        "response_validation_error_http_code": HTTPStatus.INTERNAL_SERVER_ERROR,
    }
