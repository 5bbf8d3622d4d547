"""Shared fixtures. The environment is configured before any handler or client exists, and
every test runs against a fresh moto DynamoDB built from template.yaml."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from localdev import runtime

# Before anything imports a handler: environment from the template, fake credentials.
TEMPLATE = runtime.configure_environment()
from swarm_learning import clock  # noqa: E402 - after the environment is configured

ROOT = Path(__file__).resolve().parent.parent
EVENTS_DIR = ROOT / "events"
WORKSPACE = "ws_test"
# The workspaces the default test key may use; others answer 403 (tests/integration/test_isolation.py).
TEST_WORKSPACES = (WORKSPACE, "ws_other", "ws_empty", "ws_learn")


# Every test module starts at this instant, on a clock that steps 1 ms per reading (ids keep their
# order) and never goes back within the module (a module may share one store between its tests):
# what a test asserts about days, windows and expiry holds whatever the calendar says.
FIXED_NOW = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)


@pytest.fixture(scope="module", autouse=True)
def fixed_clock() -> Iterator[clock.SteppingClock]:
    with clock.installed(clock.SteppingClock(FIXED_NOW)) as installed:
        yield installed  # type: ignore[misc]


@pytest.fixture
def functions() -> Iterator[runtime.LocalFunctions]:
    with runtime.embedded_aws() as loaded:
        yield loaded


def issue_key(workspaces: tuple[str, ...] = TEST_WORKSPACES, name: str = "tests") -> str:
    """A new API key (the token) allowed to use ``workspaces``, as the admin command issues it."""
    from swarm_learning.apikeys import KeyRequest, get_key_service

    return get_key_service().issue(KeyRequest(name=name, workspaces=list(workspaces))).api_key


class Api:
    """Calls the real handlers through the local API Gateway (authorizer included) with an API
    key, as the deployed API would be called."""

    def __init__(self, functions: runtime.LocalFunctions, api_key: str | None = None) -> None:
        self.functions = functions
        self.api_key = api_key or issue_key()

    def as_key(self, api_key: str) -> Api:
        """The same API, called with another key."""
        return Api(self.functions, api_key)

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        raw_body: str | None = None,
        authenticated: bool = True,
    ) -> tuple[int, Any]:
        authorization = {"Authorization": f"Bearer {self.api_key}"} if authenticated else {}
        response = self.functions.gateway.request(
            method,
            path,
            query={k: [str(v)] for k, v in (query or {}).items() if v is not None},
            headers={"Content-Type": "application/json", **authorization, **(headers or {})},
            body=raw_body if raw_body is not None else (json.dumps(body) if body is not None else None),
        )
        return response["statusCode"], json.loads(response["body"]) if response["body"] else None

    # conveniences used across tests
    def track(self, **overrides: Any) -> dict[str, Any]:
        status, body = self.call(
            "POST", "/api/v1/learning/recommendations/track", body=recommendation(**overrides)
        )
        assert status == 201, body
        return body

    def evaluate(self, recommendation_id: str, **overrides: Any) -> tuple[int, Any]:
        payload = {
            "workspace_id": WORKSPACE,
            "recommendation_id": recommendation_id,
            "quality_scores": {"accuracy": 90, "relevance": 85},
            "overall_quality_score": 87.5,
            "evaluator_feedback": "Excellent recommendation",
            **overrides,
        }
        return self.call("POST", "/api/v1/learning/outcomes/evaluate", body=payload)


def store_snapshot() -> dict[str, list[str]]:
    """Every item of every table of the template, canonically ordered: compare two to prove that
    a request changed nothing."""
    import boto3

    client = boto3.client("dynamodb", region_name=runtime.REGION)
    snapshot = {}
    for table in client.list_tables()["TableNames"]:
        items = [
            json.dumps(item, sort_keys=True, default=repr)  # binary attributes are bytes
            for page in client.get_paginator("scan").paginate(TableName=table)
            for item in page["Items"]
        ]
        snapshot[table] = sorted(items)
    return snapshot


def recommendation(**overrides: Any) -> dict[str, Any]:
    return {
        "workspace_id": WORKSPACE,
        "agent_id": "STRAT-01",
        "agent_name": "MoveArchitect",
        "correlation_id": "workflow_456",
        "workflow_id": "move_123",
        "recommendation_type": "strategy",
        "recommendation_content": {"channels": ["linkedin"]},
        "confidence_score": 0.85,
        "reasoning": "Based on cohort analysis",
        "evidence": {"source": "psychographics_analysis"},
        **overrides,
    }


@pytest.fixture
def api(functions: runtime.LocalFunctions) -> Api:
    return Api(functions)
