"""Recommendations and outcomes written into the embedded store, for tests whose subject is what
is learned from them (trust, routing, the learning cycle).

They go through the layer's tracker, the code the track and evaluate handlers call, with the same
request bodies, not over HTTP: the HTTP path of tracking and evaluating has its own tests
(``test_tracking_api.py``, ``test_evaluation_api.py``), and this is several times faster. Needs an
embedded AWS (the ``functions`` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from localdev.planted import PLANTED, PlantedPattern, planted_workflows
from swarm_learning.models.evaluation import EvaluateOutcomeRequest
from swarm_learning.models.tracking import TrackRecommendationRequest
from swarm_learning.services.tracking.tracker import get_tracker
from tests.helpers.api import WORKSPACE, evaluation, recommendation

START = datetime(2026, 11, 1, tzinfo=UTC)


def track_and_evaluate(tracked: dict[str, Any], evaluated: dict[str, Any]) -> str:
    """Track a recommendation (``recommendation(**tracked)``), then evaluate it
    (``evaluation(id, **evaluated)``); returns its id."""
    tracker = get_tracker()
    recommendation_id = tracker.track(
        TrackRecommendationRequest.model_validate(recommendation(**tracked))
    ).recommendation_id
    tracker.evaluate(EvaluateOutcomeRequest.model_validate(evaluation(recommendation_id, **evaluated)))
    return recommendation_id


def record_outcomes(
    agent: str, approvals: int, rejections: int, rtype: str = "strategy", workspace: str = WORKSPACE
) -> None:
    """``approvals`` recommendations of ``agent`` scored 90, then ``rejections`` scored 15."""
    for quality in [90] * approvals + [15] * rejections:
        track_and_evaluate(
            {
                "workspace_id": workspace,
                "agent_id": agent,
                "agent_name": f"Agent {agent}",
                "recommendation_type": rtype,
            },
            {"workspace_id": workspace, "overall_quality_score": quality},
        )


def seed(
    workflows: int,
    *,
    workspace: str = "ws_learn",
    seed: int = 7,
    planted: tuple[PlantedPattern, ...] = PLANTED,
) -> int:
    """Track and evaluate a planted swarm (``localdev.planted``, its ``planted`` patterns); returns
    how many were evaluated. The planted recommendation sets the fields the features are computed
    from; the rest is ``recommendation()``'s."""
    evaluated = 0
    for workflow in planted_workflows(workflows, seed=seed, start=START, planted=planted):
        for planted_recommendation in workflow:
            track_and_evaluate(
                {
                    "workspace_id": workspace,
                    "agent_name": planted_recommendation.agent_id.title(),
                    **planted_recommendation.track_fields(),
                },
                {
                    "workspace_id": workspace,
                    "overall_quality_score": 85.0 if planted_recommendation.approved else 20.0,
                    "outcome": "approved" if planted_recommendation.approved else "rejected",
                },
            )
            evaluated += 1
    return evaluated
