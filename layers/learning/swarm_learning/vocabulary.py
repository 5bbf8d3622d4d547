"""The service's shared vocabularies, imported by the models and the domain maths alike."""

from enum import StrEnum


class RecommendationStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    PARTIAL = "partial"


class Outcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    PARTIAL = "partial"


class ExecutionStatus(StrEnum):
    """How producing the recommendation went; failures feed the reliability dimension."""

    COMPLETED = "completed"
    FAILED = "failed"
    TIMED_OUT = "timed_out"


class Trend(StrEnum):
    IMPROVING = "improving"
    DECLINING = "declining"
    STABLE = "stable"


class Strength(StrEnum):
    WEAK = "weak"
    MODERATE = "moderate"
    STRONG = "strong"
    VERY_STRONG = "very_strong"


class RoutingMode(StrEnum):
    EXPLORE = "explore"
    EXPLOIT = "exploit"


class PatternCategory(StrEnum):
    """The seed's five pattern types."""

    HIGH_CONFIDENCE = "high_confidence"
    CONSENSUS = "consensus"
    EXPERT_OPINION = "expert_opinion"
    FAILURE_AVOIDANCE = "failure_avoidance"
    SUCCESS_INDICATOR = "success_indicator"


class IterationStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # another cycle of the workspace held the lease


class CycleTrigger(StrEnum):
    SCHEDULE = "schedule"
    ON_DEMAND = "on_demand"


class AlertKind(StrEnum):
    """The alerts published on the event bus: each value is the event's detail-type
    (docs/alerts.md has their schemas)."""

    AGENT_TRUST_DECLINED = "AgentTrustDeclined"
    AGENT_TRUST_RECOVERED = "AgentTrustRecovered"
    AGENT_TRUST_THRESHOLD_CROSSED = "AgentTrustThresholdCrossed"
    LEARNING_CYCLE_BELOW_TARGET = "LearningCycleBelowTarget"
    LEARNING_CYCLE_FAILED = "LearningCycleFailed"
    ROUTING_UNDERPERFORMING = "RoutingUnderperforming"
