"""Routing: choose agents for a recommendation by trust, learned rules and the routing mode, and log it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from ulid import ULID

from swarm_learning.clock import Clock, utcnow
from swarm_learning.config import Settings
from swarm_learning.dal.learner_state import LearnerStateStore
from swarm_learning.dal.store import LearningStore
from swarm_learning.domain import approval, routing
from swarm_learning.domain.rules import unconditional_for_type
from swarm_learning.errors import IdReusedError, InvalidFieldError
from swarm_learning.ids import DECISION_PREFIX
from swarm_learning.models.trust import (
    RoutedAgent,
    RoutingDecision,
    RoutingRequest,
)
from swarm_learning.parallel import AGENT_READS, map_all
from swarm_learning.services.trust.scores import TrustScores, day_counters


class Routing:
    """Routes a request to the most trusted agents and logs the decision. Uses the trust scores'
    window and configuration; the learned rules come from the learner state, when given."""

    def __init__(
        self,
        scores: TrustScores,
        store: LearningStore,
        clock: Clock = utcnow,
        learner: LearnerStateStore | None = None,
    ) -> None:
        self._scores = scores
        self._store = store
        self._clock = clock
        self._learner = learner

    def _routing_rules(self, workspace_id: str, recommendation_type: str) -> list[dict[str, Any]]:
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
        fingerprint = hashlib.sha256(
            json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
        if request.decision_id is not None:
            _check_minted(request.decision_id, now, self._scores.settings)
            stored = self._store.get_routing_decision(request.workspace_id, request.decision_id)
            if stored is not None:
                return _replayed(stored, fingerprint)
        today = now.date()
        first, last = self._scores.window(today)
        plan = routing.RoutingPlan(list(request.candidates), request.k, [])
        if request.apply_rules:
            rules = self._routing_rules(request.workspace_id, request.recommendation_type)
            plan = routing.apply_rules(request.candidates, request.k, rules)

        def posterior(agent: str) -> approval.ApprovalPosterior:
            buckets = self._store.agent_buckets(request.workspace_id, agent, first_day=first, last_day=last)
            return approval.approval_posterior(
                day_counters(b for b in buckets if b.recommendation_type == request.recommendation_type),
                day_counters(b for b in buckets if b.recommendation_type is None),
                today,
                self._scores.config,
            )

        # Every requested candidate's posterior, avoided ones too: the exploration floor may seat
        # any of them, and offline evaluation of other policies needs them all.
        posteriors: Sequence[approval.ApprovalPosterior] = map_all(AGENT_READS, posterior, request.candidates)
        candidates = [
            routing.Candidate(agent, p.alpha, p.beta, p.lower_bound)
            for agent, p in zip(request.candidates, posteriors, strict=True)
        ]
        decision_id = request.decision_id or DECISION_PREFIX + str(ULID.from_datetime(now))
        floor = (
            self._scores.settings.routing_exploration_floor
            if request.exploration_floor is None
            else request.exploration_floor
        )
        # Seeded by the decision id: the logged decision can be replayed exactly.
        routed = routing.decide(candidates, plan, decision_id, mode=request.mode, floor=floor)
        decision = RoutingDecision(
            decision_id=decision_id,
            workspace_id=request.workspace_id,
            recommendation_type=request.recommendation_type,
            mode=request.mode,
            requested_k=request.k,
            agent_ids=[c.agent_id for c in sorted(routed.choices, key=lambda c: c.rank)],
            chosen=[RoutedAgent(**asdict(c)) for c in sorted(routed.choices, key=lambda c: c.rank)],
            applied_rules=plan.applied_rules,
            decided_at=now,
        )
        raced = self._store.log_routing_decision(
            {
                **decision.model_dump(mode="json", exclude={"decided_at"}),
                "decided_at": now,
                "candidates": [asdict(c) for c in routed.candidates],
                "preferred": plan.preferred,
                "exploration_floor": floor,
                "explored": routed.explored,
                "first_slot_draws": routed.first_slot_draws,
                "correlation_id": request.correlation_id,
                "request_fingerprint": fingerprint,
            }
        )
        if raced is not None:  # the same client-minted id was logged meanwhile
            return _replayed(raced, fingerprint)
        return decision


def _check_minted(decision_id: str, now: datetime, settings: Settings) -> None:
    """A client-minted decision id's time must be within the allowed skew of the server's clock."""
    at = ULID.from_str(decision_id.removeprefix(DECISION_PREFIX)).datetime
    oldest = now - timedelta(seconds=settings.client_id_max_age_seconds)
    newest = now + timedelta(seconds=settings.client_id_max_lead_seconds)
    if not oldest <= at <= newest:
        raise InvalidFieldError(
            f"decision_id was minted at {at.isoformat()}; ids must be minted between "
            f"{settings.client_id_max_age_seconds} s before and {settings.client_id_max_lead_seconds} s "
            f"after the server's clock ({now.isoformat()})",
            field="decision_id",
        )


def _replayed(stored: dict[str, Any], fingerprint: str) -> RoutingDecision:
    """The stored answer to a request sent again with its client-minted decision id."""
    if stored.get("request_fingerprint") != fingerprint:
        raise IdReusedError(
            f"decision_id {stored['decision_id']} was already used with a different request",
            field="decision_id",
        )
    return RoutingDecision.model_validate(
        {name: stored[name] for name in RoutingDecision.model_fields if name in stored}
    )
