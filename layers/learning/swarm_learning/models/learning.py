"""Request and response models of the meta-learning API (the learning cycle's contract).

Kept apart from ``swarm_learning.models`` so the functions that never learn do not pay for
defining them at import (about 15 ms of every cold start, measured with ``bench/api/``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from swarm_learning.models.common import Identifier, JsonObject, ShownFloat, _Request, _Response
from swarm_learning.vocabulary import CycleTrigger, IterationStatus, PatternCategory, Strength, Trend

# ---- meta-learning -----------------------------------------------------------------------------
MAX_LOOKBACK_DAYS = 90
MAX_PATTERN_PAGE = 500
DEFAULT_PATTERN_PAGE = 100
MAX_ITERATION_PAGE = 50


class TriggerLearningCycleRequest(_Request):
    workspace_id: Identifier
    lookback_days: int = Field(default=7, ge=1, le=MAX_LOOKBACK_DAYS, description="The seed's default: 7.")
    min_pattern_confidence: float = Field(
        default=0.7, ge=0.5, le=0.99, description="Lowest confidence_level a pattern may have (seed: 0.7)."
    )


class LearningCycleAccepted(_Response):
    iteration_id: str
    workspace_id: str
    status: IterationStatus
    requested_at: datetime
    status_path: str = Field(description="Where to follow the iteration (GET).")


class LiftView(_Response):
    value: ShownFloat = Field(description="Difference of approval rates (the router minus the other).")
    lower: ShownFloat | None
    upper: ShownFloat | None


class BestAgentLift(LiftView):
    agent_id: str | None


class RoutingLift(_Response):
    decisions: int = Field(description="Decisions with outcomes evaluated in the cycle's window.")
    vs_uniform: LiftView | None
    vs_best_agent: BestAgentLift | None
    reason: str | None = Field(default=None, description="Why there is no estimate (too few decisions).")


class LearningCycleResult(_Response):
    """The seed's Learning Cycle Result, plus coverage."""

    iteration_id: str
    workspace_id: str
    samples_analyzed: int
    patterns_discovered: int
    patterns_confirmed: int
    rules_updated: int
    iteration_accuracy: float | None = Field(
        description="Share of held-out later recommendations whose outcome the patterns predicted."
    )
    coverage: float = Field(description="Share of held-out later recommendations matched by a pattern.")
    validation_samples: int = Field(
        default=0, description="Held-out recommendations judged out of sample (coverage's denominator)."
    )
    validation_judged: int = Field(
        default=0, description="Of those, the ones a pattern matched (iteration_accuracy's denominator)."
    )
    pattern_confidence_improvement: float | None
    rule_effectiveness_improvement: float | None = Field(
        description=(
            "The learned rules' effect on approvals over the cycle's window: the SNIPS estimate of "
            "routing with the rules minus routing without them (off-policy, from the logged decisions); "
            "null below ROUTING_EVALUATION_MIN_DECISIONS, with the reason in rule_effectiveness_reason."
        )
    )
    rule_effectiveness_reason: str | None = None
    routing_lift: RoutingLift | None = Field(
        default=None,
        description="The router against choosing uniformly and against the best fixed agent, with 95 % intervals.",
    )
    key_insights: list[str]
    recommendations_for_swarm: list[str]
    started_at: datetime
    completed_at: datetime
    processing_time_seconds: float


class LearningIteration(_Response):
    iteration_id: str
    workspace_id: str
    status: IterationStatus
    trigger: CycleTrigger
    lookback_days: int
    min_pattern_confidence: float
    requested_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None
    error: str | None = None
    result: LearningCycleResult | None = None


class LearningIterationList(_Response):
    workspace_id: str
    items: list[LearningIteration] = Field(description="Newest first.")


class PatternView(_Response):
    pattern_id: str
    category: PatternCategory
    condition: list[str] = Field(description='Feature items that must all hold, e.g. ["consensus=3+"].')
    description: str
    success_rate: float
    frequency_count: int
    confidence_level: float = Field(
        description="The learner's confidence that the pattern is real: 1 - its one-sided p-value "
        "against the other recommendations (discoveries are also held to a 5 % false-discovery rate)."
    )
    lift: float = Field(
        description=(
            "success_rate over the workspace's (strict) approval rate, on the approval scale for every "
            "category; the description phrases a failure-avoidance pattern's lift on the rejection scale."
        )
    )
    lift_lower_bound: float = Field(
        description="The lift's 95 % interval (Wilson, on success_rate): lower end."
    )
    lift_upper_bound: float = Field(description="The lift's 95 % interval: upper end.")
    q_value: float | None = Field(
        default=None,
        description=(
            "Benjamini-Hochberg adjusted p-value over every candidate tested in the cycle (or the "
            "refresh) that found it: the smallest false-discovery rate at which it is still a "
            "discovery. It separates patterns where confidence_level (near 1 for every discovery) cannot."
        ),
    )
    recommendation_strength: Strength
    status: str = Field(description="`new`, or `confirmed` once a later cycle found it again.")
    confirmations: int
    first_seen_at: datetime
    last_confirmed_at: datetime
    last_validated_at: datetime | None = None


class PatternList(_Response):
    workspace_id: str
    version: str | None = Field(description="The learner state served; null before the first cycle.")
    learned_at: datetime | None
    items: list[PatternView]
    next_token: str | None = None


class TypeStandingView(_Response):
    recommendation_type: str
    evaluated: int
    approval_rate: ShownFloat = Field(
        description="(approved + partial/2) / evaluated, as everywhere in the API."
    )
    strict_approval_rate: ShownFloat = Field(
        description="approved / evaluated: what the standing is tested on, against `baseline`, with its interval."
    )
    baseline: ShownFloat = Field(description="The workspace's strict approval rate for this type.")
    lower_bound: ShownFloat
    upper_bound: ShownFloat


class AgentProfileView(_Response):
    workspace_id: str
    agent_id: str
    evaluated: int
    approval_rate: ShownFloat = Field(
        description="(approved + partial/2) / evaluated, as in /trust-scores and /stats."
    )
    strict_approval_rate: ShownFloat = Field(description="approved / evaluated.")
    strengths: list[TypeStandingView]
    weaknesses: list[TypeStandingView]
    calibration_gap: ShownFloat = Field(
        description="Mean stated confidence minus approval rate (> 0: over-confident)."
    )
    trend: Trend = Field(
        description=(
            "improving, declining or stable, as in the trust responses: `trend_slope` tested as the "
            "trust trend is (pooled two-proportion z and a minimum difference)."
        )
    )
    trend_slope: ShownFloat = Field(
        description="Strict approval rate of its later half minus its earlier half."
    )
    consensus_share: ShownFloat
    consensus_builder: bool
    iteration_id: str
    learned_at: datetime


class SuggestDecisionRulesRequest(_Request):
    workspace_id: Identifier
    context: JsonObject = Field(
        default_factory=dict,
        description="The decision: `recommendation_type` (or the seed's `task_type`); other keys are ignored.",
    )


class DecisionRuleView(_Response):
    rule_id: str
    conditions: dict[str, Any]
    action: str = Field(
        description=(
            "prefer_agents, avoid_agents, require_consensus, minimum_confidence, "
            "fast_track_high_confidence or prefer_experts"
        )
    )
    parameters: dict[str, Any]
    expected_success: float = Field(
        description=(
            "An approval rate, never a failure rate. Rules that favour something (prefer_agents, "
            "require_consensus from a consensus pattern, fast_track_high_confidence, prefer_experts): "
            "the approval rate of what they favour. Rules that steer away from something "
            "(avoid_agents, require_consensus from dissent, minimum_confidence): the approval rate "
            "of what they keep, the recommendations under the conditions without the avoided item "
            "(other agents, backed advice, confident advice). `expected_success_basis` says which."
        )
    )
    expected_success_basis: Literal["matched", "kept"] = Field(
        default="matched",
        description="`matched`: of the recommendations the rule favours; `kept`: of those it keeps.",
    )
    support: int = Field(description="Recommendations the source pattern matched.")
    source: list[str] = Field(description="The pattern condition the rule comes from.")


class DecisionRuleList(_Response):
    workspace_id: str
    version: str | None
    learned_at: datetime | None
    context: dict[str, Any]
    items: list[DecisionRuleView]


class ShouldTriggerResponse(_Response):
    workspace_id: str
    should_trigger: bool
    reason: str
    new_outcomes: int = Field(description="Outcomes recorded since the last cycle started.")
    last_cycle_at: datetime | None
    hours_since_last_cycle: float | None
    cycle_running: bool
    min_new_outcomes: int
    max_hours_between_cycles: float


class LearningCycleRequestedDetail(TriggerLearningCycleRequest):
    """The ``detail`` of a ``LearningCycleRequested`` event (the trigger's request and its iteration)."""

    iteration_id: Annotated[str, StringConstraints(pattern=r"^iter_[0-9A-HJKMNP-TV-Z]{26}$")]
