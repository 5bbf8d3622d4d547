"""The API as the benchmark calls it (through the local API Gateway) and the DynamoDB traffic each call sends."""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.handlers import BUILTIN_HANDLERS

from bench.report import ROOT
from localdev import runtime
from localdev.lambda_context import LocalLambdaContext

LAYER = ROOT / "layers" / "learning"


PREFIX = "/api/v1/learning"


TRACK_PATH = f"{PREFIX}/recommendations/track"


EVALUATE_PATH = f"{PREFIX}/outcomes/evaluate"


WORKSPACE = "ws_bench"


AGENT = "STRAT-01"


IDEMPOTENCY_KEY = "bench-key-0001"


# The request bodies of tests/conftest.py: the seed's example recommendation and evaluation.
TRACK_BODY: dict[str, Any] = {
    "workspace_id": WORKSPACE,
    "agent_id": AGENT,
    "agent_name": "MoveArchitect",
    "correlation_id": "workflow_456",
    "workflow_id": "move_123",
    "recommendation_type": "strategy",
    "recommendation_content": {"channels": ["linkedin"]},
    "confidence_score": 0.85,
    "reasoning": "Based on cohort analysis",
    "evidence": {"source": "psychographics_analysis"},
}


SCORES: dict[str, Any] = {
    "quality_scores": {"accuracy": 90.0, "relevance": 85.0},
    "overall_quality_score": 87.5,
    "evaluator_feedback": "Excellent recommendation",
}


TARGET_TRACK_RATIO = 1.3


TARGET_EVALUATE_RATIO = 1.5


TARGET_ROUND_TRIPS = 2


TARGET_IMPORT_RATIO = 2.0


class BenchmarkError(RuntimeError):
    """The benchmark could not measure what it claims to (an unexpected answer or request)."""


class DynamoDBTraffic:
    """Every DynamoDB request any client sends, retries included.

    The hooks go into botocore's built-in handlers, which every new botocore session registers:
    the store's client (boto3's default session), the idempotency layer's own session and client,
    and the raw client alike. ``before-send`` fires once per HTTP attempt, i.e. per round trip.
    """

    def __init__(self) -> None:
        self.operations: list[str] = []
        self.seen: Counter[str] = Counter()
        self._params: list[tuple[str, dict[str, Any]]] | None = None

    def install(self) -> None:
        if boto3.DEFAULT_SESSION is not None:
            raise BenchmarkError("install the request counter before any boto3 session exists")
        BUILTIN_HANDLERS.insert(0, ("before-send.dynamodb", self._on_send))
        BUILTIN_HANDLERS.insert(0, ("provide-client-params.dynamodb", self._on_params))

    def _on_send(self, event_name: str, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        self.operations.append(operation)
        self.seen[operation] += 1

    def _on_params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if self._params is not None:
            self._params.append((model.name, copy.deepcopy(params)))

    @contextmanager
    def requests(self) -> Iterator[list[str]]:
        """The operation names of the requests sent inside the block."""
        self.operations = []
        yield self.operations

    @contextmanager
    def parameters(self) -> Iterator[list[tuple[str, dict[str, Any]]]]:
        """The operation name and parameters of every call made inside the block."""
        self._params = []
        try:
            yield self._params
        finally:
            self._params = None


# Parameters whose values are structure, not data: two paths making "the same requests" agree on
# them exactly. Everything else is compared by type (``{"S": "str"}``), which keeps attribute names
# and DynamoDB types but ignores ids and timestamps.
_STRUCTURAL = frozenset(
    {
        "TableName",
        "IndexName",
        "UpdateExpression",
        "ConditionExpression",
        "KeyConditionExpression",
        "FilterExpression",
        "ExpressionAttributeNames",
        "ReturnValuesOnConditionCheckFailure",
        "ScanIndexForward",
        "ConsistentRead",
        "Limit",
    }
)


def request_shape(value: Any, key: str | None = None) -> Any:
    if key in _STRUCTURAL:
        return value
    if isinstance(value, dict):
        return {k: request_shape(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [request_shape(v) for v in value]
    return type(value).__name__


@dataclass(frozen=True)
class Invocation:
    """One prepared handler call: the API Gateway event and a fresh Lambda context."""

    handler: Callable[[dict[str, Any], Any], dict[str, Any]]
    event: dict[str, Any]
    context: LocalLambdaContext

    def __call__(self) -> dict[str, Any]:
        return self.handler(self.event, self.context)


class Api:
    """Builds the events the deployed API would send to each function."""

    def __init__(self, functions: runtime.LocalFunctions) -> None:
        self._functions = functions

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Invocation:
        found = self._functions.api_event(
            method,
            path,
            query={k: [v] for k, v in (query or {}).items()},
            headers={"Content-Type": "application/json", **(headers or {})},
            body=json.dumps(body) if body is not None else None,
            # What API Gateway hands on after the authorizer allowed the key (its decision is
            # cached, so the authorizer is not part of a request's latency); the handler's own
            # access check (caller, body limits, workspace) is measured.
            authorizer={"principalId": "bench", "key_id": "bench", "workspaces": WORKSPACE},
        )
        if found is None:
            raise BenchmarkError(f"no route for {method} {path}")
        spec, event = found
        context = LocalLambdaContext(function_name=spec.logical_id)
        return Invocation(self._functions.handler(spec.logical_id), event, context)


def expect(response: dict[str, Any], status: int) -> Any:
    if response["statusCode"] != status:
        raise BenchmarkError(f"expected {status}, got {response['statusCode']}: {response['body']}")
    return json.loads(response["body"]) if response["body"] else None


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
