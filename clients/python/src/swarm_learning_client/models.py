"""Typed results of the decision calls. Each keeps the service's full answer in ``raw``, so a field
the service adds later is reachable before this client names it.

Each model names the service's schema it reads (``SCHEMAS``, in docs/openapi.json) and the fields
of that schema it knowingly leaves in ``raw`` (``UNMODELLED``): a contract test
(tests/unit/test_client_contract.py) parses every schema into these models and fails when the
service answers a field the client does not know."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class RoutedAgent:
    SCHEMAS: ClassVar[tuple[str, ...]] = ("RoutedAgent",)
    UNMODELLED: ClassVar[frozenset[str]] = frozenset()

    agent_id: str
    rank: int
    probability: float  # that the policy chooses this agent
    expected_success: float
    score: float


@dataclass(frozen=True)
class RoutingDecision:
    """``select_agents``: the chosen agents, best first, and the decision's id. A learned
    ``require_consensus`` rule may seat more agents than ``requested_k`` (see ``applied_rules``)."""

    SCHEMAS: ClassVar[tuple[str, ...]] = ("RoutingDecision",)
    UNMODELLED: ClassVar[frozenset[str]] = frozenset({"workspace_id"})

    decision_id: str
    recommendation_type: str
    mode: str
    chosen: list[RoutedAgent]
    applied_rules: list[str]
    decided_at: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)
    requested_k: int | None = None  # None: a service older than the field

    @property
    def agent_ids(self) -> list[str]:
        """The chosen agents in rank order: ``agent_ids[0]`` is the router's first choice."""
        return [agent.agent_id for agent in sorted(self.chosen, key=lambda a: a.rank)]

    def probability(self, agent_id: str) -> float | None:
        """The probability this decision chose ``agent_id`` (None if it did not)."""
        return next((a.probability for a in self.chosen if a.agent_id == agent_id), None)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> RoutingDecision:
        return cls(
            decision_id=body["decision_id"],
            recommendation_type=body["recommendation_type"],
            mode=body["mode"],
            chosen=[
                RoutedAgent(
                    agent_id=c["agent_id"],
                    rank=c["rank"],
                    probability=c["probability"],
                    expected_success=c["expected_success"],
                    score=c["score"],
                )
                for c in body["chosen"]
            ],
            applied_rules=list(body.get("applied_rules", [])),
            decided_at=_time(body.get("decided_at")),
            raw=body,
            requested_k=body.get("requested_k"),
        )


@dataclass(frozen=True)
class DecisionBoost:
    SCHEMAS: ClassVar[tuple[str, ...]] = ("DecisionBoostResponse",)
    UNMODELLED: ClassVar[frozenset[str]] = frozenset({"workspace_id"})

    agent_id: str
    recommendation_type: str
    decision_boost: float  # in [0.5, 1.5]; 1.0 without evidence
    accuracy_score: float
    confidence_factor: float
    evaluated: int
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> DecisionBoost:
        return cls(
            agent_id=body["agent_id"],
            recommendation_type=body["recommendation_type"],
            decision_boost=body["decision_boost"],
            accuracy_score=body["accuracy_score"],
            confidence_factor=body["confidence_factor"],
            evaluated=body["evaluated"],
            raw=body,
        )


@dataclass(frozen=True)
class TrustScore:
    SCHEMAS: ClassVar[tuple[str, ...]] = ("TrustScoreResponse",)
    # The detail behind the scores: in ``raw`` (docs/api.md, "Trust and routing").
    UNMODELLED: ClassVar[frozenset[str]] = frozenset(
        {
            "workspace_id",
            "overall_trust_upper_bound",
            "accuracy_lower_bound",
            "accuracy_upper_bound",
            "calibration_score",
            "expected_calibration_error",
            "stability_score",
            "avg_quality_score",
            "avg_latency_ms",
            "avg_tokens",
            "brier_score",
            "recent_success_rate",
            "baseline_success_rate",
            "evidence",
            "consistency_factor",
            "timeliness_factor",
            "reliability_factor",
            "workspace_approval_rate",
            "trend_basis",
            "trend_recent_outcomes",
            "trend_baseline_outcomes",
            "accuracy_adjustment",
            "consistency_adjustment",
            "adjustments",
            "calibration",
            "by_type",
            "decision_boosts",
            "computed_at",
        }
    )

    agent_id: str
    agent_name: str
    overall_trust_score: float
    overall_trust_lower_bound: float
    accuracy_score: float
    consistency_score: float
    timeliness_score: float
    reliability_score: float
    confidence_factor: float
    trend: str
    recommendation_strength: str
    provisional: bool
    raw: dict[str, Any] = field(repr=False, compare=False)
    approval_rate: float | None = None  # (approved + partial/2) / evaluated
    # The count behind each dimension; None where nothing was reported (then it repeats accuracy).
    dimension_evidence: dict[str, int | None] | None = None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> TrustScore:
        return cls(
            agent_id=body["agent_id"],
            agent_name=body["agent_name"],
            overall_trust_score=body["overall_trust_score"],
            overall_trust_lower_bound=body["overall_trust_lower_bound"],
            accuracy_score=body["accuracy_score"],
            consistency_score=body["consistency_score"],
            timeliness_score=body["timeliness_score"],
            reliability_score=body["reliability_score"],
            confidence_factor=body["confidence_factor"],
            trend=body["trend"],
            recommendation_strength=body["recommendation_strength"],
            provisional=body["provisional"],
            raw=body,
            approval_rate=body.get("approval_rate"),
            dimension_evidence=body.get("dimension_evidence"),
        )


@dataclass(frozen=True)
class DecisionRule:
    SCHEMAS: ClassVar[tuple[str, ...]] = ("DecisionRuleView",)
    UNMODELLED: ClassVar[frozenset[str]] = frozenset()

    rule_id: str
    conditions: dict[str, Any]
    action: str
    parameters: dict[str, Any]
    expected_success: float  # an approval rate: of what the rule favours, or of what it keeps
    support: int
    raw: dict[str, Any] = field(repr=False, compare=False)
    expected_success_basis: str = "matched"  # "matched" (favoured) or "kept" (what is left)
    source: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> DecisionRule:
        return cls(
            rule_id=body["rule_id"],
            conditions=body["conditions"],
            action=body["action"],
            parameters=body["parameters"],
            expected_success=body["expected_success"],
            support=body["support"],
            raw=body,
            expected_success_basis=body.get("expected_success_basis", "matched"),
            source=list(body.get("source", [])),
        )


@dataclass(frozen=True)
class LearningCycle:
    """A learning cycle's iteration: ``queued``, ``running``, ``succeeded``, ``failed`` or ``skipped``."""

    # The trigger's 202 answer, and the iteration as GET /learning-cycles/{id} answers it.
    SCHEMAS: ClassVar[tuple[str, ...]] = ("LearningIteration", "LearningCycleAccepted")
    UNMODELLED: ClassVar[frozenset[str]] = frozenset(
        {"workspace_id", "trigger", "lookback_days", "min_pattern_confidence", "started_at", "status_path"}
    )

    iteration_id: str
    status: str
    requested_at: datetime | None
    completed_at: datetime | None
    error: str | None
    result: dict[str, Any] | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed", "skipped")

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> LearningCycle:
        return cls(
            iteration_id=body["iteration_id"],
            status=body["status"],
            requested_at=_time(body.get("requested_at")),
            completed_at=_time(body.get("completed_at")),
            error=body.get("error"),
            result=body.get("result"),
            raw=body,
        )


@dataclass(frozen=True)
class Pattern:
    SCHEMAS: ClassVar[tuple[str, ...]] = ("PatternView",)
    UNMODELLED: ClassVar[frozenset[str]] = frozenset(
        {"status", "confirmations", "first_seen_at", "last_confirmed_at", "last_validated_at"}
    )

    pattern_id: str
    category: str
    condition: list[str]
    description: str
    success_rate: float
    frequency_count: int
    confidence_level: float  # 1 - one-sided p-value: near 1 for every discovery
    recommendation_strength: str
    raw: dict[str, Any] = field(repr=False, compare=False)
    lift: float | None = None  # on the approval scale
    lift_lower_bound: float | None = None  # its 95 % interval
    lift_upper_bound: float | None = None
    q_value: float | None = None  # Benjamini-Hochberg adjusted p-value: what separates patterns

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Pattern:
        return cls(
            pattern_id=body["pattern_id"],
            category=body["category"],
            condition=list(body["condition"]),
            description=body["description"],
            success_rate=body["success_rate"],
            frequency_count=body["frequency_count"],
            confidence_level=body["confidence_level"],
            recommendation_strength=body["recommendation_strength"],
            raw=body,
            lift=body.get("lift"),
            lift_lower_bound=body.get("lift_lower_bound"),
            lift_upper_bound=body.get("lift_upper_bound"),
            q_value=body.get("q_value"),
        )


@dataclass(frozen=True)
class AgentProfile:
    SCHEMAS: ClassVar[tuple[str, ...]] = ("AgentProfileView",)
    UNMODELLED: ClassVar[frozenset[str]] = frozenset(
        {"workspace_id", "consensus_share", "iteration_id", "learned_at"}
    )

    agent_id: str
    evaluated: int
    approval_rate: float  # (approved + partial/2) / evaluated, as in trust scores
    strengths: list[dict[str, Any]]
    weaknesses: list[dict[str, Any]]
    calibration_gap: float
    trend: str  # improving, declining or stable
    consensus_builder: bool
    raw: dict[str, Any] = field(repr=False, compare=False)
    strict_approval_rate: float | None = None  # approved / evaluated
    trend_slope: float | None = None  # later half's strict approval rate minus the earlier half's

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> AgentProfile:
        return cls(
            agent_id=body["agent_id"],
            evaluated=body["evaluated"],
            approval_rate=body["approval_rate"],
            strengths=list(body["strengths"]),
            weaknesses=list(body["weaknesses"]),
            calibration_gap=body["calibration_gap"],
            trend=body["trend"],
            consensus_builder=body["consensus_builder"],
            raw=body,
            strict_approval_rate=body.get("strict_approval_rate"),
            trend_slope=body.get("trend_slope"),
        )


@dataclass(frozen=True)
class WorkspaceSettings:
    """``GET``/``PUT /workspace-settings``: null fields are not set."""

    SCHEMAS: ClassVar[tuple[str, ...]] = ("WorkspaceSettings",)
    UNMODELLED: ClassVar[frozenset[str]] = frozenset()

    workspace_id: str
    allowed_recommendation_types: list[str] | None
    default_recommendation_type: str | None
    min_trust: float | None
    updated_at: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> WorkspaceSettings:
        allowed = body.get("allowed_recommendation_types")
        return cls(
            workspace_id=body["workspace_id"],
            allowed_recommendation_types=list(allowed) if allowed is not None else None,
            default_recommendation_type=body.get("default_recommendation_type"),
            min_trust=body.get("min_trust"),
            updated_at=_time(body.get("updated_at")),
            raw=body,
        )


@dataclass(frozen=True)
class Alert:
    """A change worth knowing (``GET /alerts``; the same alert is an event on the bus): its kind,
    the agent (None for workspace alerts), the figures before and after, the evidence behind them
    and where to look on the dashboard."""

    SCHEMAS: ClassVar[tuple[str, ...]] = ("AlertDetail",)
    UNMODELLED: ClassVar[frozenset[str]] = frozenset({"workspace_id", "subject", "previous_state"})

    alert_id: str
    kind: str
    agent_id: str | None
    state: str
    before: float | None
    after: float | None
    evidence_n: int
    details: dict[str, Any]
    dashboard_path: str
    raised_at: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Alert:
        return cls(
            alert_id=body["alert_id"],
            kind=body["kind"],
            agent_id=body.get("agent_id"),
            state=body["state"],
            before=body.get("before"),
            after=body.get("after"),
            evidence_n=body["evidence_n"],
            details=dict(body.get("details") or {}),
            dashboard_path=body["dashboard_path"],
            raised_at=_time(body.get("raised_at")),
            raw=body,
        )


@dataclass(frozen=True)
class AlertPage:
    """One page of alerts, newest first; pass ``next_token`` for the next (None: the last page)."""

    items: list[Alert]
    next_token: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> AlertPage:
        return cls(
            items=[Alert.from_json(a) for a in body["items"]], next_token=body.get("next_token"), raw=body
        )


@dataclass
class AgentRecommendation:
    """What an agent function returns for ``@client.tracked``: the recommendation, and after the
    decorator ran, the ``recommendation_id`` it was tracked under."""

    recommendation_content: dict[str, Any]
    confidence_score: float
    reasoning: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    recommendation_id: str | None = None


@dataclass(frozen=True)
class EventFailure:
    """An event the service refused (or the sender gave up on): given to ``on_error``."""

    event: dict[str, Any]
    status: int | None
    error: str
    message: str
    field: str | None


@dataclass(frozen=True)
class Estimate:
    """An approval rate (approved 1, partial 1/2) with its 95 % interval (None below 2 decisions)."""

    SCHEMAS: ClassVar[tuple[str, ...]] = ("EstimateView",)
    UNMODELLED: ClassVar[frozenset[str]] = frozenset()

    value: float
    lower: float | None
    upper: float | None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Estimate:
        return cls(value=body["value"], lower=body.get("lower"), upper=body.get("upper"))


@dataclass(frozen=True)
class PolicyEstimate:
    SCHEMAS: ClassVar[tuple[str, ...]] = ("PolicyEvaluation",)
    UNMODELLED: ClassVar[frozenset[str]] = frozenset()

    policy: str
    agent_id: str | None
    apply_rules: bool
    estimates: dict[str, Estimate]  # by estimator: ips, snips, dr
    effective_sample_size: float
    thin_support: bool = False  # effective sample size under 100: the interval is too narrow


@dataclass(frozen=True)
class RoutingEvaluation:
    """``evaluate_routing``: what each routing policy would have achieved on the logged decisions."""

    SCHEMAS: ClassVar[tuple[str, ...]] = ("RoutingEvaluationResponse",)
    UNMODELLED: ClassVar[frozenset[str]] = frozenset({"recommendation_type", "since", "until"})

    workspace_id: str
    decisions: int
    skipped: dict[str, int]  # no_outcome, no_support, not_logged
    logged: Estimate | None  # what the logged routing achieved
    policies: list[PolicyEstimate]
    best: dict[str, Any] | None  # policy, agent_id, apply_rules, estimator, beats_logged
    raw: dict[str, Any] = field(repr=False, compare=False)
    # agent_id, agent (its estimate), difference (router - agent), significantly_worse
    against_best_agent: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> RoutingEvaluation:
        return cls(
            workspace_id=body["workspace_id"],
            decisions=body["decisions"],
            skipped=dict(body["skipped"]),
            logged=Estimate.from_json(body["logged"]) if body.get("logged") else None,
            policies=[
                PolicyEstimate(
                    policy=p["policy"],
                    agent_id=p.get("agent_id"),
                    apply_rules=p["apply_rules"],
                    estimates={name: Estimate.from_json(e) for name, e in p["estimates"].items()},
                    effective_sample_size=p["effective_sample_size"],
                    thin_support=p.get("thin_support", False),
                )
                for p in body["policies"]
            ],
            best=body.get("best"),
            raw=body,
            against_best_agent=body.get("against_best_agent"),
        )
