"""Request and response models of tracking a recommendation."""

from __future__ import annotations

from datetime import datetime

from pydantic import (
    Field,
)

from swarm_learning.models.common import (
    MAX_AGENT_NAME_LENGTH,
    MAX_LATENCY_MS,
    MAX_REASONING_CHARS,
    MAX_TOKENS,
    CorrelationId,
    DecisionId,
    Identifier,
    JsonObject,
    Probability,
    RecommendationId,
    Slug,
    Vocabulary,
    _Request,
    _Response,
)
from swarm_learning.vocabulary import (
    ExecutionStatus,
    RecommendationStatus,
)


# ---- tracking ---------------------------------------------------------------------------------
class TrackRecommendationRequest(_Request):
    workspace_id: Identifier
    agent_id: Identifier
    agent_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_AGENT_NAME_LENGTH,
        description=(
            "The agent's display name. Given, it names (or renames) the agent; left out, the "
            "name already known is kept (a new agent is named by its agent_id until one is given)."
        ),
    )
    correlation_id: CorrelationId | None = None
    workflow_id: Identifier | None = None
    recommendation_type: Slug = Field(description="Open vocabulary, e.g. strategy, content.")
    recommendation_content: JsonObject
    confidence_score: Probability | None = Field(
        default=None,
        description="The agent's stated confidence; without one the recommendation is not calibrated.",
    )
    reasoning: str = Field(default="", max_length=MAX_REASONING_CHARS)
    evidence: JsonObject = Field(default_factory=dict)
    execution_status: Vocabulary[ExecutionStatus] = ExecutionStatus.COMPLETED
    latency_ms: float | None = Field(
        default=None,
        ge=0,
        le=MAX_LATENCY_MS,
        allow_inf_nan=False,
        description="How long the agent took to produce the recommendation.",
    )
    input_tokens: int | None = Field(
        default=None, ge=0, le=MAX_TOKENS, description="Model input tokens the agent's run used."
    )
    output_tokens: int | None = Field(
        default=None, ge=0, le=MAX_TOKENS, description="Model output tokens the agent's run used."
    )
    recommendation_id: RecommendationId | None = Field(
        default=None,
        description=(
            "Minted by the client (`rec_` + ULID) so tracking never waits for an answer. Its "
            "timestamp must be within the allowed skew of the server's clock; it is unique in the "
            "workspace: the same id with the same body returns the stored answer (200, nothing "
            "written), with a different body 409. Minted by the server when absent."
        ),
    )
    decision_id: DecisionId | None = Field(
        default=None, description="The routing decision (POST /routing/select) that chose this agent."
    )
    selection_probability: Probability | None = Field(
        default=None, description="The probability that decision gave this agent (its `probability`)."
    )


class TrackRecommendationResponse(_Response):
    recommendation_id: str
    workspace_id: str
    agent_id: str
    status: RecommendationStatus
    created_at: datetime
    replayed: bool = Field(
        default=False, description="True when the id was already tracked with this body; nothing was written."
    )
    warning: str | None = Field(
        default=None,
        description=(
            "Set when the workspace had never seen this recommendation_type (a typo creates a new "
            "type for good): tracked anyway. A workspace's allowed_recommendation_types "
            "(PUT /workspace-settings) refuses unknown types instead (422)."
        ),
    )
