"""Trust scores from the statistics buckets: get, list, initialise, adjust, and the decision boost."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ulid import ULID

from swarm_learning.clock import Clock, utcnow
from swarm_learning.config import Settings
from swarm_learning.dal.items import Bucket
from swarm_learning.dal.store import LearningStore
from swarm_learning.domain import approval, trust, trust_values
from swarm_learning.domain.counters import add_counters
from swarm_learning.errors import NotFoundError
from swarm_learning.models.trust import (
    DecisionBoostResponse,
    InitializeTrustRequest,
    TrustAdjustmentResponse,
    TrustDimensions,
    TrustScoreList,
    TrustScoreResponse,
    TrustScoreUpdate,
    TrustSortKey,
)
from swarm_learning.parallel import AGENT_READS, map_all

# A manual update moves a dimension by at most the learning rate; all of them together by at most
# this much, so adjustments can correct a score but never replace the evidence.
MAX_TOTAL_ADJUSTMENT = 0.25


def day_counters(buckets: Iterable[Bucket]) -> list[trust_values.DayCounters]:
    return [trust_values.DayCounters(b.day, b.counters) for b in buckets]


def _dimensions(score: trust_values.TrustScore) -> dict[str, Any]:
    fields = asdict(score)
    fields.pop("calibration")
    fields.pop("posterior_alpha")
    fields.pop("posterior_beta")
    return fields


def _clip(value: float, bound: float) -> float:
    return min(max(value, -bound), bound)


@dataclass(frozen=True)
class WorkspaceBaselines:
    """A workspace's per-type counters over the trust window (decayed and raw) and their total."""

    decayed: dict[str, dict[str, float]]
    raw: dict[str, dict[str, float]]
    total: dict[str, float]

    def baseline(self, recommendation_type: str) -> trust_values.Baseline:
        return trust_values.Baseline.of(
            self.decayed.get(recommendation_type, {}), self.raw.get(recommendation_type, {})
        )


class TrustScores:
    """Scores an agent (per type and overall) against its workspace, on demand."""

    def __init__(
        self,
        store: LearningStore,
        settings: Settings,
        config: trust_values.TrustConfig | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self._store = store
        self._settings = settings
        self._config = config or trust_values.TrustConfig()
        self._clock = clock

    @property
    def config(self) -> trust_values.TrustConfig:
        return self._config

    @property
    def settings(self) -> Settings:
        return self._settings

    def window(self, today: date) -> tuple[date, date]:
        """The days trust reads: the retention period up to ``today``."""
        return today - timedelta(days=self._settings.retention_days - 1), today

    def workspace_baselines(self, workspace_id: str, today: date) -> WorkspaceBaselines:
        """The workspace's per-type totals over the window: one Query per statistics shard, run
        concurrently, of the counters a baseline reads; read once per request, however many agents
        it scores."""
        first, last = self.window(today)
        buckets = self._store.workspace_buckets(
            workspace_id, first_day=first, last_day=last, counters=trust_values.BASELINE_COUNTERS
        )
        types = {b.recommendation_type for b in buckets if b.recommendation_type is not None}
        decayed = {
            rtype: trust.decayed_counters(
                day_counters(b for b in buckets if b.recommendation_type == rtype),
                today,
                self._config.half_life_days,
            )
            for rtype in types
        }
        raw = {
            rtype: add_counters(b.counters for b in buckets if b.recommendation_type == rtype)
            for rtype in types
        }
        return WorkspaceBaselines(decayed, raw, add_counters(raw.values()))

    def _recent_outcomes(self, workspace_id: str, agent_id: str, now: datetime) -> list[float]:
        statuses = self._store.recent_outcomes(
            workspace_id, agent_id, limit=self._config.outcome_trend_window, now=now
        )
        return [1.0 if status == "approved" else 0.0 for status in statuses]

    def score(
        self, workspace_id: str, entry: dict[str, Any], now: datetime, workspace: WorkspaceBaselines
    ) -> TrustScoreResponse:
        """One agent's trust (``entry`` is its directory entry) against its workspace's baselines."""
        today = now.date()
        first, last = self.window(today)
        buckets = self._store.agent_buckets(workspace_id, entry["agent_id"], first_day=first, last_day=last)
        overall_days = day_counters(b for b in buckets if b.recommendation_type is None)
        # The order of outcomes is read only when the day windows cannot judge the trend.
        recent = (
            None
            if trust.day_windows_can_judge(overall_days, today, self._config)
            else self._recent_outcomes(workspace_id, entry["agent_id"], now)
        )
        accuracy_adj = _clip(float(entry.get("adj_accuracy", 0.0)), MAX_TOTAL_ADJUSTMENT)
        consistency_adj = _clip(float(entry.get("adj_consistency", 0.0)), MAX_TOTAL_ADJUSTMENT)
        types = sorted({b.recommendation_type for b in buckets if b.recommendation_type is not None})
        shares = {
            rtype: sum(b.counters.get("tracked", 0.0) for b in buckets if b.recommendation_type == rtype)
            for rtype in types
        }
        overall = trust.score(
            overall_days,
            today,
            self._config,
            baseline=trust_values.Baseline.for_mix(shares, workspace.decayed, workspace.total),
            recent_outcomes=recent,
            accuracy_adjustment=accuracy_adj,
            consistency_adjustment=consistency_adj,
        )
        type_scores = {
            rtype: trust.score(
                day_counters(b for b in buckets if b.recommendation_type == rtype),
                today,
                self._config,
                baseline=workspace.baseline(rtype),
            )
            for rtype in types
        }
        by_type = {rtype: TrustDimensions.model_validate(_dimensions(s)) for rtype, s in type_scores.items()}
        return TrustScoreResponse.model_validate(
            {
                **_dimensions(overall),
                "workspace_id": workspace_id,
                "agent_id": entry["agent_id"],
                "agent_name": entry.get("agent_name") or entry["agent_id"],
                "accuracy_adjustment": accuracy_adj,
                "consistency_adjustment": consistency_adj,
                "adjustments": int(entry.get("adjustments", 0)),
                "calibration": [asdict(b) for b in overall.calibration],
                "by_type": by_type,
                "decision_boosts": {
                    rtype: approval.decision_boost(s, self._config) for rtype, s in type_scores.items()
                },
                "computed_at": now,
            }
        )

    def get(self, workspace_id: str, agent_id: str) -> TrustScoreResponse:
        entry = self._store.agent_directory_entry(workspace_id, agent_id)
        if entry is None:
            raise NotFoundError(f"agent {agent_id} not found", field="agent_id")
        now = self._clock()
        return self.score(workspace_id, entry, now, self.workspace_baselines(workspace_id, now.date()))

    def list(
        self,
        workspace_id: str,
        *,
        min_trust: float | None = None,
        sort_by: TrustSortKey = TrustSortKey.OVERALL,
        descending: bool = True,
    ) -> TrustScoreList:
        """Every agent's trust; ``min_trust`` (the specification's get_trusted_agents) keeps the agents whose
        ``overall_trust_score`` reaches it (thin evidence is already discounted by the confidence
        factor). The workspace's totals are read once for all agents."""
        now = self._clock()
        agents = self._store.list_agents(workspace_id)
        workspace = self.workspace_baselines(workspace_id, now.date())
        scores = map_all(AGENT_READS, lambda entry: self.score(workspace_id, entry, now, workspace), agents)
        if min_trust is not None:
            scores = [s for s in scores if s.overall_trust_score >= min_trust]
        scores.sort(key=lambda s: getattr(s, sort_by.value), reverse=descending)
        return TrustScoreList(workspace_id=workspace_id, items=scores, count=len(scores))

    def initialize(self, request: InitializeTrustRequest) -> tuple[TrustScoreResponse, bool]:
        """The specification's initialize_trust_score: register the agent (idempotent); True if new."""
        now = self._clock()
        created = self._store.register_agent(
            request.workspace_id, request.agent_id, request.agent_name, now=now
        )
        return self.get(request.workspace_id, request.agent_id), created

    def adjust(self, agent_id: str, update: TrustScoreUpdate) -> TrustAdjustmentResponse:
        """The specification's update_trust_score: ``delta = learning_rate * (quality_factor + impact)``
        with ``quality_factor = overall_quality / 100 - 0.5``, each delta bounded by the learning
        rate and recorded with its reason."""
        now = self._clock()
        quality_factor = update.outcome_quality_score / 100 - 0.5
        rate = update.learning_rate
        accuracy_delta = _clip(rate * (quality_factor + update.accuracy_impact), rate)
        consistency_delta = _clip(rate * (quality_factor + update.consistency_impact), rate)
        adjustment_id = "adj_" + str(ULID.from_datetime(now))
        self._store.record_adjustment(
            update.workspace_id,
            agent_id,
            {
                "adjustment_id": adjustment_id,
                "recommendation_id": update.recommendation_id,
                "outcome_quality_score": update.outcome_quality_score,
                "accuracy_impact": update.accuracy_impact,
                "consistency_impact": update.consistency_impact,
                "learning_rate": rate,
                "accuracy_delta": accuracy_delta,
                "consistency_delta": consistency_delta,
                "reason": update.reason,
                "adjusted_at": now,
            },
        )
        return TrustAdjustmentResponse(
            adjustment_id=adjustment_id,
            accuracy_delta=accuracy_delta,
            consistency_delta=consistency_delta,
            trust=self.get(update.workspace_id, agent_id),
        )

    def _type_score(
        self, workspace_id: str, agent_id: str, recommendation_type: str, today: date
    ) -> trust_values.TrustScore:
        first, last = self.window(today)
        buckets = self._store.agent_scope_buckets(
            workspace_id, agent_id, recommendation_type, first_day=first, last_day=last
        )
        baseline = self.workspace_baselines(workspace_id, today).baseline(recommendation_type)
        return trust.score(day_counters(buckets), today, self._config, baseline=baseline)

    def decision_boost(
        self, workspace_id: str, agent_id: str, recommendation_type: str
    ) -> DecisionBoostResponse:
        """The specification's get_agent_decision_boost, from the agent's trust for that type."""
        score = self._type_score(workspace_id, agent_id, recommendation_type, self._clock().date())
        return DecisionBoostResponse(
            workspace_id=workspace_id,
            agent_id=agent_id,
            recommendation_type=recommendation_type,
            decision_boost=approval.decision_boost(score, self._config),
            accuracy_score=score.accuracy_score,
            confidence_factor=score.confidence_factor,
            evaluated=score.evidence.evaluated,
        )


def trust_config(settings: Settings) -> trust_values.TrustConfig:
    """The trust model's tunables from the environment (defaults in docs/trust.md)."""
    accuracy, consistency, timeliness, reliability = settings.trust_weights
    return trust_values.TrustConfig(
        prior_alpha=settings.trust_prior_alpha,
        prior_beta=settings.trust_prior_beta,
        half_life_days=settings.trust_half_life_days,
        weights=trust_values.TrustWeights(accuracy, consistency, timeliness, reliability),
        confidence_k=settings.trust_confidence_k,
        latency_target_ms=settings.trust_latency_target_ms,
        min_sample=settings.trust_min_sample,
        trend_z=settings.trust_trend_z,
        outcome_trend_z=settings.trust_outcome_trend_z,
    )
