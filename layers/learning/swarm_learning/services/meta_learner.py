"""The seed's MetaLearnerAgent as a service: triggers and runs learning cycles, refreshes patterns,
and serves what the cycles learned (patterns, agent profiles, decision rules, should-trigger).

A cycle streams the workspace's evaluated recommendations into columns, runs the pure cycle
(``swarm_learning.learning``), writes the result as a new learner-state version and only then makes
it current (``LearnerStateStore.publish``), all under the workspace's lease. Its iteration record
says queued → running → succeeded / failed / skipped, so a retried event never runs a cycle twice.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from ulid import ULID

from swarm_learning.clock import Clock, utcnow
from swarm_learning.config import Settings, get_settings
from swarm_learning.dal.learner_state import LearnerStateStore, LeaseHeldError, get_learner_store
from swarm_learning.dal.store import LearningStore, get_store
from swarm_learning.domain.rules import rule_applies
from swarm_learning.domain.statistics import halves_trend
from swarm_learning.domain.trust import TrustConfig
from swarm_learning.errors import InvalidRequestError, LearningError, NotFoundError
from swarm_learning.models.learning import (
    AgentProfileView,
    DecisionRuleList,
    DecisionRuleView,
    LearningCycleAccepted,
    LearningIteration,
    LearningIterationList,
    PatternList,
    PatternView,
    ShouldTriggerResponse,
    SuggestDecisionRulesRequest,
    TriggerLearningCycleRequest,
)
from swarm_learning.services.insights import InsightWriter, get_insight_writer
from swarm_learning.vocabulary import CycleTrigger, IterationStatus, PatternCategory

if TYPE_CHECKING:
    from swarm_learning.domain import cycle as learning

EVENT_SOURCE = "swarm.learning"
CYCLE_REQUESTED = "LearningCycleRequested"
ITERATION_PREFIX = "iter_"
_EVENTS_PER_CALL = 10  # PutEvents' limit
MARKER_RULES = 200  # the strongest rules ride on the state's pointer item, for routing (one read)


class EventPublishError(LearningError):
    """The event bus refused the cycle's event; the iteration is marked failed."""

    status_code = 503
    code = "event_bus_unavailable"


def new_iteration_id(at: datetime, workspace_id: str | None = None) -> str:
    """``iter_`` + a ULID: time-sortable. A scheduled run derives the random part from the workspace
    so a retried schedule names the same iteration (and does not run it twice)."""
    if workspace_id is None:
        return ITERATION_PREFIX + str(ULID.from_datetime(at))
    millis = int(at.timestamp() * 1000)
    entropy = hashlib.blake2b(workspace_id.encode(), digest_size=10).digest()
    return ITERATION_PREFIX + str(ULID.from_bytes(millis.to_bytes(6, "big") + entropy))


def pattern_id(condition: Sequence[str]) -> str:
    return "pat_" + hashlib.blake2b("&".join(condition).encode(), digest_size=6).hexdigest()


def describe(pattern: Mapping[str, Any]) -> str:
    outcome = (
        "approved" if pattern["category"] != PatternCategory.FAILURE_AVOIDANCE else "rejected or partial"
    )
    rate = pattern["success_rate"] if outcome == "approved" else 1 - pattern["success_rate"]
    return (
        f"When {' and '.join(pattern['condition'])}: {outcome} {rate:.0%} of {pattern['frequency_count']} "
        f"times (lift {pattern['lift']:.2f})"
    )


class MetaLearner:
    def __init__(
        self,
        store: LearningStore,
        state: LearnerStateStore,
        settings: Settings,
        *,
        events: Any | None = None,
        insight_writer: InsightWriter | None = None,
        clock: Clock = utcnow,
        timer: Callable[[], float] | None = None,
    ) -> None:
        self._store = store
        self._state = state
        self._settings = settings
        self._events = events
        self._insight_writer = insight_writer
        self._clock = clock
        self._timer = timer

    @property
    def events(self) -> Any:
        if self._events is None:
            self._events = boto3.client("events")
        return self._events

    # ---- triggering --------------------------------------------------------------------------
    def trigger(self, request: TriggerLearningCycleRequest) -> LearningCycleAccepted:
        """Queue a cycle and publish the on-demand event (409 while one is running)."""
        now = self._clock()
        workspace_id = request.workspace_id
        holder = self._state.lease_holder(workspace_id, now=now)
        if holder is not None:
            raise LeaseHeldError(f"learning cycle {holder} is running for workspace {workspace_id}")
        iteration_id = new_iteration_id(now)
        self._state.create_iteration(
            workspace_id,
            iteration_id,
            {
                "requested_at": now,
                "trigger": CycleTrigger.ON_DEMAND.value,
                "lookback_days": request.lookback_days,
                "min_pattern_confidence": request.min_pattern_confidence,
            },
        )
        self._publish(
            [self._event(workspace_id, iteration_id, request.lookback_days, request.min_pattern_confidence)]
        )
        return LearningCycleAccepted(
            iteration_id=iteration_id,
            workspace_id=workspace_id,
            status=IterationStatus.QUEUED,
            requested_at=now,
            status_path=f"/api/v1/learning/learning-cycles/{iteration_id}?workspace_id={workspace_id}",
        )

    def schedule_all(self, run_at: datetime) -> list[str]:
        """The nightly run: one queued iteration and one event per workspace, so every workspace's
        cycle runs in its own invocation. Re-running for the same ``run_at`` re-sends only the
        iterations still queued."""
        events = []
        for workspace_id in self._store.workspaces():
            iteration_id = new_iteration_id(run_at, workspace_id)
            created = self._state.create_iteration(
                workspace_id,
                iteration_id,
                {
                    "requested_at": run_at,
                    "trigger": CycleTrigger.SCHEDULE.value,
                    "lookback_days": self._settings.learning_lookback_days,
                    "min_pattern_confidence": self._settings.learning_min_pattern_confidence,
                },
            )
            existing = None if created else self._state.get_iteration(workspace_id, iteration_id)
            if created or (existing is not None and existing["status"] == IterationStatus.QUEUED):
                events.append(
                    self._event(
                        workspace_id,
                        iteration_id,
                        self._settings.learning_lookback_days,
                        self._settings.learning_min_pattern_confidence,
                    )
                )
        for start in range(0, len(events), _EVENTS_PER_CALL):
            self._publish(events[start : start + _EVENTS_PER_CALL])
        return [json.loads(e["Detail"])["workspace_id"] for e in events]

    def _event(
        self, workspace_id: str, iteration_id: str, lookback_days: int, confidence: float
    ) -> dict[str, Any]:
        detail = {
            "workspace_id": workspace_id,
            "iteration_id": iteration_id,
            "lookback_days": lookback_days,
            "min_pattern_confidence": confidence,
        }
        return {
            "Source": EVENT_SOURCE,
            "DetailType": CYCLE_REQUESTED,
            "Detail": json.dumps(detail),
            "EventBusName": self._settings.event_bus_name,
        }

    def _publish(self, entries: list[dict[str, Any]]) -> None:
        response = self.events.put_events(Entries=entries)
        if response.get("FailedEntryCount", 0):
            now = self._clock()
            for entry, answer in zip(entries, response["Entries"], strict=True):
                if "ErrorCode" in answer:
                    detail = json.loads(entry["Detail"])
                    self._state.finish_iteration(
                        detail["workspace_id"],
                        detail["iteration_id"],
                        status=IterationStatus.FAILED,
                        now=now,
                        error=f"event not published: {answer['ErrorCode']}",
                    )
            raise EventPublishError("the event bus did not accept the learning cycle request; try again")

    # ---- running -----------------------------------------------------------------------------
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
        result = learning.run_cycle(
            workspace_id,
            table,
            iteration_id=iteration_id,
            started_at=now,
            min_pattern_confidence=min_pattern_confidence,
            previous=previous,
            clock=timer,
        )
        writer = self._insight_writer or get_insight_writer()
        result.key_insights, result.recommendations_for_swarm = writer.rewrite(
            result.key_insights, result.recommendations_for_swarm
        )
        summary = result.summary()
        state = _state_document(
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

    # ---- the pattern-refresh job -------------------------------------------------------------
    def refresh_patterns(self, workspace_id: str, *, run_at: datetime) -> dict[str, int] | None:
        """Drop low-confidence patterns and re-validate the rest on the lookback window's data;
        publish the survivors (and their rules) as a new version. None if nothing was learned yet
        or a cycle holds the lease."""
        from swarm_learning.domain import cycle as learning  # numpy: see _cycle
        from swarm_learning.domain.features import FeatureBuilder
        from swarm_learning.domain.patterns import MiningConfig, Pattern, revalidate

        marker = self._state.current_marker(workspace_id)
        if marker is None:
            return None
        owner = "refresh_" + str(ULID.from_datetime(run_at))
        try:
            self._state.acquire_lease(
                workspace_id, owner, now=run_at, ttl_seconds=self._settings.learning_lease_seconds
            )
        except LeaseHeldError:
            return None
        try:
            current = self._state.current(workspace_id)
            if current is None:  # pragma: no cover - the marker said otherwise a moment ago
                return None
            _, state = current
            confidence = state["parameters"]["min_pattern_confidence"]
            lookback = state["parameters"]["lookback_days"]
            table = (
                FeatureBuilder()
                .extend(
                    self._store.iter_evaluated(
                        workspace_id, since=run_at - timedelta(days=lookback), until=run_at
                    )
                )
                .build()
            )
            by_condition = {tuple(p["condition"]): p for p in state["patterns"]}
            outcome = revalidate(
                [Pattern.from_state(p) for p in state["patterns"]],
                table,
                MiningConfig(min_pattern_confidence=confidence),
            )
            stamp = run_at.isoformat()
            state["patterns"] = [
                {
                    **by_condition[p.condition],
                    **p.to_state(),
                    **({"last_validated_at": stamp} if p.condition in outcome.revalidated else {}),
                }
                for p in outcome.kept
            ]
            state["rules"] = [_rule_state(r) for r in learning.rules(outcome.kept)]
            state["refreshed_at"] = stamp
            self._state.publish(
                workspace_id,
                # Versions order by when they were written (the real clock), not by the run's
                # nominal time: a refresh after a triggered cycle must supersede it.
                str(ULID.from_datetime(self._clock())),
                state,
                now=run_at,
                marker={**marker, "refreshed_at": stamp, "rules": state["rules"][:MARKER_RULES]},
            )
            return {
                "kept": len(outcome.kept),
                "dropped": len(outcome.dropped),
                "revalidated": len(outcome.revalidated),
            }
        finally:
            self._state.release_lease(workspace_id, owner)

    def refresh_all(self, run_at: datetime) -> dict[str, dict[str, int]]:
        refreshed = {}
        for workspace_id in self._store.workspaces():
            counts = self.refresh_patterns(workspace_id, run_at=run_at)
            if counts is not None:
                refreshed[workspace_id] = counts
        return refreshed

    # ---- reads -------------------------------------------------------------------------------
    def iteration(self, workspace_id: str, iteration_id: str) -> LearningIteration:
        record = self._state.get_iteration(workspace_id, iteration_id)
        if record is None:
            raise NotFoundError(f"learning cycle {iteration_id} not found", field="iteration_id")
        return LearningIteration.model_validate(record)

    def iterations(self, workspace_id: str, *, limit: int) -> LearningIterationList:
        records = self._state.list_iterations(workspace_id, limit=limit)
        return LearningIterationList(
            workspace_id=workspace_id, items=[LearningIteration.model_validate(r) for r in records]
        )

    def patterns(
        self,
        workspace_id: str,
        *,
        category: PatternCategory | None,
        min_confidence: float | None,
        limit: int,
        next_token: str | None,
    ) -> PatternList:
        current = self._state.current(workspace_id)
        if current is None:
            if next_token is not None:
                raise InvalidRequestError(
                    "next_token does not belong to this workspace's patterns", field="next_token"
                )
            return PatternList(workspace_id=workspace_id, version=None, learned_at=None, items=[])
        version, state = current
        offset = _decode_offset(next_token, version)
        selected = [
            p
            for p in state["patterns"]
            if (category is None or p["category"] == category)
            and (min_confidence is None or p["confidence_level"] >= min_confidence)
        ]
        page = selected[offset : offset + limit]
        more = offset + limit < len(selected)
        return PatternList(
            workspace_id=workspace_id,
            version=version,
            learned_at=state["learned_at"],
            items=[
                PatternView(**p, pattern_id=pattern_id(p["condition"]), description=describe(p)) for p in page
            ],
            next_token=_encode_offset(offset + limit, version) if more else None,
        )

    def agent_profile(self, workspace_id: str, agent_id: str) -> AgentProfileView:
        current = self._state.current(workspace_id)
        profile = None
        if current is not None:
            profile = next((p for p in current[1]["profiles"] if p["agent_id"] == agent_id), None)
        if current is None or profile is None:
            raise NotFoundError(
                f"no profile for agent {agent_id}: no learning cycle has seen its evaluated recommendations",
                field="agent_id",
            )
        state = current[1]
        slope = profile["trend"]  # stored as the number; shown as the trust responses' word
        trend = halves_trend(
            profile["evaluated"],
            profile["approval_rate"],
            slope,
            min_difference=TrustConfig.trend_min_difference,
            z_threshold=self._settings.trust_trend_z,
        )
        return AgentProfileView(
            **{**profile, "trend": trend, "trend_slope": slope},
            workspace_id=workspace_id,
            iteration_id=state["iteration_id"],
            learned_at=state["learned_at"],
        )

    def suggest_rules(self, request: SuggestDecisionRulesRequest) -> DecisionRuleList:
        current = self._state.current(request.workspace_id)
        if current is None:
            return DecisionRuleList(
                workspace_id=request.workspace_id,
                version=None,
                learned_at=None,
                context=request.context,
                items=[],
            )
        version, state = current
        return DecisionRuleList(
            workspace_id=request.workspace_id,
            version=version,
            learned_at=state["learned_at"],
            context=request.context,
            items=[
                DecisionRuleView(**rule)
                for rule in state["rules"]
                if rule_applies(rule["conditions"], request.context)
            ],
        )

    def rules_for(self, workspace_id: str, context: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The current rules that concern a decision (for routing); empty before the first cycle."""
        current = self._state.current(workspace_id)
        if current is None:
            return []
        return [rule for rule in current[1]["rules"] if rule_applies(rule["conditions"], context)]

    def should_trigger(self, workspace_id: str) -> ShouldTriggerResponse:
        """The seed's should_trigger_learning_cycle: yes when no cycle is running and either
        ``LEARNING_TRIGGER_MIN_OUTCOMES`` outcomes arrived since the last cycle started, or
        ``LEARNING_TRIGGER_MAX_HOURS`` passed since it with at least one new outcome. Before any
        cycle, the outcomes of the lookback window count as new."""
        now = self._clock()
        settings = self._settings
        running = self._state.lease_holder(workspace_id, now=now) is not None
        marker = self._state.current_marker(workspace_id)
        if marker is None:
            first = now - timedelta(days=settings.learning_lookback_days)
            last_cycle_at, hours = None, None
            buckets = self._store.workspace_buckets(workspace_id, first_day=first.date(), last_day=now.date())
            new_outcomes = int(sum(b.counters.get("evaluated", 0) for b in buckets))
        else:
            last_cycle_at = datetime.fromisoformat(marker["cycle_started_at"])
            hours = (now - last_cycle_at).total_seconds() / 3600
            buckets = self._store.workspace_buckets(
                workspace_id, first_day=last_cycle_at.date(), last_day=now.date()
            )
            since = int(sum(b.counters.get("evaluated", 0) for b in buckets))
            new_outcomes = max(since - int(marker["evaluated_on_cycle_day"]), 0)
        if running:
            should, reason = False, "cycle_running"
        elif new_outcomes >= settings.learning_trigger_min_outcomes:
            should, reason = True, "enough_new_outcomes"
        elif hours is not None and hours >= settings.learning_trigger_max_hours and new_outcomes > 0:
            should, reason = True, "last_cycle_too_old"
        else:
            should, reason = False, "not_enough_new_outcomes"
        return ShouldTriggerResponse(
            workspace_id=workspace_id,
            should_trigger=should,
            reason=reason,
            new_outcomes=new_outcomes,
            last_cycle_at=last_cycle_at,
            hours_since_last_cycle=hours,
            cycle_running=running,
            min_new_outcomes=settings.learning_trigger_min_outcomes,
            max_hours_between_cycles=settings.learning_trigger_max_hours,
        )


def _rule_state(rule: learning.DecisionRule) -> dict[str, Any]:
    return {
        "rule_id": rule.rule_id,
        "conditions": rule.conditions,
        "action": rule.action,
        "parameters": rule.parameters,
        "expected_success": rule.expected_success,
        "support": rule.support,
        "source": list(rule.source),
    }


def _profile_state(profile: learning.AgentProfile) -> dict[str, Any]:
    def standing(s: learning.TypeStanding) -> dict[str, Any]:
        return {
            "recommendation_type": s.recommendation_type,
            "evaluated": s.evaluated,
            "approval_rate": s.approval_rate,
            "baseline": s.baseline,
            "lower_bound": s.lower_bound,
            "upper_bound": s.upper_bound,
        }

    return {
        "agent_id": profile.agent_id,
        "evaluated": profile.evaluated,
        "approval_rate": profile.approval_rate,
        "strengths": [standing(s) for s in profile.strengths],
        "weaknesses": [standing(s) for s in profile.weaknesses],
        "calibration_gap": profile.calibration_gap,
        "trend": profile.trend,
        "consensus_share": profile.consensus_share,
        "consensus_builder": profile.consensus_builder,
    }


def _state_document(
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
        "profiles": [_profile_state(p) for p in result.profiles],
        "rules": [_rule_state(r) for r in result.rules],
        "history": history,
    }


def _encode_offset(offset: int, version: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "v": version}).encode()).decode()


def _decode_offset(token: str | None, version: str) -> int:
    if token is None:
        return 0
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset, token_version = int(decoded["o"]), decoded["v"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidRequestError(
            "next_token is not a token this endpoint issued", field="next_token"
        ) from None
    if token_version != version or offset < 0:
        raise InvalidRequestError(
            "next_token belongs to an earlier learner state; list again from the start", field="next_token"
        )
    return offset


@cache
def get_meta_learner() -> MetaLearner:
    settings = get_settings()
    return MetaLearner(get_store(), get_learner_store(), settings)
