"""Shared fixtures. The environment is configured before any handler or client exists, and
every test runs against a fresh moto DynamoDB built from template.yaml."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localdev import runtime

# Before anything imports a handler: environment from the template, fake credentials.
TEMPLATE = runtime.configure_environment()
ROOT = Path(__file__).resolve().parent.parent
EVENTS_DIR = ROOT / "events"
WORKSPACE = "ws_test"


@pytest.fixture
def functions() -> Iterator[runtime.LocalFunctions]:
    with runtime.embedded_aws() as loaded:
        yield loaded


class Api:
    """Calls the real handlers with API Gateway events, as the deployed API would."""

    def __init__(self, functions: runtime.LocalFunctions) -> None:
        self.functions = functions

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        raw_body: str | None = None,
    ) -> tuple[int, Any]:
        found = self.functions.api_event(
            method,
            path,
            query={k: [str(v)] for k, v in (query or {}).items() if v is not None},
            headers={"Content-Type": "application/json", **(headers or {})},
            body=raw_body if raw_body is not None else (json.dumps(body) if body is not None else None),
        )
        assert found, f"no route for {method} {path}"
        spec, event = found
        response = self.functions.invoke(spec.logical_id, event)
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
