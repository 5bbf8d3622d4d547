"""Routing: choose agents for a recommendation by trust, learned rules and the routing mode, and log it."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from ulid import ULID

from swarm_learning.clock import Clock, utcnow
from swarm_learning.dal.learner_state import LearnerStateStore
from swarm_learning.dal.store import LearningStore
from swarm_learning.domain import approval, routing
from swarm_learning.domain.rules import unconditional_for_type
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

        posteriors: Sequence[approval.ApprovalPosterior] = map_all(AGENT_READS, posterior, plan.candidates)
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
            requested_k=request.k,
            agent_ids=[c.agent_id for c in sorted(choices, key=lambda c: c.rank)],
            chosen=[RoutedAgent(**asdict(c)) for c in sorted(choices, key=lambda c: c.rank)],
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
