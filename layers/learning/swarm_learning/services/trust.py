"""The seed's TrustScorer and the trust side of LearningIntegration, over ``LearningStore``."""

from __future__ import annotations

import builtins
import random
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from ulid import ULID

from swarm_learning.clock import Clock, utcnow
from swarm_learning.config import Settings, get_settings
from swarm_learning.dal.items import Bucket
from swarm_learning.dal.learner_state import LearnerStateStore, get_learner_store
from swarm_learning.dal.store import LearningStore, get_store
from swarm_learning.domain import approval, routing, trust, trust_values
from swarm_learning.domain.counters import add_counters
from swarm_learning.domain.rules import unconditional_for_type
from swarm_learning.errors import NotFoundError
from swarm_learning.ids import DECISION_PREFIX
from swarm_learning.models.trust import (
    DecisionBoostResponse,
    InitializeTrustRequest,
    RoutedAgent,
    RoutingDecision,
    RoutingRequest,
    TrustAdjustmentResponse,
    TrustDimensions,
    TrustHistory,
    TrustScoreList,
    TrustScoreResponse,
    TrustScoreUpdate,
    TrustSnapshot,
    TrustSortKey,
)

# A manual update moves a dimension by at most the learning rate; all of them together by at most
# this much, so adjustments can correct a score but never replace the evidence.
MAX_TOTAL_ADJUSTMENT = 0.25
_PARALLEL_READS = 16


def _days(buckets: Iterable[Bucket]) -> list[trust_values.DayCounters]:
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
class _Workspace:
    """A workspace's per-type counters over the trust window (decayed and raw) and their total."""

    decayed: dict[str, dict[str, float]]
    raw: dict[str, dict[str, float]]
    total: dict[str, float]

    def baseline(self, recommendation_type: str) -> trust_values.Baseline:
        return trust_values.Baseline.of(
            self.decayed.get(recommendation_type, {}), self.raw.get(recommendation_type, {})
        )


class TrustService:
    def __init__(
        self,
        store: LearningStore,
        settings: Settings,
        config: trust_values.TrustConfig | None = None,
        clock: Clock = utcnow,
        learner: LearnerStateStore | None = None,
    ) -> None:
        self._store = store
        self._settings = settings
        self._config = config or trust_values.TrustConfig()
        self._clock = clock
        self._learner = learner

    def _window(self, today: date) -> tuple[date, date]:
        return today - timedelta(days=self._settings.retention_days - 1), today

    # ---- scores ------------------------------------------------------------------------------
    def _workspace(self, workspace_id: str, today: date) -> _Workspace:
        """The workspace's per-type totals over the window: one Query per statistics shard, run
        concurrently; read once per request, however many agents it scores."""
        first, last = self._window(today)
        buckets = self._store.workspace_buckets(workspace_id, first_day=first, last_day=last)
        types = {b.recommendation_type for b in buckets if b.recommendation_type is not None}
        decayed = {
            rtype: trust.decayed_counters(
                _days(b for b in buckets if b.recommendation_type == rtype),
                today,
                self._config.half_life_days,
            )
            for rtype in types
        }
        raw = {
            rtype: add_counters(b.counters for b in buckets if b.recommendation_type == rtype)
            for rtype in types
        }
        return _Workspace(decayed, raw, add_counters(raw.values()))

    def _recent_outcomes(self, workspace_id: str, agent_id: str, now: datetime) -> list[float]:
        statuses = self._store.recent_outcomes(
            workspace_id, agent_id, limit=self._config.outcome_trend_window, now=now
        )
        return [1.0 if status == "approved" else 0.0 for status in statuses]

    def _score(
        self, workspace_id: str, entry: dict[str, Any], now: datetime, workspace: _Workspace
    ) -> TrustScoreResponse:
        today = now.date()
        first, last = self._window(today)
        buckets = self._store.agent_buckets(workspace_id, entry["agent_id"], first_day=first, last_day=last)
        overall_days = _days(b for b in buckets if b.recommendation_type is None)
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
                _days(b for b in buckets if b.recommendation_type == rtype),
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
                "agent_name": entry["agent_name"],
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
        return self._score(workspace_id, entry, now, self._workspace(workspace_id, now.date()))

    def list(
        self,
        workspace_id: str,
        *,
        min_trust: float | None = None,
        sort_by: TrustSortKey = TrustSortKey.OVERALL,
        descending: bool = True,
    ) -> TrustScoreList:
        """Every agent's trust; ``min_trust`` (the seed's get_trusted_agents) keeps the agents whose
        ``overall_trust_score`` reaches it (thin evidence is already discounted by the confidence
        factor). The workspace's totals are read once for all agents."""
        now = self._clock()
        agents = self._store.list_agents(workspace_id)
        workspace = self._workspace(workspace_id, now.date())
        with ThreadPoolExecutor(max_workers=_PARALLEL_READS) as pool:
            scores = list(pool.map(lambda entry: self._score(workspace_id, entry, now, workspace), agents))
        if min_trust is not None:
            scores = [s for s in scores if s.overall_trust_score >= min_trust]
        scores.sort(key=lambda s: getattr(s, sort_by.value), reverse=descending)
        return TrustScoreList(workspace_id=workspace_id, items=scores, count=len(scores))

    def initialize(self, request: InitializeTrustRequest) -> tuple[TrustScoreResponse, bool]:
        """The seed's initialize_trust_score: register the agent (idempotent); True if new."""
        now = self._clock()
        created = self._store.register_agent(
            request.workspace_id, request.agent_id, request.agent_name, now=now
        )
        return self.get(request.workspace_id, request.agent_id), created

    def adjust(self, agent_id: str, update: TrustScoreUpdate) -> TrustAdjustmentResponse:
        """The seed's update_trust_score: ``delta = learning_rate * (quality_factor + impact)``
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
        first, last = self._window(today)
        buckets = self._store.agent_scope_buckets(
            workspace_id, agent_id, recommendation_type, first_day=first, last_day=last
        )
        baseline = self._workspace(workspace_id, today).baseline(recommendation_type)
        return trust.score(_days(buckets), today, self._config, baseline=baseline)

    def decision_boost(
        self, workspace_id: str, agent_id: str, recommendation_type: str
    ) -> DecisionBoostResponse:
        """The seed's get_agent_decision_boost, from the agent's trust for that type."""
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

    # ---- routing -----------------------------------------------------------------------------
    def _routing_rules(self, workspace_id: str, recommendation_type: str) -> builtins.list[dict[str, Any]]:
        """The learned rules that hold for every decision of this type (kept on the learner
        state's pointer item: one read)."""
        if self._learner is None:
            return []
        marker = self._learner.current_marker(workspace_id)
        return [
            rule
            for rule in (marker or {}).get("rules", [])
            if unconditional_for_type(rule["conditions"], recommendation_type)
        ]

    def route(self, request: RoutingRequest) -> RoutingDecision:
        now = self._clock()
        today = now.date()
        first, last = self._window(today)
        plan = routing.RoutingPlan(list(request.candidates), request.k, [])
        if request.apply_rules:
            rules = self._routing_rules(request.workspace_id, request.recommendation_type)
            plan = routing.apply_rules(request.candidates, request.k, rules)

        def posterior(agent: str) -> approval.ApprovalPosterior:
            buckets = self._store.agent_buckets(request.workspace_id, agent, first_day=first, last_day=last)
            return approval.approval_posterior(
                _days(b for b in buckets if b.recommendation_type == request.recommendation_type),
                _days(b for b in buckets if b.recommendation_type is None),
                today,
                self._config,
            )

        with ThreadPoolExecutor(max_workers=min(_PARALLEL_READS, len(plan.candidates))) as pool:
            posteriors: Sequence[approval.ApprovalPosterior] = list(pool.map(posterior, plan.candidates))
        candidates = [
            routing.Candidate(agent, p.alpha, p.beta, p.lower_bound)
            for agent, p in zip(plan.candidates, posteriors, strict=True)
        ]
        decision_id = DECISION_PREFIX + str(ULID.from_datetime(now))
        # Seeded by the decision id: the logged decision can be replayed exactly.
        rng = random.Random(decision_id)  # noqa: S311 - sampling, not secrets
        choices = routing.select_planned(candidates, plan, rng, mode=request.mode)
        decision = RoutingDecision(
            decision_id=decision_id,
            workspace_id=request.workspace_id,
            recommendation_type=request.recommendation_type,
            mode=request.mode,
            chosen=[RoutedAgent(**asdict(c)) for c in choices],
            applied_rules=plan.applied_rules,
            decided_at=now,
        )
        self._store.log_routing_decision(
            {
                **decision.model_dump(mode="json", exclude={"decided_at"}),
                "decided_at": now,
                "candidates": [asdict(c) for c in candidates],
                "correlation_id": request.correlation_id,
            }
        )
        return decision

    # ---- the refresh job ---------------------------------------------------------------------
    def refresh_all(self, run_at: datetime) -> dict[str, int]:
        """Recompute every agent's trust and store a snapshot per agent (the trust-refresh job)."""
        workspaces: dict[str, _Workspace] = {}
        lock = threading.Lock()

        def workspace_of(workspace_id: str) -> _Workspace:
            # Each workspace's totals are read once per run, whichever thread gets there first.
            with lock:
                if workspace_id not in workspaces:
                    workspaces[workspace_id] = self._workspace(workspace_id, run_at.date())
                return workspaces[workspace_id]

        def refresh(entry: dict[str, Any]) -> str:
            workspace_id = entry["workspace_id"]
            score = self._score(workspace_id, entry, run_at, workspace_of(workspace_id))
            self._store.put_trust_snapshot(
                workspace_id,
                entry["agent_id"],
                {
                    **score.model_dump(mode="json", exclude={"computed_at", "calibration"}),
                    "computed_at": run_at,
                },
            )
            return workspace_id

        refreshed: dict[str, int] = {}
        with ThreadPoolExecutor(max_workers=_PARALLEL_READS) as pool:
            for workspace_id in pool.map(refresh, self._store.iter_all_agents()):
                refreshed[workspace_id] = refreshed.get(workspace_id, 0) + 1
        return refreshed

    def history(self, workspace_id: str, agent_id: str, *, limit: int) -> TrustHistory:
        """The refresh job's snapshots, newest first (for trends and charts)."""
        if self._store.agent_directory_entry(workspace_id, agent_id) is None:
            raise NotFoundError(f"agent {agent_id} not found", field="agent_id")
        snapshots = self._store.trust_history(workspace_id, agent_id, limit=limit)
        fields = set(TrustSnapshot.model_fields) - {"evaluated"}
        return TrustHistory(
            workspace_id=workspace_id,
            agent_id=agent_id,
            items=[
                TrustSnapshot.model_validate(
                    {**{k: s[k] for k in fields if k in s}, "evaluated": s["evidence"]["evaluated"]}
                )
                for s in snapshots
            ],
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


@cache
def get_trust_service() -> TrustService:
    settings = get_settings()
    return TrustService(get_store(), settings, trust_config(settings), learner=get_learner_store())
