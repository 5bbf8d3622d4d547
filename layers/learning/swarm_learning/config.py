"""Configuration, parsed once from environment variables into a validated model."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Settings(BaseModel):
    """Every tunable of the service, with its documented default (docs/configuration.md)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    recommendations_table: str = Field(alias="RECOMMENDATIONS_TABLE")
    statistics_table: str = Field(alias="STATISTICS_TABLE")
    idempotency_table: str = Field(default="", alias="IDEMPOTENCY_TABLE")
    decisions_table: str = Field(default="", alias="DECISIONS_TABLE")
    learner_table: str = Field(default="", alias="LEARNER_TABLE")
    api_keys_table: str = Field(default="", alias="API_KEYS_TABLE")

    retention_days: int = Field(default=90, ge=1, le=3650, alias="RETENTION_DAYS")
    trust_history_days: int = Field(default=365, ge=1, le=3650, alias="TRUST_HISTORY_DAYS")
    learner_history_days: int = Field(default=90, ge=1, le=3650, alias="LEARNER_HISTORY_DAYS")
    # A workspace's time-ordered writes and its statistics are spread over this many
    # partition keys so one busy workspace is not capped by one partition's write limit.
    workspace_shards: int = Field(default=8, ge=1, le=64, alias="WORKSPACE_SHARDS")

    # Outcome derived from overall_quality_score when the evaluator does not state one:
    # score >= approved_min -> approved, >= partial_min -> partial, else rejected.
    outcome_approved_min: float = Field(default=70.0, ge=0, le=100, alias="OUTCOME_APPROVED_MIN")
    outcome_partial_min: float = Field(default=40.0, ge=0, le=100, alias="OUTCOME_PARTIAL_MIN")

    idempotency_ttl_seconds: int = Field(default=3600, ge=60, alias="IDEMPOTENCY_TTL_SECONDS")
    # A client-minted id's timestamp may lag the server's clock by this much (events queued while
    # the service was unreachable, a Lambda frozen between invocations) and lead it by this much
    # (clock skew); anything further is a 422 naming the id.
    client_id_max_age_seconds: int = Field(default=86_400, ge=60, alias="CLIENT_ID_MAX_AGE_SECONDS")
    client_id_max_lead_seconds: int = Field(default=300, ge=1, alias="CLIENT_ID_MAX_LEAD_SECONDS")

    # OTLP receiver (docs/otlp.md): the type of an agent span without swarm.recommendation_type,
    # how long an evaluation that arrives before its span is kept, and the most a gzip body may
    # inflate to (decompressed as a bounded stream; more is a 413).
    otlp_default_recommendation_type: str = Field(
        default="agent_run", pattern=r"^[a-z][a-z0-9_]{0,39}$", alias="OTLP_DEFAULT_RECOMMENDATION_TYPE"
    )
    otlp_early_evaluation_seconds: int = Field(
        default=3600, ge=60, le=86_400, alias="OTLP_EARLY_EVALUATION_SECONDS"
    )
    otlp_max_decompressed_bytes: int = Field(
        default=4 * 1024 * 1024, ge=64 * 1024, le=32 * 1024 * 1024, alias="OTLP_MAX_DECOMPRESSED_BYTES"
    )

    # Trust model (docs/trust.md).
    trust_prior_alpha: float = Field(default=1.0, gt=0, alias="TRUST_PRIOR_ALPHA")
    trust_prior_beta: float = Field(default=1.0, gt=0, alias="TRUST_PRIOR_BETA")
    trust_half_life_days: float = Field(default=30.0, gt=0, alias="TRUST_HALF_LIFE_DAYS")
    trust_weights: tuple[float, float, float, float] = Field(
        default=(0.40, 0.25, 0.15, 0.20),
        alias="TRUST_WEIGHTS",
        description="accuracy, consistency, timeliness, reliability; comma-separated, summing to 1",
    )
    trust_confidence_k: float = Field(default=5.0, gt=0, alias="TRUST_CONFIDENCE_K")
    trust_latency_target_ms: float = Field(default=30_000.0, gt=0, alias="TRUST_LATENCY_TARGET_MS")
    trust_min_sample: int = Field(default=10, ge=0, alias="TRUST_MIN_SAMPLE")
    trust_trend_z: float = Field(default=3.0, gt=0, alias="TRUST_TREND_Z")
    trust_outcome_trend_z: float = Field(default=3.25, gt=0, alias="TRUST_OUTCOME_TREND_Z")

    # Routing (docs/trust.md): the share of first slots given to a uniform choice among the
    # candidates, so every candidate keeps a probability >= floor / K and offline evaluation has
    # support; and the decisions a learning cycle needs before it reports the rules' effect.
    routing_exploration_floor: float = Field(default=0.05, ge=0, le=1, alias="ROUTING_EXPLORATION_FLOOR")
    routing_evaluation_min_decisions: int = Field(default=100, ge=2, alias="ROUTING_EVALUATION_MIN_DECISIONS")

    # Alerts (docs/alerts.md): the min_trust a workspace's AgentTrustThresholdCrossed is judged
    # against when the workspace has not set its own.
    alert_min_trust: float = Field(default=0.7, ge=0, le=1, alias="ALERT_MIN_TRUST")

    # Learning cycle (docs/learning.md).
    event_bus_name: str = Field(default="", alias="EVENT_BUS_NAME")
    learning_lookback_days: int = Field(default=7, ge=1, le=90, alias="LEARNING_LOOKBACK_DAYS")
    learning_min_pattern_confidence: float = Field(
        default=0.7, ge=0.5, le=0.99, alias="LEARNING_MIN_PATTERN_CONFIDENCE"
    )
    # should-trigger: this many outcomes since the last cycle, or this long since it (and at least one).
    learning_trigger_min_outcomes: int = Field(default=50, ge=1, alias="LEARNING_TRIGGER_MIN_OUTCOMES")
    learning_trigger_max_hours: float = Field(default=24.0, gt=0, alias="LEARNING_TRIGGER_MAX_HOURS")
    learning_lease_seconds: int = Field(default=900, ge=60, le=86_400, alias="LEARNING_LEASE_SECONDS")
    learning_history_iterations: int = Field(default=30, ge=1, le=365, alias="LEARNING_HISTORY_ITERATIONS")
    # Optional: an Amazon Bedrock model that rewrites the cycle's insight text (empty = never called).
    bedrock_model_id: str = Field(default="", alias="BEDROCK_MODEL_ID")

    @field_validator("trust_weights", mode="before")
    @classmethod
    def _parse_weights(cls, value: object) -> object:
        return tuple(float(part) for part in value.split(",")) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> Settings:
        if self.outcome_partial_min > self.outcome_approved_min:
            raise ValueError("OUTCOME_PARTIAL_MIN must not exceed OUTCOME_APPROVED_MIN")
        if any(w < 0 for w in self.trust_weights) or abs(sum(self.trust_weights) - 1) > 1e-6:
            raise ValueError("TRUST_WEIGHTS must be four non-negative weights summing to 1")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after changing env."""
    return Settings.model_validate(dict(os.environ))
