"""A deterministic simulated swarm with ground truth, for demos and benchmarks.

Each agent has a hidden success probability per recommendation type, a calibration bias (how far
its stated confidence sits above or below that probability), latency, failure and timeout rates,
and optionally a drift: after some number of recommendations its true probabilities change while
its stated confidence does not (it has not noticed). Workflows bring 1-4 agents together on one
task, and each task has a right action: an agent finds it with its hidden success probability,
and otherwise proposes one of the task's few plausible wrong ones. So agreement carries signal, as
in real swarms: right answers coincide, wrong ones scatter (and sometimes collide). Every simulated recommendation
carries the request an orchestrator would send to ``POST /recommendations/track``, the hidden
truth it was drawn from, and the evaluation an evaluator would give it.

Everything is drawn from ``random.Random(seed)``: the same agents, seed and workspace always give
the same workflows, and a shorter run is a prefix of a longer one. Pure Python, no I/O.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

RECOMMENDATION_TYPES = ("strategy", "content", "research", "analytics", "campaign")
QUALITY_DIMENSIONS = ("accuracy", "relevance", "actionability")

# Default outcome thresholds of the service (OUTCOME_APPROVED_MIN / OUTCOME_PARTIAL_MIN):
# successes score in [70, 98], partial failures in [40, 70), failures in [5, 40).
APPROVED_MIN = 70.0
PARTIAL_MIN = 40.0
PARTIAL_SHARE_OF_FAILURES = 0.35

# A failed or timed-out execution still yields a recommendation, but a worse one.
DEGRADED_EXECUTION_FACTOR = 0.35
TIMEOUT_MS = 30_000.0
PARTICIPANT_WEIGHTS = {1: 0.15, 2: 0.35, 3: 0.35, 4: 0.15}
WRONG_PROPOSALS = 3  # plausible wrong actions per task: a wrong agent proposes one of them


@dataclass(frozen=True)
class Drift:
    """From the agent's ``after_recommendations``-th recommendation (0-based) on, its true success
    probabilities are ``success_probability`` (types not listed keep their probability)."""

    after_recommendations: int
    success_probability: Mapping[str, float] = field(hash=False)

    def __post_init__(self) -> None:
        if self.after_recommendations < 0:
            raise ValueError("after_recommendations must be >= 0")
        _check_probabilities(self.success_probability)


@dataclass(frozen=True)
class AgentProfile:
    """An agent's hidden behaviour. The types it handles are the keys of ``success_probability``."""

    agent_id: str
    agent_name: str
    success_probability: Mapping[str, float] = field(hash=False)
    calibration_bias: float = 0.0
    confidence_noise: float = 0.05
    mean_latency_ms: float = 1_500.0
    latency_spread: float = 0.45
    failure_rate: float = 0.0
    timeout_rate: float = 0.0
    drift: Drift | None = field(default=None, hash=False)

    def __post_init__(self) -> None:
        if not self.success_probability:
            raise ValueError(f"{self.agent_id}: needs a success probability for at least one type")
        _check_probabilities(self.success_probability)
        if self.drift is not None and not set(self.drift.success_probability) <= set(
            self.success_probability
        ):
            raise ValueError(f"{self.agent_id}: drift names types the agent does not handle")
        if self.confidence_noise < 0 or self.latency_spread < 0 or self.mean_latency_ms <= 0:
            raise ValueError(f"{self.agent_id}: noise and spread must be >= 0, mean latency > 0")
        if (
            not 0 <= self.failure_rate + self.timeout_rate <= 1
            or min(self.failure_rate, self.timeout_rate) < 0
        ):
            raise ValueError(f"{self.agent_id}: failure and timeout rates must be >= 0 and sum to <= 1")

    @property
    def recommendation_types(self) -> tuple[str, ...]:
        return tuple(self.success_probability)

    def handles(self, recommendation_type: str) -> bool:
        return recommendation_type in self.success_probability

    def is_drifted(self, recommendations_made: int) -> bool:
        return self.drift is not None and recommendations_made >= self.drift.after_recommendations

    def true_success_probability(self, recommendation_type: str, recommendations_made: int) -> float:
        """The probability that the agent's next recommendation of this type succeeds, after it
        has made ``recommendations_made`` recommendations (of any type)."""
        if self.drift is not None and self.is_drifted(recommendations_made):
            drifted = self.drift.success_probability.get(recommendation_type)
            if drifted is not None:
                return drifted
        return self.success_probability[recommendation_type]


@dataclass(frozen=True)
class GroundTruth:
    """What the service cannot see: the probability the success was drawn from and the draw."""

    success_probability: float
    success: bool
    drifted: bool
    proposes_right_action: bool
    agent_recommendation_index: int


@dataclass(frozen=True)
class SimulatedEvaluation:
    """The evaluator's verdict, consistent with the truth: ``outcome`` is what the service derives
    from ``overall_quality_score`` with its default thresholds."""

    overall_quality_score: float
    quality_scores: dict[str, float]
    outcome: str
    feedback: str


@dataclass(frozen=True)
class SimulatedRecommendation:
    request: dict[str, Any]
    """The body of ``POST /recommendations/track`` (a ``TrackRecommendationRequest``)."""
    truth: GroundTruth
    evaluation: SimulatedEvaluation

    @property
    def agent_id(self) -> str:
        return str(self.request["agent_id"])


@dataclass(frozen=True)
class SimulatedWorkflow:
    workflow_id: str
    correlation_id: str
    recommendation_type: str
    right_content: dict[str, Any]  # the task's right action (hidden)
    recommendations: tuple[SimulatedRecommendation, ...]

    @property
    def overall_quality_score(self) -> float:
        """The workflow's quality: the mean of its recommendations' quality."""
        scores = [r.evaluation.overall_quality_score for r in self.recommendations]
        return round(sum(scores) / len(scores), 1)

    @property
    def quality_scores(self) -> dict[str, float]:
        return {
            dimension: round(
                sum(r.evaluation.quality_scores[dimension] for r in self.recommendations)
                / len(self.recommendations),
                1,
            )
            for dimension in QUALITY_DIMENSIONS
        }

    @property
    def feedback(self) -> str:
        successes = sum(r.truth.success for r in self.recommendations)
        return f"{successes} of {len(self.recommendations)} recommendations delivered the expected result"


# ---- what agents propose -----------------------------------------------------------------------
@dataclass(frozen=True)
class _Catalog:
    actions: tuple[str, ...]
    parameter: str
    values: tuple[str, ...]
    evidence_sources: tuple[str, ...]


CATALOG: dict[str, _Catalog] = {
    "strategy": _Catalog(
        ("reposition_offer", "expand_segment", "focus_segment", "enter_market"),
        "segment",
        ("smb", "mid_market", "enterprise", "public_sector"),
        ("psychographics_analysis", "win_loss_review", "market_sizing"),
    ),
    "content": _Catalog(
        ("publish_case_study", "refresh_landing_page", "launch_newsletter", "create_video_series"),
        "channel",
        ("blog", "linkedin", "email", "youtube"),
        ("engagement_history", "seo_audit", "content_gap_analysis"),
    ),
    "research": _Catalog(
        ("run_survey", "interview_customers", "analyze_competitors", "review_churn"),
        "focus",
        ("pricing", "onboarding", "retention", "positioning"),
        ("support_tickets", "nps_comments", "competitor_pages"),
    ),
    "analytics": _Catalog(
        ("build_dashboard", "attribute_revenue", "forecast_demand", "segment_cohorts"),
        "metric",
        ("cac", "ltv", "conversion_rate", "churn_rate"),
        ("warehouse_query", "cohort_analysis", "funnel_report"),
    ),
    "campaign": _Catalog(
        ("increase_budget", "decrease_budget", "pause_campaign", "launch_ab_test"),
        "channel",
        ("linkedin", "google_ads", "meta", "email"),
        ("campaign_metrics", "attribution_model", "budget_pacing"),
    ),
}


# ---- the default swarm -------------------------------------------------------------------------
def _roster() -> list[AgentProfile]:
    """Named archetypes; the first five cover an expert, the over-confident, the under-confident
    and the drifting agent, so even small swarms have them."""
    return [
        AgentProfile(
            "STRAT-01", "MoveArchitect", {"strategy": 0.86, "campaign": 0.72}, mean_latency_ms=2_400
        ),
        AgentProfile(
            "CAMP-01",
            "GrowthPilot",
            {"campaign": 0.55, "content": 0.5, "strategy": 0.45},
            calibration_bias=0.28,
            confidence_noise=0.04,
            mean_latency_ms=900,
        ),
        AgentProfile(
            "RSRCH-01",
            "InsightMiner",
            {"research": 0.82, "analytics": 0.74},
            calibration_bias=-0.25,
            mean_latency_ms=3_500,
        ),
        AgentProfile(
            "ANLY-01",
            "MetricSage",
            {"analytics": 0.84, "research": 0.7, "campaign": 0.66},
            mean_latency_ms=1_800,
            # A regression, not a wobble: at the demo's size (~35 outcomes before the drop, ~55 after)
            # a drop to ~0.35 is within chance of a stable agent on some seeds; to ~0.2, it shows.
            drift=Drift(40, {"analytics": 0.25, "research": 0.2, "campaign": 0.2}),
        ),
        AgentProfile("CONT-01", "StoryWeaver", {"content": 0.83, "campaign": 0.68}, mean_latency_ms=2_100),
        AgentProfile(
            "STRAT-02",
            "BoldVisionary",
            {"strategy": 0.38, "research": 0.34},
            calibration_bias=0.08,
            confidence_noise=0.1,
            mean_latency_ms=1_200,
        ),
        AgentProfile(
            "CONT-02",
            "DraftBot",
            {"content": 0.32, "campaign": 0.3},
            confidence_noise=0.08,
            mean_latency_ms=600,
            failure_rate=0.08,
        ),
        AgentProfile(
            "GEN-01",
            "Generalist",
            dict.fromkeys(RECOMMENDATION_TYPES, 0.55),
            confidence_noise=0.07,
            mean_latency_ms=4_000,
            latency_spread=0.7,
            timeout_rate=0.05,
        ),
        AgentProfile("ANLY-02", "DataHound", {"analytics": 0.72, "campaign": 0.58}, mean_latency_ms=2_700),
        AgentProfile("RSRCH-02", "TrendScout", {"research": 0.62, "strategy": 0.52}, mean_latency_ms=3_000),
    ]


_EXTRA_NAMES = ("Signal", "Vector", "Beacon", "Compass", "Lens", "Forge", "Harbor", "Summit")
_EXTRA_ROLES = ("Scout", "Smith", "Keeper", "Runner", "Weaver", "Reader")


def _extra_agent(rng: random.Random, number: int) -> AgentProfile:
    primary, secondary = rng.sample(RECOMMENDATION_TYPES, 2)
    return AgentProfile(
        f"AGENT-{number:02d}",
        f"{rng.choice(_EXTRA_NAMES)}{rng.choice(_EXTRA_ROLES)}",
        {primary: round(rng.uniform(0.3, 0.85), 2), secondary: round(rng.uniform(0.3, 0.7), 2)},
        calibration_bias=round(rng.uniform(-0.1, 0.1), 2),
        confidence_noise=round(rng.uniform(0.03, 0.1), 2),
        mean_latency_ms=round(rng.uniform(500, 4_000)),
        failure_rate=round(rng.uniform(0, 0.05), 3),
    )


def _jitter(rng: random.Random, probabilities: Mapping[str, float]) -> dict[str, float]:
    return {t: round(min(0.97, max(0.03, p + rng.uniform(-0.03, 0.03))), 3) for t, p in probabilities.items()}


def default_swarm(n_agents: int = 8, *, seed: int = 0) -> tuple[AgentProfile, ...]:
    """A varied swarm: experts, weak agents, an over-confident one (CAMP-01), an under-confident
    one (RSRCH-01) and one whose quality drops after 40 recommendations (ANLY-01). The seed
    jitters the success probabilities a little; beyond the ten archetypes, agents are random."""
    if n_agents < 1:
        raise ValueError("a swarm needs at least one agent")
    rng = random.Random(seed)
    roster = _roster()
    agents = [
        AgentProfile(
            agent.agent_id,
            agent.agent_name,
            _jitter(rng, agent.success_probability),
            calibration_bias=agent.calibration_bias,
            confidence_noise=agent.confidence_noise,
            mean_latency_ms=agent.mean_latency_ms,
            latency_spread=agent.latency_spread,
            failure_rate=agent.failure_rate,
            timeout_rate=agent.timeout_rate,
            drift=agent.drift,
        )
        for agent in roster[:n_agents]
    ]
    agents.extend(_extra_agent(rng, number) for number in range(len(roster) + 1, n_agents + 1))
    return tuple(agents)


# ---- the simulator -----------------------------------------------------------------------------
class Swarm:
    """``Swarm(agents, seed=7).workflows("ws_demo", 300)`` yields 300 simulated workflows; each
    call starts afresh from the seed (agents have made no recommendations yet)."""

    def __init__(self, agents: Sequence[AgentProfile], *, seed: int = 0) -> None:
        if not agents:
            raise ValueError("a swarm needs at least one agent")
        ids = [a.agent_id for a in agents]
        if len(set(ids)) != len(ids):
            raise ValueError("agent ids must be unique")
        self.agents = tuple(agents)
        self.seed = seed
        handled = {t for a in agents for t in a.recommendation_types}
        # The usual types in their usual order, then any custom ones: stable across runs.
        self.recommendation_types = tuple(
            [t for t in RECOMMENDATION_TYPES if t in handled] + sorted(handled - set(RECOMMENDATION_TYPES))
        )

    def agent(self, agent_id: str) -> AgentProfile:
        return next(a for a in self.agents if a.agent_id == agent_id)

    def workflows(self, workspace_id: str, count: int) -> Iterator[SimulatedWorkflow]:
        rng = random.Random(self.seed)
        made = dict.fromkeys((a.agent_id for a in self.agents), 0)
        for number in range(1, count + 1):
            workflow = self._workflow(rng, workspace_id, number, made)
            for recommendation in workflow.recommendations:
                made[recommendation.agent_id] += 1
            yield workflow

    def _workflow(
        self, rng: random.Random, workspace_id: str, number: int, made: Mapping[str, int]
    ) -> SimulatedWorkflow:
        recommendation_type = rng.choice(self.recommendation_types)
        candidates = [a for a in self.agents if a.handles(recommendation_type)]
        size = rng.choices(list(PARTICIPANT_WEIGHTS), weights=list(PARTICIPANT_WEIGHTS.values()))[0]
        # Specialists are called on more often than generalists: a weighted draw without
        # replacement (Efraimidis-Spirakis keys), weight 1 / number of types the agent handles.
        keys = [rng.random() ** len(agent.recommendation_types) for agent in candidates]
        ranked = sorted(zip(keys, range(len(candidates)), strict=True), reverse=True)
        participants = [candidates[index] for _, index in ranked[:size]]
        catalog = CATALOG.get(recommendation_type)
        right = _proposal(rng, catalog)
        wrong = _wrong_proposals(rng, catalog, right)
        workflow_id = f"wf-s{self.seed}-{number:05d}"
        correlation_id = f"run-{rng.getrandbits(32):08x}"
        recommendations = tuple(
            self._recommend(
                rng,
                agent,
                workspace_id=workspace_id,
                workflow_id=workflow_id,
                correlation_id=correlation_id,
                recommendation_type=recommendation_type,
                right=right,
                wrong=wrong,
                catalog=catalog,
                made=made[agent.agent_id],
            )
            for agent in participants
        )
        return SimulatedWorkflow(workflow_id, correlation_id, recommendation_type, right, recommendations)

    def _recommend(
        self,
        rng: random.Random,
        agent: AgentProfile,
        *,
        workspace_id: str,
        workflow_id: str,
        correlation_id: str,
        recommendation_type: str,
        right: dict[str, Any],
        wrong: Sequence[dict[str, Any]],
        catalog: _Catalog | None,
        made: int,
    ) -> SimulatedRecommendation:
        roll = rng.random()
        if roll < agent.failure_rate:
            execution_status = "failed"
        elif roll < agent.failure_rate + agent.timeout_rate:
            execution_status = "timed_out"
        else:
            execution_status = "completed"
        latency_ms = _latency(rng, agent, execution_status)

        probability = agent.true_success_probability(recommendation_type, made)
        if execution_status != "completed":
            probability *= DEGRADED_EXECUTION_FACTOR
        success = rng.random() < probability
        # Success is finding the task's right action; a miss is one of its plausible wrong ones.
        content = dict(right) if success else dict(rng.choice(wrong))
        # The agent states confidence from what it believes it is worth (before any drift).
        believed = agent.success_probability[recommendation_type]
        confidence = _clamp(
            believed + agent.calibration_bias + rng.gauss(0, agent.confidence_noise), 0.0, 1.0
        )

        source = rng.choice(catalog.evidence_sources) if catalog else "agent_memory"
        request: dict[str, Any] = {
            "workspace_id": workspace_id,
            "agent_id": agent.agent_id,
            "agent_name": agent.agent_name,
            "correlation_id": correlation_id,
            "workflow_id": workflow_id,
            "recommendation_type": recommendation_type,
            "recommendation_content": content,
            "confidence_score": round(confidence, 3),
            "reasoning": f"{_describe(content)}: supported by {source.replace('_', ' ')}",
            "evidence": {"source": source, "sample_size": rng.randrange(50, 5_000, 50)},
            "execution_status": execution_status,
            "latency_ms": latency_ms,
        }
        truth = GroundTruth(
            success_probability=round(probability, 6),
            success=success,
            drifted=agent.is_drifted(made),
            proposes_right_action=success,
            agent_recommendation_index=made,
        )
        return SimulatedRecommendation(request, truth, _evaluate(rng, success, probability, content))


def _proposal(rng: random.Random, catalog: _Catalog | None) -> dict[str, Any]:
    if catalog is None:  # a type outside the catalog (custom agents): a generic action
        return {"action": f"option_{rng.randrange(1, 5)}"}
    return {"action": rng.choice(catalog.actions), catalog.parameter: rng.choice(catalog.values)}


def _wrong_proposals(
    rng: random.Random, catalog: _Catalog | None, right: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The task's plausible wrong actions: distinct, and never the right one."""
    wrong: list[dict[str, Any]] = []
    while len(wrong) < WRONG_PROPOSALS:
        proposal = _proposal(rng, catalog)
        if proposal != right and proposal not in wrong:
            wrong.append(proposal)
    return wrong


def _describe(content: Mapping[str, Any]) -> str:
    action = str(content.get("action", "act")).replace("_", " ")
    details = ", ".join(f"{k} {v}" for k, v in content.items() if k != "action")
    return f"{action.capitalize()} ({details})" if details else action.capitalize()


def _latency(rng: random.Random, agent: AgentProfile, execution_status: str) -> float:
    if execution_status == "timed_out":
        return TIMEOUT_MS + round(rng.uniform(0, 250), 1)
    sigma = agent.latency_spread
    latency = rng.lognormvariate(math.log(agent.mean_latency_ms) - sigma * sigma / 2, sigma)
    if execution_status == "failed":
        latency *= 0.4  # failures tend to be fast
    return round(min(latency, TIMEOUT_MS), 1)


def _evaluate(
    rng: random.Random, success: bool, probability: float, content: Mapping[str, Any]
) -> SimulatedEvaluation:
    if success:
        # Stronger agents' successes tend to be better successes.
        overall = rng.triangular(APPROVED_MIN, 98.0, APPROVED_MIN + (98.0 - APPROVED_MIN) * probability)
        outcome, verdict = "approved", "Delivered the expected result"
    elif rng.random() < PARTIAL_SHARE_OF_FAILURES:
        overall = rng.uniform(PARTIAL_MIN, APPROVED_MIN - 0.1)
        outcome, verdict = "partial", "Partly useful; needed rework"
    else:
        overall = rng.triangular(5.0, PARTIAL_MIN - 0.1, 20.0)
        outcome, verdict = "rejected", "Did not work out"
    overall = round(overall, 1)
    quality_scores = {d: round(_clamp(overall + rng.gauss(0, 6), 0.0, 100.0), 1) for d in QUALITY_DIMENSIONS}
    return SimulatedEvaluation(overall, quality_scores, outcome, f"{verdict}: {_describe(content).lower()}")


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def _check_probabilities(probabilities: Mapping[str, float]) -> None:
    for recommendation_type, probability in probabilities.items():
        if not 0 <= probability <= 1:
            raise ValueError(f"success probability for {recommendation_type!r} must be in [0, 1]")
