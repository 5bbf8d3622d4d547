"""Typed results of the decision calls. Each keeps the service's full answer in ``raw``, so a field
the service adds later is reachable before this client names it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class RoutedAgent:
    agent_id: str
    rank: int
    probability: float  # that the policy chooses this agent
    expected_success: float
    score: float


@dataclass(frozen=True)
class RoutingDecision:
    """``select_agents``: the chosen agents, best first, and the decision's id."""

    decision_id: str
    recommendation_type: str
    mode: str
    chosen: list[RoutedAgent]
    applied_rules: list[str]
    decided_at: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def agent_ids(self) -> list[str]:
        return [agent.agent_id for agent in self.chosen]

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
        )


@dataclass(frozen=True)
class DecisionBoost:
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
        )


@dataclass(frozen=True)
class DecisionRule:
    rule_id: str
    conditions: dict[str, Any]
    action: str
    parameters: dict[str, Any]
    expected_success: float
    support: int
    raw: dict[str, Any] = field(repr=False, compare=False)

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
        )


@dataclass(frozen=True)
class LearningCycle:
    """A learning cycle's iteration: ``queued``, ``running``, ``succeeded``, ``failed`` or ``skipped``."""

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
    pattern_id: str
    category: str
    condition: list[str]
    description: str
    success_rate: float
    frequency_count: int
    confidence_level: float
    recommendation_strength: str
    raw: dict[str, Any] = field(repr=False, compare=False)

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
        )


@dataclass(frozen=True)
class AgentProfile:
    agent_id: str
    evaluated: int
    approval_rate: float
    strengths: list[dict[str, Any]]
    weaknesses: list[dict[str, Any]]
    calibration_gap: float
    trend: float
    consensus_builder: bool
    raw: dict[str, Any] = field(repr=False, compare=False)

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
        )


@dataclass(frozen=True)
class Alert:
    """A change worth knowing (``GET /alerts``; the same alert is an event on the bus): its kind,
    the agent (None for workspace alerts), the figures before and after, the evidence behind them
    and where to look on the dashboard."""

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

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> AlertPage:
        return cls(items=[Alert.from_json(a) for a in body["items"]], next_token=body.get("next_token"))


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
