"""Seed a workspace with weeks of simulated history, so trends, trust over time, routing and
learning cycles have something to show (the dashboard, its browser tests and screenshots).

``make demo`` drives the API over HTTP, so everything it makes happens now. History needs days
that have passed: this seeds through the layer's own services (tracker, routing, trust refresh,
learning trigger and cycle runner) in-process, with a clock set to each simulated day. Same calls, same counters, same
items as the API would write; only the time is simulated. Deterministic for a seed and end time.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from localdev.swarm import Swarm, default_swarm

PENDING_DAYS = 1  # recommendations of the last day are left pending (some of them)
PENDING_SHARE = 0.5
ROUTING_DECISIONS_PER_DAY = 4
ROUTED_DAYS = 14  # the last days whose workflows route their lead (the Routing view judges them)
CYCLE_EVERY_DAYS = 7
DAY_SPAN = timedelta(hours=16)


@dataclass(frozen=True)
class HistorySummary:
    workspace_id: str
    days: int
    workflows: int
    tracked: int
    evaluated: int
    routing_decisions: int
    learning_cycles: int


def seed_history(
    workspace_id: str,
    *,
    days: int = 21,
    workflows_per_day: int = 12,
    seed: int = 7,
    end: datetime | None = None,
    n_agents: int = 8,
    min_pattern_confidence: float | None = None,
) -> HistorySummary:
    """Simulate ``days`` days ending on ``end``'s day: each day's workflows are tracked and
    evaluated, a few routing decisions made, trust refreshed (a snapshot per agent); a learning
    cycle runs every week and on the last day. Call inside ``localdev.runtime.embedded_aws()``."""
    from swarm_learning.config import get_settings
    from swarm_learning.dal.learner_state import get_learner_store
    from swarm_learning.dal.store import get_store
    from swarm_learning.models.evaluation import EvaluateOutcomeRequest
    from swarm_learning.models.learning import TriggerLearningCycleRequest
    from swarm_learning.models.tracking import TrackRecommendationRequest
    from swarm_learning.models.trust import RoutingRequest
    from swarm_learning.services.learning.runner import CycleRunner
    from swarm_learning.services.learning.trigger import LearningTrigger
    from swarm_learning.services.tracking.tracker import RecommendationTracker
    from swarm_learning.services.trust.refresh import TrustRefresh
    from swarm_learning.services.trust.routing import Routing
    from swarm_learning.services.trust.scores import TrustScores, trust_config

    settings = get_settings()
    store, learner_store = get_store(), get_learner_store()
    from swarm_learning.clock import utcnow

    now = [end or utcnow()]
    clock: Callable[[], datetime] = lambda: now[0]  # noqa: E731 - one clock, set per simulated moment
    tracker = RecommendationTracker(store, settings, clock)
    scores = TrustScores(store, settings, trust_config(settings), clock)
    routing = Routing(scores, store, clock, learner=learner_store)
    trust_refresh = TrustRefresh(scores, store)
    trigger = LearningTrigger(store, learner_store, settings, events=_NoEvents(), clock=clock)
    runner = CycleRunner(store, learner_store, settings, clock=clock)

    swarm = Swarm(default_swarm(n_agents, seed=seed), seed=seed)
    workflows = list(swarm.workflows(workspace_id, days * workflows_per_day))
    plan = random.Random(seed)
    # Each simulated day's events span its first DAY_SPAN hours, the last day's ending at ``end``:
    # nothing is dated in the future (a cycle or snapshot made at the real time stays the newest).
    first_day = now[0].astimezone(UTC).replace(second=0, microsecond=0) - DAY_SPAN - timedelta(days=days - 1)
    tracked = evaluated = decisions = cycles = 0
    for day in range(days):
        start = first_day + timedelta(days=day)
        last_day = day >= days - PENDING_DAYS
        todays = workflows[day * workflows_per_day : (day + 1) * workflows_per_day]
        for number, workflow in enumerate(todays):
            now[0] = start + timedelta(minutes=40 * number)  # 12 workflows: 8 hours
            # In the last ROUTED_DAYS the router picks the workflow's lead among its agents and the
            # lead's recommendation carries the decision, so the Routing view can evaluate routing
            # on the outcomes (earlier days skip it: each decision reads every candidate's buckets).
            lead = None
            if day >= days - ROUTED_DAYS:
                lead = routing.route(
                    RoutingRequest.model_validate(
                        {
                            "workspace_id": workspace_id,
                            "recommendation_type": workflow.recommendation_type,
                            "candidates": [r.agent_id for r in workflow.recommendations],
                        }
                    )
                )
                decisions += 1
            ids = []
            for recommendation in workflow.recommendations:
                linked = (
                    {"decision_id": lead.decision_id, "selection_probability": lead.chosen[0].probability}
                    if lead is not None and recommendation.agent_id == lead.chosen[0].agent_id
                    else {}
                )
                request = TrackRecommendationRequest.model_validate(
                    {**recommendation.request, **linked}, strict=False
                )
                ids.append(tracker.track(request).recommendation_id)
                tracked += 1
            now[0] += timedelta(minutes=20)
            for recommendation, recommendation_id in zip(workflow.recommendations, ids, strict=True):
                if last_day and plan.random() < PENDING_SHARE:
                    continue
                verdict = recommendation.evaluation
                tracker.evaluate(
                    EvaluateOutcomeRequest.model_validate(
                        {
                            "workspace_id": workspace_id,
                            "recommendation_id": recommendation_id,
                            "overall_quality_score": verdict.overall_quality_score,
                            "quality_scores": verdict.quality_scores,
                            "evaluator_feedback": verdict.feedback,
                        },
                        strict=False,
                    )
                )
                evaluated += 1
        for number in range(ROUTING_DECISIONS_PER_DAY):
            recommendation_type = plan.choice(swarm.recommendation_types)
            candidates = [a.agent_id for a in swarm.agents if a.handles(recommendation_type)]
            now[0] = start + timedelta(hours=10, minutes=30 * number)
            routing.route(
                RoutingRequest.model_validate(
                    {
                        "workspace_id": workspace_id,
                        "recommendation_type": recommendation_type,
                        "candidates": candidates,
                        "k": 1,
                    }
                )
            )
            decisions += 1
        now[0] = start + timedelta(hours=15)
        trust_refresh.refresh_all(now[0])
        if day % CYCLE_EVERY_DAYS == CYCLE_EVERY_DAYS - 1 or day == days - 1:
            now[0] = start + timedelta(hours=15, minutes=30)
            cycle = TriggerLearningCycleRequest.model_validate(
                {
                    "workspace_id": workspace_id,
                    "lookback_days": 14,
                    **({"min_pattern_confidence": min_pattern_confidence} if min_pattern_confidence else {}),
                }
            )
            accepted = trigger.trigger(cycle)
            runner.run(
                workspace_id,
                accepted.iteration_id,
                lookback_days=cycle.lookback_days,
                min_pattern_confidence=cycle.min_pattern_confidence,
            )
            cycles += 1
    return HistorySummary(workspace_id, days, len(workflows), tracked, evaluated, decisions, cycles)


class _NoEvents:
    """The cycle is run right here, so the on-demand event has nowhere to go: accept it."""

    def put_events(self, Entries: list[dict[str, object]]) -> dict[str, object]:
        return {"FailedEntryCount": 0, "Entries": [{"EventId": str(i)} for i, _ in enumerate(Entries)]}
