"""API Gateway in front of the functions, locally, as template.yaml configures it: route matching,
the Lambda authorizer with its per-key decision cache, the gateway responses, then the function."""

from __future__ import annotations

import base64
import fnmatch
import json
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from localdev import template as tpl
from localdev.apigw import authorizer_request_event

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit


class LocalGateway:
    """``request()`` answers what the deployed API would answer, through the same handlers."""

    def __init__(
        self, functions: Any, auth: tpl.ApiAuth, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.functions = functions
        self.auth = auth
        self.clock = clock
        # Authorization header value -> (valid until, the allowed request context or None for Deny)
        self._decisions: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self.authorizer_calls = 0

    def forget_decisions(self) -> None:
        """Empty the authorizer cache (as redeploying the stage, or waiting out its TTL, does)."""
        self._decisions.clear()

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        body: str | bytes | None = None,
        source_ip: str = "127.0.0.1",
    ) -> dict[str, Any]:
        """The API Gateway proxy response to one request. A ``bytes`` body is passed as API Gateway
        passes it: base64-encoded when its Content-Type is one of the API's BinaryMediaTypes (or
        it is gzip-encoded, which the deployed API would inflate before the function), else as
        UTF-8 text."""
        headers = dict(headers or {})
        size = len(body) if isinstance(body, bytes) else len(body.encode()) if body is not None else 0
        if size > MAX_PAYLOAD_BYTES:
            return self.gateway_response("REQUEST_TOO_LARGE", method, path)
        binary = False
        if isinstance(body, bytes):
            binary = self._is_binary(headers)
            body = base64.b64encode(body).decode() if binary else body.decode("utf-8", errors="replace")
        found = self.functions.route(method, path)
        if found is None:
            allowed = self.functions.allowed_methods(path)
            if allowed:
                return method_not_allowed(method, path, allowed)
            return self.gateway_response("MISSING_AUTHENTICATION_TOKEN", method, path)
        spec, route, _ = found
        authorizer: dict[str, Any] | None = None
        if not route.public:
            identity = _header(headers, self.auth.identity_header)
            if not identity:
                return self.gateway_response("UNAUTHORIZED", method, path)
            authorizer = self._authorize(identity, method, path, route.path, headers)
            if authorizer is None:
                return self.gateway_response("ACCESS_DENIED", method, path)
        event = self.functions.route_event(
            found,
            method,
            path,
            query=query,
            headers=headers,
            body=body,
            source_ip=source_ip,
            authorizer=authorizer,
        )
        event["isBase64Encoded"] = binary
        result: dict[str, Any] = self.functions.invoke(spec.logical_id, event)
        return result

    def _is_binary(self, headers: Mapping[str, str]) -> bool:
        media_type = (_header(headers, "Content-Type") or "").split(";", 1)[0].strip().lower()
        encoding = (_header(headers, "Content-Encoding") or "").strip().lower()
        return encoding == "gzip" or any(
            fnmatch.fnmatchcase(media_type, pattern.replace("~1", "/").lower())
            for pattern in self.auth.binary_media_types
        )

    def _authorize(
        self, identity: str, method: str, path: str, resource: str, headers: Mapping[str, str]
    ) -> dict[str, Any] | None:
        now = self.clock()
        cached = self._decisions.get(identity)
        if cached is not None and cached[0] > now:
            return cached[1]
        self.authorizer_calls += 1
        answer = self.functions.invoke(
            self.auth.authorizer_function,
            authorizer_request_event(method=method, path=path, resource=resource, headers=headers),
        )
        effects = {statement["Effect"] for statement in answer["policyDocument"]["Statement"]}
        decision = (
            {**answer.get("context", {}), "principalId": answer["principalId"]}
            if effects == {"Allow"}
            else None
        )
        if self.auth.cache_seconds:
            self._decisions[identity] = (now + self.auth.cache_seconds, decision)
        return decision

    def gateway_response(self, kind: str, method: str, path: str) -> dict[str, Any]:
        """One of the template's GatewayResponses, rendered as API Gateway renders it."""
        configured = self.auth.gateway_responses[kind]
        context = {
            "$context.requestId": str(uuid.uuid4()),
            "$context.httpMethod": method.upper(),
            "$context.path": path,
            "$context.error.messageString": kind,
        }
        body = configured["ResponseTemplates"]["application/json"]
        for variable, value in context.items():
            body = body.replace(variable, json.dumps(value)[1:-1])
        headers = {"Content-Type": "application/json"}
        for name, value in configured.get("ResponseParameters", {}).get("Headers", {}).items():
            # Static values are quoted in the template. The dashboard's CORS origin is an intrinsic,
            # resolved only when deployed: locally the dashboard shares the API's origin.
            if isinstance(value, str):
                headers[name] = value.strip("'")
        return {"statusCode": int(configured["StatusCode"]), "headers": headers, "body": body}


def method_not_allowed(method: str, path: str, allowed: list[str]) -> dict[str, Any]:
    """405 for a known path asked with a method it does not serve, naming those it does."""
    body = {
        "error": "method_not_allowed",
        "message": f"{method.upper()} is not allowed on {path}; use {', '.join(allowed)}",
        "details": [],
        "request_id": str(uuid.uuid4()),
    }
    headers = {"Content-Type": "application/json", "Allow": ", ".join(allowed)}
    return {"statusCode": 405, "headers": headers, "body": json.dumps(body)}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)
