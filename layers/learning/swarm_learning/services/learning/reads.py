"""What the learning cycles learned, as the API serves it: iterations, patterns, agent profiles,
decision rules and whether a new cycle is due."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from swarm_learning.clock import Clock, utcnow
from swarm_learning.config import Settings
from swarm_learning.dal.learner_state import LearnerStateStore
from swarm_learning.dal.store import LearningStore
from swarm_learning.domain.rules import rule_applies
from swarm_learning.domain.statistics import halves_trend
from swarm_learning.domain.trust_values import TrustConfig
from swarm_learning.errors import InvalidRequestError, NotFoundError
from swarm_learning.models.learning import (
    AgentProfileView,
    DecisionRuleList,
    DecisionRuleView,
    LearningIteration,
    LearningIterationList,
    PatternList,
    PatternView,
    ShouldTriggerResponse,
    SuggestDecisionRulesRequest,
)
from swarm_learning.vocabulary import PatternCategory


def pattern_id(condition: Sequence[str]) -> str:
    return "pat_" + hashlib.blake2b("&".join(condition).encode(), digest_size=6).hexdigest()


def load_pattern_maths() -> Callable[[float, int, float], tuple[float, float]]:
    """The lift's interval from the pattern maths, imported on the first pattern read: they bring
    numpy, which the function's other routes never use."""
    from swarm_learning.domain.patterns import lift_interval

    return lift_interval


def lift_interval(success_rate: float, n: int, lift: float) -> tuple[float, float]:
    return load_pattern_maths()(success_rate, n, lift)


def describe(pattern: Mapping[str, Any]) -> str:
    """The pattern in a sentence, its lift on the sentence's own scale: approvals for a pattern
    that predicts approval, rejections (or partials) for a failure-avoidance pattern; with the
    cautious end of the lift's 95 % interval."""
    success, lift, n = pattern["success_rate"], pattern["lift"], pattern["frequency_count"]
    lower, upper = lift_interval(success, n, lift)
    baseline = success / lift if lift > 0 else 0.0
    when = f"When {' and '.join(pattern['condition'])}"
    if pattern["category"] != PatternCategory.FAILURE_AVOIDANCE:
        return (
            f"{when}: approved {success:.0%} of {n} times, {lift:.2f}x the workspace's {baseline:.0%} "
            f"(at least {lower:.2f}x at 95 %)"
        )
    failing_base = 1 - baseline
    if failing_base <= 0:
        return f"{when}: rejected or partial {1 - success:.0%} of {n} times"
    return (
        f"{when}: rejected or partial {1 - success:.0%} of {n} times, "
        f"{(1 - success) / failing_base:.2f}x the workspace's {failing_base:.0%} "
        f"(at least {(1 - upper * baseline) / failing_base:.2f}x at 95 %)"
    )


def pattern_view(pattern: Mapping[str, Any]) -> PatternView:
    lower, upper = lift_interval(pattern["success_rate"], pattern["frequency_count"], pattern["lift"])
    return PatternView(
        **{"q_value": None, **pattern},
        pattern_id=pattern_id(pattern["condition"]),
        description=describe(pattern),
        lift_lower_bound=lower,
        lift_upper_bound=upper,
    )


class LearnedReads:
    """Read-only views of the current learner state."""

    def __init__(
        self, store: LearningStore, state: LearnerStateStore, settings: Settings, *, clock: Clock = utcnow
    ) -> None:
        self._store = store
        self._state = state
        self._settings = settings
        self._clock = clock

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
            items=[pattern_view(p) for p in page],
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
        profile = _with_strict_rates(profile)
        slope = profile["trend"]  # stored as the number; shown as the trust responses' word
        trend = halves_trend(
            profile["evaluated"],
            profile["strict_approval_rate"],
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
        """The specification's should_trigger_learning_cycle: yes when no cycle is running and either
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


def _with_strict_rates(profile: dict[str, Any]) -> dict[str, Any]:
    """A profile as served. States learned before ``strict_approval_rate`` was kept had only the
    approved share, under ``approval_rate``: it is the strict rate (the next cycle stores both)."""

    def strict(entry: dict[str, Any]) -> dict[str, Any]:
        return {"strict_approval_rate": entry["approval_rate"], **entry}

    return {
        **strict(profile),
        "strengths": [strict(s) for s in profile["strengths"]],
        "weaknesses": [strict(s) for s in profile["weaknesses"]],
    }
