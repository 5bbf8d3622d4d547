"""Response models of the read endpoints: recommendations, statistics, health and errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import (
    Field,
)

from swarm_learning.models.common import _Response
from swarm_learning.models.evaluation import OutcomeRecord
from swarm_learning.vocabulary import (
    ExecutionStatus,
    RecommendationStatus,
)


# ---- reading ----------------------------------------------------------------------------------
class Recommendation(_Response):
    recommendation_id: str
    workspace_id: str
    agent_id: str
    agent_name: str | None = Field(description="The name the track gave; null when it named none.")
    correlation_id: str | None
    workflow_id: str | None
    recommendation_type: str
    recommendation_content: dict[str, Any]
    confidence_score: float | None = Field(description="Null when the agent stated no confidence.")
    reasoning: str
    evidence: dict[str, Any]
    execution_status: ExecutionStatus
    latency_ms: float | None
    input_tokens: int | None = None
    output_tokens: int | None = None
    status: RecommendationStatus
    created_at: datetime
    decision_id: str | None = None
    selection_probability: float | None = None
    evaluated_at: datetime | None = None
    overall_quality_score: float | None = None
    outcome: OutcomeRecord | None = None


class RecommendationPage(_Response):
    items: list[Recommendation]
    count: int
    next_token: str | None


class OutcomeCounts(_Response):
    tracked: int = 0
    pending: int = 0
    evaluated: int = 0
    approved: int = 0
    rejected: int = 0
    partial: int = 0
    failed_executions: int = 0
    timed_out_executions: int = 0


class PerformanceSummary(_Response):
    counts: OutcomeCounts
    approval_rate: float | None = Field(description="(approved + partial/2) / evaluated")
    strict_approval_rate: float | None = Field(description="approved / evaluated")
    avg_quality_score: float | None
    quality_stddev: float | None
    avg_confidence: float | None = Field(description="Over the evaluations that stated a confidence.")
    brier_score: float | None = Field(
        description="mean (confidence - success)^2, over the evaluations that stated a confidence"
    )
    avg_latency_ms: float | None
    avg_evaluation_delay_seconds: float | None
    input_tokens: int = Field(default=0, description="Model input tokens reported with the tracks.")
    output_tokens: int = Field(default=0, description="Model output tokens reported with the tracks.")
    avg_tokens: float | None = Field(
        default=None, description="Input + output tokens per recommendation that reported usage."
    )


class StatsWindow(_Response):
    since: datetime
    until: datetime


class AgentStats(_Response):
    workspace_id: str
    agent_id: str
    agent_name: str
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    window: StatsWindow
    overall: PerformanceSummary
    by_type: dict[str, PerformanceSummary]


class WorkspaceStats(_Response):
    workspace_id: str
    agents: int
    window: StatsWindow
    overall: PerformanceSummary
    by_type: dict[str, PerformanceSummary]


class ErrorDetail(_Response):
    field: str | None = None
    message: str
    type: str | None = None


class HealthResponse(_Response):
    status: str = Field(description="`ok` when the function answers.")
    version: str


class ErrorResponse(_Response):
    error: str
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)
    request_id: str | None = None
