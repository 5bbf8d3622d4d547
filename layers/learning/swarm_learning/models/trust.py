"""Request and response models of trust scores, adjustments, routing and trust history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
)

from swarm_learning.models.common import (
    MAX_AGENT_NAME_LENGTH,
    CorrelationId,
    DecisionId,
    Identifier,
    Probability,
    RecommendationId,
    Score100,
    Slug,
    Vocabulary,
    _Request,
    _Response,
)
from swarm_learning.vocabulary import (
    RoutingMode,
    Strength,
    Trend,
)

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
    input_tokens: int = Field(default=0, description="Model tokens reported with the tracks.")
    output_tokens: int = 0


class DimensionEvidence(_Response):
    """The count each dimension stands on. Null: nothing was reported for it, so its factor is 1
    by design and the dimension repeats accuracy; it is not a measurement."""

    accuracy: int = Field(description="Evaluations.")
    consistency: int = Field(description="Evaluations whose stated confidence is set against the outcome.")
    timeliness: int | None = Field(
        description="Latencies the agent reported; null: none (no latency reported)."
    )
    reliability: int | None = Field(
        description=(
            "Executions tracked; null when neither the agent nor the workspace (on the agent's types) "
            "reported a failed or timed-out execution, so reliability cannot tell agents apart."
        )
    )


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
    avg_tokens: float | None = Field(
        default=None, description="Input + output tokens per recommendation that reported usage."
    )
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
    dimension_evidence: DimensionEvidence | None = Field(
        default=None,
        description="The count behind each dimension, or null where nothing was reported (then it equals accuracy).",
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
    decision_id: DecisionId | None = Field(
        default=None,
        description=(
            "Minted by the client (`dec_` + ULID, its time within the allowed skew of the server's "
            "clock) to make the request retry-safe: the same id with the same body returns the "
            "stored decision (nothing logged again), with a different body 409. Minted by the "
            "server when absent."
        ),
    )
    exploration_floor: Probability | None = Field(
        default=None,
        description=(
            "The share of first slots given to a uniform choice among all the candidates (every "
            "candidate then has probability >= floor / K); the workspace default "
            "(ROUTING_EXPLORATION_FLOOR, 0.05) when absent. 0 turns it off: an exploit decision "
            "made so is deterministic and cannot support evaluating other policies."
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
    requested_k: int = Field(
        description=(
            "The k the request asked for. A require_consensus rule may raise it (see applied_rules): "
            "then `chosen` holds more agents than requested_k."
        )
    )
    agent_ids: list[str] = Field(
        description="The chosen agents in rank order: agent_ids[0] is the router's first choice."
    )
    chosen: list[RoutedAgent] = Field(description="The chosen agents, best first (rank 1 first).")
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
