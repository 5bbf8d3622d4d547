"""Call the API as a client would: through the local API Gateway, the authorizer and the handlers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from localdev import runtime

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
WORKSPACE = "ws_test"
# The workspaces the default test key may use; others answer 403 (tests/integration/test_isolation.py).
TEST_WORKSPACES = (WORKSPACE, "ws_other", "ws_empty", "ws_learn")


def issue_key(workspaces: tuple[str, ...] = TEST_WORKSPACES, name: str = "tests") -> str:
    """A new API key (the token) allowed to use ``workspaces``, as the admin command issues it."""
    from swarm_learning.services.keys.service import KeyRequest, get_key_service

    return get_key_service().issue(KeyRequest(name=name, workspaces=list(workspaces))).api_key


def recommendation(**overrides: Any) -> dict[str, Any]:
    """A track request's body."""
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


def evaluation(recommendation_id: str, **overrides: Any) -> dict[str, Any]:
    """An evaluate request's body."""
    return {
        "workspace_id": WORKSPACE,
        "recommendation_id": recommendation_id,
        "quality_scores": {"accuracy": 90, "relevance": 85},
        "overall_quality_score": 87.5,
        "evaluator_feedback": "Excellent recommendation",
        **overrides,
    }


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
        return self.call(
            "POST", "/api/v1/learning/outcomes/evaluate", body=evaluation(recommendation_id, **overrides)
        )
