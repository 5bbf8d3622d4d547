"""Running a learning cycle under the workspace's lease, and the learner-state document it writes."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ulid import ULID

from swarm_learning.clock import Clock, utcnow
from swarm_learning.config import Settings
from swarm_learning.dal.learner_state import LearnerStateStore, LeaseHeldError
from swarm_learning.dal.store import LearningStore
from swarm_learning.services.learning.base import MARKER_RULES
from swarm_learning.services.learning.insights import InsightWriter, get_insight_writer
from swarm_learning.services.trust.evaluation import RoutingEvaluation
from swarm_learning.vocabulary import IterationStatus

if TYPE_CHECKING:
    from swarm_learning.domain import cycle as learning


class CycleRunner:
    """Runs one queued iteration: reads the evaluated rows, runs the pure cycle, publishes the state.
    ``insight_writer`` rewords the insights (default: ``get_insight_writer()``); ``timer`` times
    the cycle (default: ``time.perf_counter``)."""

    def __init__(
        self,
        store: LearningStore,
        state: LearnerStateStore,
        settings: Settings,
        *,
        insight_writer: InsightWriter | None = None,
        clock: Clock = utcnow,
        timer: Callable[[], float] | None = None,
    ) -> None:
        self._store = store
        self._state = state
        self._settings = settings
        self._insight_writer = insight_writer
        self._clock = clock
        self._timer = timer

    def run(
        self, workspace_id: str, iteration_id: str, *, lookback_days: int, min_pattern_confidence: float
    ) -> str:
        """Run one queued iteration; returns its final status. A retried event whose iteration is
        no longer queued does nothing; a cycle that fails marks the iteration failed, leaves the
        previous state current and re-raises (so the invocation is retried, then dead-lettered)."""
        now = self._clock()
        if not self._state.start_iteration(workspace_id, iteration_id, now=now):
            existing = self._state.get_iteration(workspace_id, iteration_id)
            return existing["status"] if existing else "unknown"
        try:
            self._state.acquire_lease(
                workspace_id, iteration_id, now=now, ttl_seconds=self._settings.learning_lease_seconds
            )
        except LeaseHeldError as held:
            self._state.finish_iteration(
                workspace_id,
                iteration_id,
                status=IterationStatus.SKIPPED,
                now=self._clock(),
                error=held.message,
            )
            return IterationStatus.SKIPPED
        try:
            result = self._cycle(workspace_id, iteration_id, now, lookback_days, min_pattern_confidence)
            self._state.finish_iteration(
                workspace_id, iteration_id, status=IterationStatus.SUCCEEDED, now=self._clock(), result=result
            )
            return IterationStatus.SUCCEEDED
        except Exception as error:
            self._state.finish_iteration(
                workspace_id,
                iteration_id,
                status=IterationStatus.FAILED,
                now=self._clock(),
                error=f"{type(error).__name__}: {error}"[:500],
            )
            raise
        finally:
            self._state.release_lease(workspace_id, iteration_id)

    def _evaluated_on(self, workspace_id: str, day: datetime) -> int:
        buckets = self._store.workspace_buckets(workspace_id, first_day=day.date(), last_day=day.date())
        return int(sum(b.counters.get("evaluated", 0) for b in buckets))

    def _cycle(
        self,
        workspace_id: str,
        iteration_id: str,
        now: datetime,
        lookback_days: int,
        min_pattern_confidence: float,
    ) -> dict[str, Any]:
        # Imported here: numpy and the column maths load only in the functions that learn, not in
        # the API function that triggers cycles and reads their results (a cold-start cost).
        from swarm_learning.domain import cycle as learning
        from swarm_learning.domain.features import FeatureBuilder

        timer = self._timer or time.perf_counter
        begun = timer()  # the cycle's time is the whole of it: read, learn and write
        evaluated_today = self._evaluated_on(workspace_id, now)  # before reading: new ones count next time
        table = (
            FeatureBuilder()
            .extend(
                self._store.iter_evaluated(workspace_id, since=now - timedelta(days=lookback_days), until=now)
            )
            .build()
        )
        current = self._state.current(workspace_id)
        previous_state = current[1] if current else None
        previous = None
        if previous_state is not None:
            model = previous_state.get("model", {})
            previous = learning.PreviousCycle(
                pattern_conditions=frozenset(tuple(p["condition"]) for p in previous_state["patterns"]),
                mean_pattern_confidence=model.get("mean_pattern_confidence"),
                model_accuracy=model.get("iteration_accuracy"),
            )
        # What routing did to outcomes over the same window: off-policy, from the logged decisions.
        routing = RoutingEvaluation(self._store, self._settings, self._clock).routing_effect(
            workspace_id, since=now - timedelta(days=lookback_days), until=now
        )
        result = learning.run_cycle(
            workspace_id,
            table,
            iteration_id=iteration_id,
            started_at=now,
            min_pattern_confidence=min_pattern_confidence,
            previous=previous,
            clock=timer,
            routing=routing,
        )
        writer = self._insight_writer or get_insight_writer()
        result.key_insights, result.recommendations_for_swarm = writer.rewrite(
            result.key_insights, result.recommendations_for_swarm
        )
        summary = result.summary()
        state = state_document(
            result,
            previous_state,
            summary,
            now,
            lookback_days,
            min_pattern_confidence,
            self._settings.learning_history_iterations,
        )
        self._state.publish(
            workspace_id,
            str(ULID.from_datetime(self._clock())),  # versions order by when they were written
            state,
            now=now,
            marker={
                "iteration_id": iteration_id,
                "learned_at": now.isoformat(),
                "cycle_started_at": now.isoformat(),
                "evaluated_on_cycle_day": evaluated_today,
                "rules": state["rules"][:MARKER_RULES],
            },
        )
        elapsed = timer() - begun
        return {
            **summary,
            "processing_time_seconds": elapsed,
            "completed_at": (now + timedelta(seconds=elapsed)).isoformat(),
        }


def rule_state(rule: learning.DecisionRule) -> dict[str, Any]:
    return {
        "rule_id": rule.rule_id,
        "conditions": rule.conditions,
        "action": rule.action,
        "parameters": rule.parameters,
        "expected_success": rule.expected_success,
        "expected_success_basis": rule.expected_success_basis,
        "support": rule.support,
        "source": list(rule.source),
    }


def profile_state(profile: learning.AgentProfile) -> dict[str, Any]:
    def standing(s: learning.TypeStanding) -> dict[str, Any]:
        return {
            "recommendation_type": s.recommendation_type,
            "evaluated": s.evaluated,
            "approval_rate": s.approval_rate,
            "strict_approval_rate": s.strict_approval_rate,
            "baseline": s.baseline,
            "lower_bound": s.lower_bound,
            "upper_bound": s.upper_bound,
        }

    return {
        "agent_id": profile.agent_id,
        "evaluated": profile.evaluated,
        "approval_rate": profile.approval_rate,
        "strict_approval_rate": profile.strict_approval_rate,
        "strengths": [standing(s) for s in profile.strengths],
        "weaknesses": [standing(s) for s in profile.weaknesses],
        "calibration_gap": profile.calibration_gap,
        "trend": profile.trend,
        "consensus_share": profile.consensus_share,
        "consensus_builder": profile.consensus_builder,
    }


def state_document(
    result: learning.CycleResult,
    previous: Mapping[str, Any] | None,
    summary: Mapping[str, Any],
    now: datetime,
    lookback_days: int,
    min_pattern_confidence: float,
    history_length: int,
) -> dict[str, Any]:
    """The learner state a cycle publishes: patterns (with when they were first seen and how often
    confirmed), profiles, rules, model metrics and the recent iteration history."""
    stamp = now.isoformat()
    earlier = {tuple(p["condition"]): p for p in (previous or {}).get("patterns", [])}
    patterns = []
    for pattern in result.patterns:
        seen = earlier.get(pattern.condition)
        patterns.append(
            {
                **pattern.to_state(),
                "status": "confirmed" if seen else "new",
                "confirmations": seen.get("confirmations", 0) + 1 if seen else 0,
                "first_seen_at": seen["first_seen_at"] if seen else stamp,
                "last_confirmed_at": stamp,
                "last_validated_at": None,
            }
        )
    history = [dict(summary), *(previous or {}).get("history", [])][:history_length]
    confidences = [p.confidence_level for p in result.patterns]
    return {
        "iteration_id": result.iteration_id,
        "workspace_id": result.workspace_id,
        "learned_at": stamp,
        "parameters": {"lookback_days": lookback_days, "min_pattern_confidence": min_pattern_confidence},
        "model": {
            "iteration_accuracy": result.iteration_accuracy,
            "coverage": result.coverage,
            "samples_analyzed": result.samples_analyzed,
            "mean_pattern_confidence": sum(confidences) / len(confidences) if confidences else None,
        },
        "patterns": patterns,
        "profiles": [profile_state(p) for p in result.profiles],
        "rules": [rule_state(r) for r in result.rules],
        "history": history,
    }
