"""Build the API Gateway REST (v1 proxy) event that the deployed API would send."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def rest_event(
    *,
    method: str,
    path: str,
    resource: str,
    path_parameters: Mapping[str, str] | None = None,
    query: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    body: str | None = None,
    stage: str = "prod",
    source_ip: str = "127.0.0.1",
    authorizer: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The event of a request; ``authorizer`` is what the authorizer allowed it with (its context
    and principalId), absent on routes without one."""
    headers = dict(headers or {})
    query = dict(query or {})
    now = datetime.now(UTC)
    request_id = str(uuid.uuid4())
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method.upper(),
        "headers": headers or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": resource,
            "httpMethod": method.upper(),
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{stage}{path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": "localhost",
            "requestTimeEpoch": int(time.time() * 1000),
            "requestId": request_id,
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
            "domainName": "localhost",
            "apiId": "local",
            **({"authorizer": dict(authorizer)} if authorizer is not None else {}),
        },
        "body": body,
        "isBase64Encoded": False,
    }


def authorizer_request_event(
    *, method: str, path: str, resource: str, headers: Mapping[str, str], stage: str = "prod"
) -> dict[str, Any]:
    """The event a REQUEST authorizer receives (REST API)."""
    event = rest_event(method=method, path=path, resource=resource, headers=headers, stage=stage)
    for key in ("body", "isBase64Encoded"):
        event.pop(key)
    method_arn = f"arn:aws:execute-api:us-east-1:123456789012:local/{stage}/{method.upper()}{path}"
    return {"type": "REQUEST", "methodArn": method_arn, **event}
