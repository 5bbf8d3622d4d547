"""The learning API's paths and a planted swarm seeded into the store.

Seeding goes through the layer's tracker, the code the track and evaluate handlers call, not over
HTTP: the learning tests are about the cycle, and the HTTP path of tracking and evaluating has its
own tests (``test_tracking_api.py``, ``test_evaluation_api.py``). It is also ~5x faster."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from localdev.planted import planted_workflows
from swarm_learning.models import EvaluateOutcomeRequest, TrackRecommendationRequest
from swarm_learning.tracking import get_tracker
from tests.helpers.api import Api, evaluation, recommendation

PREFIX = "/api/v1/learning"
WS = "ws_learn"
START = datetime(2026, 11, 1, tzinfo=UTC)


def seed(workflows: int, *, workspace: str = WS, seed: int = 7) -> int:
    """Track and evaluate a planted swarm, as the API's clients would; returns how many were
    evaluated. Needs an embedded AWS (the ``functions`` fixture)."""
    tracker = get_tracker()
    evaluated = 0
    for workflow in planted_workflows(workflows, seed=seed, start=START):
        for planted in workflow:
            tracked = tracker.track(
                TrackRecommendationRequest.model_validate(
                    recommendation(
                        workspace_id=workspace,
                        agent_id=planted.agent_id,
                        agent_name=planted.agent_id.title(),
                        workflow_id=planted.workflow_id,
                        correlation_id=planted.workflow_id,
                        recommendation_type=planted.recommendation_type,
                        recommendation_content=planted.content,
                        confidence_score=planted.confidence_score,
                    )
                )
            )
            tracker.evaluate(
                EvaluateOutcomeRequest.model_validate(
                    evaluation(
                        tracked.recommendation_id,
                        workspace_id=workspace,
                        overall_quality_score=85.0 if planted.approved else 20.0,
                        outcome="approved" if planted.approved else "rejected",
                    )
                )
            )
            evaluated += 1
    return evaluated


def trigger(api: Api, workspace: str = WS, **body: Any) -> tuple[int, Any]:
    return api.call("POST", f"{PREFIX}/learning-cycles/trigger", body={"workspace_id": workspace, **body})


def get(api: Api, path: str, **query: Any) -> tuple[int, Any]:
    return api.call("GET", f"{PREFIX}{path}", query={"workspace_id": WS, **query})
