"""Request and response models of evaluating outcomes, one recommendation or a whole workflow."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
)

from swarm_learning.models.common import (
    MAX_ALTERNATIVE_DESCRIPTION_CHARS,
    MAX_ALTERNATIVES,
    MAX_FEEDBACK_CHARS,
    MAX_QUALITY_DIMENSIONS,
    MAX_WORKFLOW_RECOMMENDATIONS,
    Identifier,
    OutcomeId,
    RecommendationId,
    Score100,
    Slug,
    Vocabulary,
    _Request,
    _Response,
)
from swarm_learning.vocabulary import (
    Outcome,
    RecommendationStatus,
)


# ---- evaluation -------------------------------------------------------------------------------
class Alternative(_Request):
    recommendation_id: RecommendationId | None = None
    description: str = Field(default="", max_length=MAX_ALTERNATIVE_DESCRIPTION_CHARS)
    quality_score: Score100 | None = None


class _Scoring(_Request):
    quality_scores: dict[Slug, Score100] = Field(default_factory=dict, max_length=MAX_QUALITY_DIMENSIONS)
    overall_quality_score: Score100
    evaluator_feedback: str = Field(default="", max_length=MAX_FEEDBACK_CHARS)
    outcome: Vocabulary[Outcome] | None = Field(
        default=None, description="Derived from overall_quality_score when absent."
    )


class EvaluateOutcomeRequest(_Scoring):
    workspace_id: Identifier
    recommendation_id: RecommendationId
    alternatives: list[Alternative] = Field(default_factory=list, max_length=MAX_ALTERNATIVES)
    comparative_rank: int | None = Field(default=None, ge=1, description="1 = better than every alternative.")
    evaluator_id: Identifier | None = None
    outcome_id: OutcomeId | None = Field(
        default=None,
        description=(
            "Minted by the client (`out_` + ULID) to make the evaluation retry-safe: evaluating "
            "again with the same id and body returns the stored answer; anything else is a 409."
        ),
    )

    # Cross-field checks are field validators (on the later field), so an error names its field.
    @field_validator("comparative_rank")
    @classmethod
    def _rank_within_alternatives(cls, rank: int | None, info: ValidationInfo) -> int | None:
        alternatives = info.data.get("alternatives")
        if rank is not None and alternatives is not None and rank > len(alternatives) + 1:
            raise ValueError("comparative_rank cannot exceed the number of alternatives + 1")
        return rank


class OutcomeRecord(_Response):
    outcome_id: str
    recommendation_id: str
    outcome: Outcome
    quality_scores: dict[str, float]
    overall_quality_score: float
    evaluator_feedback: str
    alternatives: list[Alternative]
    comparative_rank: int | None
    evaluator_id: str | None
    evaluated_at: datetime


class EvaluateOutcomeResponse(_Response):
    outcome_id: str
    recommendation_id: str
    workspace_id: str
    agent_id: str
    outcome: Outcome
    status: RecommendationStatus
    overall_quality_score: float
    evaluated_at: datetime
    replayed: bool = Field(
        default=False,
        description="True when this outcome_id was already stored with this body; nothing was written.",
    )


class ScoreOverride(_Request):
    quality_scores: dict[Slug, Score100] | None = Field(default=None, max_length=MAX_QUALITY_DIMENSIONS)
    overall_quality_score: Score100 | None = None
    evaluator_feedback: str | None = Field(default=None, max_length=MAX_FEEDBACK_CHARS)
    outcome: Vocabulary[Outcome] | None = None


class EvaluateWorkflowRequest(_Request):
    workspace_id: Identifier
    workflow_id: Identifier
    recommendations: list[RecommendationId] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_WORKFLOW_RECOMMENDATIONS,
        description="Defaults to every recommendation tracked for the workflow.",
    )
    quality_scores: dict[Slug, Score100] = Field(default_factory=dict, max_length=MAX_QUALITY_DIMENSIONS)
    overall_quality_score: Score100
    feedback: str = Field(default="", max_length=MAX_FEEDBACK_CHARS)
    outcome: Vocabulary[Outcome] | None = None
    overrides: dict[RecommendationId, ScoreOverride] = Field(
        default_factory=dict, max_length=MAX_WORKFLOW_RECOMMENDATIONS
    )
    evaluator_id: Identifier | None = None

    @field_validator("recommendations")
    @classmethod
    def _unique_recommendations(cls, ids: list[str] | None) -> list[str] | None:
        if ids is not None and len(set(ids)) != len(ids):
            raise ValueError("recommendations must not repeat an id")
        return ids

    @field_validator("overrides")
    @classmethod
    def _known_overrides(
        cls, overrides: dict[str, ScoreOverride], info: ValidationInfo
    ) -> dict[str, ScoreOverride]:
        listed = info.data.get("recommendations")
        unknown = set(overrides) - set(listed) if listed is not None else set()
        if unknown:
            raise ValueError(f"overrides name ids not in recommendations: {sorted(unknown)}")
        return overrides


class WorkflowItemStatus(StrEnum):
    EVALUATED = "evaluated"
    ALREADY_EVALUATED = "already_evaluated"
    NOT_FOUND = "not_found"
    NOT_IN_WORKFLOW = "not_in_workflow"
    FAILED = "failed"


class WorkflowItemResult(_Response):
    recommendation_id: str
    status: WorkflowItemStatus
    outcome: Vocabulary[Outcome] | None = None
    outcome_id: str | None = None
    overall_quality_score: float | None = None
    error: str | None = None


class EvaluateWorkflowResponse(_Response):
    workspace_id: str
    workflow_id: str
    total: int
    evaluated: int
    failed: int
    outcomes: dict[Outcome, int]
    average_quality_score: float | None
    results: list[WorkflowItemResult]
