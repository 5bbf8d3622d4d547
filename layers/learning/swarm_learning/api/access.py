"""What every API request must pass before its route runs: a caller (the authorizer's context),
a JSON body within the size and nesting limits, and only workspaces the caller's key allows.

It runs before the resolver, so a refused request has touched nothing, and before any JSON parser
that could recurse on a hostile body. Answers use the same ``ErrorResponse`` as every other error.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from swarm_learning.api.http import API_PREFIX, cors_config
from swarm_learning.api.observability import logger
from swarm_learning.ids import IDENTIFIER_PATTERN
from swarm_learning.models.common import json_depth
from swarm_learning.models.reads import ErrorDetail, ErrorResponse
from swarm_learning.services.keys.service import CONTEXT_KEY_ID, CONTEXT_WORKSPACES

HEALTH_PATH = f"{API_PREFIX}/health"
# Resources API Gateway serves without the authorizer (template.yaml: Auth Authorizer NONE).
PUBLIC_RESOURCES = frozenset({HEALTH_PATH})
# OTLP/HTTP receivers: protobuf or JSON, maybe gzip; the function decodes them and checks the
# workspaces they name (header or resource attribute) itself (swarm_learning.api.otlp).
WORKSPACE_HEADER = "x-workspace-id"
OTLP_RESOURCES = frozenset({f"{API_PREFIX}/otlp/v1/traces", f"{API_PREFIX}/otlp/v1/logs"})

_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)
MAX_BODY_BYTES = 512 * 1024
MAX_BODY_DEPTH = 32  # the models bound free-form objects more tightly (MAX_JSON_DEPTH)


def allowed_workspaces(event: Mapping[str, Any]) -> frozenset[str] | None:
    """The workspaces the caller's key allows, or None when the request carries no caller (it did
    not come through the authorizer)."""
    context = (event.get("requestContext") or {}).get("authorizer") or {}
    workspaces = context.get(CONTEXT_WORKSPACES)
    if not isinstance(workspaces, str) or not context.get(CONTEXT_KEY_ID):
        return None
    return frozenset(w for w in workspaces.split(",") if w)


def refusal(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """The API Gateway proxy answer refusing this request, or None to let the route run."""
    if event.get("resource") in PUBLIC_RESOURCES:
        return None
    allowed = allowed_workspaces(event)
    if allowed is None:
        return _answer(
            event, 401, "unauthorized", "no authenticated caller; send Authorization: Bearer <api key>"
        )
    logger.append_keys(key_id=event["requestContext"]["authorizer"][CONTEXT_KEY_ID])

    body: Any = None
    raw = _raw_body(event)
    if event.get("resource") in OTLP_RESOURCES:
        if raw is not None and len(raw) > MAX_BODY_BYTES:
            return _answer(
                event, 413, "payload_too_large", f"request body is over {MAX_BODY_BYTES} bytes", field="body"
            )
        header = next(
            (v for k, v in (event.get("headers") or {}).items() if k.lower() == WORKSPACE_HEADER), None
        )
        workspace = header.strip() if isinstance(header, str) else ""
        # A malformed id is the function's 400 (naming it), not a question of access.
        if workspace and workspace not in allowed and _IDENTIFIER.fullmatch(workspace):
            return _answer(
                event,
                403,
                "workspace_forbidden",
                "this API key may not use that workspace",
                field="workspace_id",
            )
        return None
    if raw is not None:
        if not _is_json(event):
            return _answer(
                event,
                415,
                "unsupported_media_type",
                "send the body as application/json",
                field="Content-Type",
            )
        if len(raw) > MAX_BODY_BYTES:
            return _answer(
                event, 413, "payload_too_large", f"request body is over {MAX_BODY_BYTES} bytes", field="body"
            )
        try:
            body = json.loads(raw)
        except RecursionError:
            return _too_deep(event)
        except ValueError:
            body = None  # the resolver answers malformed JSON with its field-level 400
        if json_depth(body) > MAX_BODY_DEPTH:
            return _too_deep(event)

    named = _named_workspaces(event, body)
    for workspace in named:
        # A malformed id is the resolver's 422 (naming the field), not a question of access.
        if workspace not in allowed and _IDENTIFIER.fullmatch(workspace):
            return _answer(
                event,
                403,
                "workspace_forbidden",
                "this API key may not use that workspace",
                field="workspace_id",
            )
    if len(set(named)) == 1:
        # The audit trail names the tenant on every line of the request (the handler's
        # inject_lambda_context(clear_state=True) drops it before the next invocation).
        logger.append_keys(workspace_id=named[0])
    return None


def _raw_body(event: Mapping[str, Any]) -> bytes | None:
    body = event.get("body")
    if not body:
        return None
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return body.encode()
    return body.encode() if isinstance(body, str) else None


def _is_json(event: Mapping[str, Any]) -> bool:
    """No Content-Type is taken as JSON; otherwise it must be application/json (or +json)."""
    headers = event.get("headers") or {}
    value = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
    if not value:
        return True
    media_type = value.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _named_workspaces(event: Mapping[str, Any], body: Any) -> list[str]:
    named = list((event.get("multiValueQueryStringParameters") or {}).get("workspace_id") or [])
    single = (event.get("queryStringParameters") or {}).get("workspace_id")
    if single is not None:
        named.append(single)
    if isinstance(body, dict) and isinstance(body.get("workspace_id"), str):
        named.append(body["workspace_id"])
    return named


def _too_deep(event: Mapping[str, Any]) -> dict[str, Any]:
    return _answer(
        event,
        400,
        "too_deeply_nested",
        f"request body nests deeper than {MAX_BODY_DEPTH} levels",
        field="body",
    )


def _answer(
    event: Mapping[str, Any], status: int, error: str, message: str, *, field: str | None = None
) -> dict[str, Any]:
    logger.info(
        "request refused", extra={"status": status, "error": error, "resource": event.get("resource")}
    )
    body = ErrorResponse(
        error=error,
        message=message,
        details=[ErrorDetail(field=field, message=message)] if field else [],
        request_id=(event.get("requestContext") or {}).get("requestId"),
    )
    headers = {"Content-Type": "application/json"}
    cors = cors_config()
    if cors is not None:  # so the dashboard can read why it was refused
        origin = next((v for k, v in (event.get("headers") or {}).items() if k.lower() == "origin"), None)
        headers.update(cors.to_dict(origin))
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="swarm-learning"'
    return {
        "statusCode": status,
        "headers": headers,
        "body": body.model_dump_json(),
        "isBase64Encoded": False,
    }
