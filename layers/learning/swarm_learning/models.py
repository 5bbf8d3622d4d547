"""Request and response models: the API contract, validated at the edge.

Field names follow the specification. Size limits are part of the contract and are listed in
docs/api.md; they keep every item far below DynamoDB's 400 KB item limit.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from swarm_learning.ids import (
    DECISION_ID_PATTERN,
    IDENTIFIER_PATTERN,
    OUTCOME_ID_PATTERN,
    RECOMMENDATION_ID_PATTERN,
)
from swarm_learning.vocabulary import (
    ExecutionStatus,
    Outcome,
    RecommendationStatus,
    RoutingMode,
    Strength,
    Trend,
)

T = TypeVar("T")

# ---- limits (documented in docs/api.md) -------------------------------------------------------
MAX_CORRELATION_ID_LENGTH = 128
MAX_AGENT_NAME_LENGTH = 128
MAX_TYPE_LENGTH = 40
MAX_JSON_BYTES = 32 * 1024
MAX_JSON_DEPTH = 8  # objects and lists inside recommendation_content / evidence
MAX_REASONING_CHARS = 8_000
MAX_FEEDBACK_CHARS = 4_000
MAX_QUALITY_DIMENSIONS = 20
MAX_ALTERNATIVES = 20
MAX_ALTERNATIVE_DESCRIPTION_CHARS = 500
MAX_WORKFLOW_RECOMMENDATIONS = 100
MAX_LATENCY_MS = 24 * 3600 * 1000
MAX_PAGE_SIZE = 100
MAX_BATCH_EVENTS = 100
DEFAULT_PAGE_SIZE = 25

Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN)]
CorrelationId = Annotated[
    str,
    StringConstraints(pattern=rf"^[A-Za-z0-9][A-Za-z0-9_.:\-]{{0,{MAX_CORRELATION_ID_LENGTH - 1}}}$"),
]
Slug = Annotated[str, StringConstraints(pattern=rf"^[a-z][a-z0-9_]{{0,{MAX_TYPE_LENGTH - 1}}}$")]
RecommendationId = Annotated[str, StringConstraints(pattern=RECOMMENDATION_ID_PATTERN)]
OutcomeId = Annotated[str, StringConstraints(pattern=OUTCOME_ID_PATTERN)]
DecisionId = Annotated[str, StringConstraints(pattern=DECISION_ID_PATTERN)]
# Enum fields of strict request models take their JSON strings ("approved"), nothing else.
Vocabulary = Annotated[T, Strict(False)]
# A computed figure as shown: the learning cycle computes in float32 (numpy), so six decimals
# keep every meaningful digit and drop the noise (-0.1499999761581421 -> -0.15).
ShownFloat = Annotated[float, AfterValidator(lambda value: round(value, 6))]
Score100 = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


def json_depth(value: Any) -> int:
    """Levels of objects and lists; iterative, since the value may be hostile input."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _bounded_json(value: dict[str, Any]) -> dict[str, Any]:
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_JSON_BYTES:
        raise ValueError(f"must serialise to at most {MAX_JSON_BYTES} bytes of JSON (got {size})")
    depth = json_depth(value)
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"must nest at most {MAX_JSON_DEPTH} levels of objects and lists (got {depth})")
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(_bounded_json)]


# defer_build: each function builds the validators of the models it uses, on first use, instead
# of every function building every model at import (a cold-start cost; see docs/benchmarks.md).
class _Request(BaseModel):
    # strict: a number sent as "1.5" or a boolean sent as "yes" is a 422, not silently coerced
    # (the resolver validates the parsed JSON in Python mode, where lax would coerce strings).
    model_config = ConfigDict(extra="forbid", defer_build=True, strict=True)


class _Response(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


# ---- tracking ---------------------------------------------------------------------------------
class TrackRecommendationRequest(_Request):
    workspace_id: Identifier
    agent_id: Identifier
    agent_name: str = Field(min_length=1, max_length=MAX_AGENT_NAME_LENGTH)
    correlation_id: CorrelationId | None = None
    workflow_id: Identifier | None = None
    recommendation_type: Slug = Field(description="Open vocabulary, e.g. strategy, content.")
    recommendation_content: JsonObject
    confidence_score: Probability
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


# ---- reading ----------------------------------------------------------------------------------
class Recommendation(_Response):
    recommendation_id: str
    workspace_id: str
    agent_id: str
    agent_name: str
    correlation_id: str | None
    workflow_id: str | None
    recommendation_type: str
    recommendation_content: dict[str, Any]
    confidence_score: float
    reasoning: str
    evidence: dict[str, Any]
    execution_status: ExecutionStatus
    latency_ms: float | None
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
    avg_confidence: float | None
    brier_score: float | None = Field(description="mean (confidence - success)^2")
    avg_latency_ms: float | None
    avg_evaluation_delay_seconds: float | None


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


# ---- trust ------------------------------------------------------------------------------------
MAX_ROUTING_CANDIDATES = 50
MAX_ADJUSTMENT_REASON_CHARS = 1_000


class InitializeTrustRequest(_Request):
    workspace_id: Identifier
    agent_id: Identifier
    agent_name: str = Field(min_length=1, max_length=MAX_AGENT_NAME_LENGTH)


class TrustScoreUpdate(_Request):
    """The seed's manual update: a bounded nudge recorded with its reason, never new evidence."""

    workspace_id: Identifier
    recommendation_id: RecommendationId | None = None
    outcome_quality_score: Score100
    accuracy_impact: float = Field(default=0.0, ge=-1, le=1, allow_inf_nan=False)
    consistency_impact: float = Field(default=0.0, ge=-1, le=1, allow_inf_nan=False)
    learning_rate: float = Field(default=0.1, gt=0, le=0.5, allow_inf_nan=False)
    reason: str = Field(min_length=1, max_length=MAX_ADJUSTMENT_REASON_CHARS)


class CalibrationBinView(_Response):
    lower: float
    upper: float
    count: float
    mean_confidence: float | None
    observed_success: float | None


class TrustEvidence(_Response):
    evaluated: int
    effective_evaluations: float = Field(description="Evaluations weighted by recency decay.")
    effective_successes: float
    approved: int
    partial: int
    rejected: int
    tracked: int
    failed_executions: int
    timed_out_executions: int
    latency_observations: int


class TrustDimensions(_Response):
    """Scores on 0..1 for one scope (the agent overall, or one recommendation type)."""

    overall_trust_score: float
    overall_trust_lower_bound: float = Field(description="Overall with accuracy at its lower bound.")
    overall_trust_upper_bound: float = Field(description="Overall with accuracy at its upper bound.")
    accuracy_score: float
    accuracy_lower_bound: float
    accuracy_upper_bound: float
    consistency_score: float
    calibration_score: float
    expected_calibration_error: float | None
    stability_score: float
    timeliness_score: float
    reliability_score: float
    confidence_factor: float
    approval_rate: float | None
    avg_quality_score: float | None
    avg_latency_ms: float | None
    brier_score: float | None
    trend: Trend
    recent_success_rate: float | None
    baseline_success_rate: float | None
    recommendation_strength: Strength = Field(
        description=(
            "From the overall score (0.4 / 0.6 / 0.8); strong or very_strong only when the approval "
            "rate is at least the workspace's (very_strong: its lower credible bound too)."
        )
    )
    provisional: bool = Field(description="Fewer evaluations than the publication minimum.")
    evidence: TrustEvidence
    consistency_factor: float = Field(
        default=1.0, description="Calibration against the workspace's; consistency = accuracy x this."
    )
    timeliness_factor: float = Field(
        default=1.0, description="Latency against the workspace's (at most 1); timeliness = accuracy x this."
    )
    reliability_factor: float = Field(
        default=1.0, description="Execution failures against the workspace's; reliability = accuracy x this."
    )
    workspace_approval_rate: float | None = Field(
        default=None, description="The workspace's approval rate on the same types: the strength gate."
    )
    trend_basis: Literal["days", "outcomes"] | None = Field(
        default=None,
        description="Which test found the trend: recent days against the weeks before, or the order of outcomes.",
    )
    trend_recent_outcomes: int | None = Field(
        default=None, description="Outcomes after the change point the outcome trend found (all types only)."
    )
    trend_baseline_outcomes: int | None = Field(
        default=None, description="Outcomes before that change point."
    )


class TrustScoreResponse(TrustDimensions):
    """The seed's Trust Score Response, with the counts, interval and calibration behind it."""

    workspace_id: str
    agent_id: str
    agent_name: str
    accuracy_adjustment: float
    consistency_adjustment: float
    adjustments: int
    calibration: list[CalibrationBinView]
    by_type: dict[str, TrustDimensions]
    decision_boosts: dict[str, float] = Field(
        description="Per type, the confidence boost of GET /agents/{agent_id}/decision-boost."
    )
    computed_at: datetime


class TrustScoreList(_Response):
    workspace_id: str
    items: list[TrustScoreResponse]
    count: int


class TrustSortKey(StrEnum):
    OVERALL = "overall_trust_score"
    LOWER_BOUND = "overall_trust_lower_bound"
    ACCURACY = "accuracy_score"
    AGENT_ID = "agent_id"


class TrustAdjustmentResponse(_Response):
    adjustment_id: str
    accuracy_delta: float
    consistency_delta: float
    trust: TrustScoreResponse


class DecisionBoostResponse(_Response):
    workspace_id: str
    agent_id: str
    recommendation_type: str
    decision_boost: float = Field(description="In [0.5, 1.5]; 1.0 without evidence.")
    accuracy_score: float
    confidence_factor: float
    evaluated: int


class RoutingRequest(_Request):
    workspace_id: Identifier
    recommendation_type: Slug
    candidates: list[Identifier] = Field(min_length=1, max_length=MAX_ROUTING_CANDIDATES)
    k: int = Field(default=1, ge=1)
    mode: Vocabulary[RoutingMode] = RoutingMode.EXPLORE
    correlation_id: CorrelationId | None = None
    apply_rules: bool = Field(
        default=True,
        description=(
            "Act on the learned decision rules for this type: skip agents an avoid_agents rule names "
            "(unless fewer than k would remain); raise k to a require_consensus rule's min_agents."
        ),
    )

    @field_validator("candidates")
    @classmethod
    def _unique_candidates(cls, candidates: list[str]) -> list[str]:
        if len(set(candidates)) != len(candidates):
            raise ValueError("candidates must not repeat an agent")
        return candidates

    @field_validator("k")
    @classmethod
    def _k_within_candidates(cls, k: int, info: ValidationInfo) -> int:
        candidates = info.data.get("candidates")
        if candidates is not None and k > len(candidates):
            raise ValueError(f"k cannot exceed the number of candidates ({len(candidates)})")
        return k


class RoutedAgent(_Response):
    agent_id: str
    rank: int
    score: float = Field(description="Thompson draw (explore) or accuracy lower bound (exploit).")
    probability: float = Field(description="Probability the policy chooses this agent.")
    expected_success: float


class RoutingDecision(_Response):
    decision_id: str
    workspace_id: str
    recommendation_type: str
    mode: RoutingMode
    chosen: list[RoutedAgent]
    applied_rules: list[str] = Field(
        default_factory=list, description="Decision rules that changed this decision."
    )
    decided_at: datetime


class TrustSnapshot(_Response):
    computed_at: datetime
    overall_trust_score: float
    overall_trust_lower_bound: float
    # None on snapshots stored before the bounds were kept.
    overall_trust_upper_bound: float | None = None
    accuracy_score: float
    accuracy_lower_bound: float | None = None
    accuracy_upper_bound: float | None = None
    consistency_score: float
    timeliness_score: float
    reliability_score: float
    trend: Trend
    recommendation_strength: Strength
    provisional: bool
    evaluated: int


class TrustHistory(_Response):
    workspace_id: str
    agent_id: str
    items: list[TrustSnapshot] = Field(description="Newest first; one per trust-refresh run.")


# ---- batch ingestion --------------------------------------------------------------------------
class EventType(StrEnum):
    TRACK = "track"
    EVALUATE = "evaluate"


class IngestBatchRequest(_Request):
    workspace_id: Identifier
    events: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_BATCH_EVENTS,
        description=(
            'Applied in order. Each is `{"type": "track", ...}` with the fields of '
            'TrackRecommendationRequest or `{"type": "evaluate", ...}` with those of '
            "EvaluateOutcomeRequest; `workspace_id` may be left out (it is the batch's). Each event "
            "is validated on its own, so one bad event never sinks the others."
        ),
    )


class EventError(_Response):
    error: str
    message: str
    field: str | None = Field(description="The event's field at fault, e.g. confidence_score.")


class EventResult(_Response):
    index: int
    type: EventType | None
    id: str | None = Field(
        description="recommendation_id for a track, outcome_id for an evaluation (null if not known)."
    )
    recommendation_id: str | None
    status: int = Field(
        description=(
            "201 stored, 200 already stored with this body (nothing written), 404 / 409 / 422 "
            "as on the single-event routes, 503 not stored this time: send it again."
        )
    )
    error: EventError | None = None


class IngestBatchResponse(_Response):
    workspace_id: str
    received: int
    stored: int = Field(description="Events answered 200 or 201.")
    failed: int
    results: list[EventResult]
