"""Offline evaluation of routing: joins the logged decisions to their outcomes and estimates what
other routing policies would have achieved (POST /routing/evaluate, the learning cycle's rule
effect and routing lift, and the router-against-best-agent comparison behind alerts)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from swarm_learning.clock import Clock, utcnow
from swarm_learning.config import Settings, get_settings
from swarm_learning.dal.store import LearningStore, get_store
from swarm_learning.errors import InvalidFieldError
from swarm_learning.models.routing_evaluation import (
    THIN_SUPPORT_ESS,
    AgainstBestAgent,
    BestPolicy,
    EstimateView,
    PolicyEvaluation,
    PolicySpec,
    RoutingEvaluationRequest,
    RoutingEvaluationResponse,
    RoutingPolicy,
    SkippedDecisions,
)

if TYPE_CHECKING:
    from swarm_learning.domain import off_policy

# Which estimate names the best policy and the comparisons: SNIPS stays within [0, 1] and has the
# smallest error of the three on the simulator (docs/benchmarks.md, bench/routing_ope.py).
_PREFERRED_ESTIMATORS = ("snips", "dr", "ips")


@dataclass(frozen=True)
class RouterComparison:
    """The router (the logged routing, on-policy) against the best fixed agent of the window
    (the ``agent`` policy with the highest SNIPS estimate): the difference ``router - best`` and its
    95 % interval. ``significantly_worse`` when that interval lies below zero."""

    workspace_id: str
    since: datetime
    until: datetime
    decisions: int
    router: float | None
    best_agent_id: str | None
    best_agent: float | None
    difference: float | None
    lower: float | None
    upper: float | None

    @property
    def significantly_worse(self) -> bool:
        return self.upper is not None and self.upper < 0


@dataclass(frozen=True)
class LoadedLog:
    log: off_policy.LoggedDecisions
    skipped: off_policy.Skipped


def _outcome_by_decision(
    rows: list[tuple[str, str, str, str]], chosen_first: Mapping[str, str]
) -> dict[str, str]:
    """The outcome of the earliest recommendation carrying each decision's id made by the agent it
    seated first (a recommendation id is a ULID: the smallest is the earliest)."""
    found: dict[str, tuple[str, str]] = {}
    for decision_id, recommendation_id, agent_id, status in rows:
        if chosen_first.get(decision_id) != agent_id:
            continue
        earlier = found.get(decision_id)
        if earlier is None or recommendation_id < earlier[0]:
            found[decision_id] = (recommendation_id, status)
    return {decision_id: status for decision_id, (_, status) in found.items()}


class RoutingEvaluation:
    """Off-policy estimates of routing policies over a workspace's logged decisions."""

    def __init__(self, store: LearningStore, settings: Settings, clock: Clock = utcnow) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock

    def load(
        self, workspace_id: str, *, since: datetime, until: datetime, recommendation_type: str | None = None
    ) -> LoadedLog:
        """The window's decisions joined to their outcomes, as the estimators' arrays."""
        from swarm_learning.domain import off_policy

        decisions = list(
            self._store.iter_routing_decisions(
                workspace_id, since=since, until=until, recommendation_type=recommendation_type
            )
        )
        chosen_first = {d["decision_id"]: d["chosen"][0]["agent_id"] for d in decisions if d.get("chosen")}
        # Outcomes are tracked after their decision (client-minted ids may lead the clock a little).
        rows = self._store.decision_outcomes(
            workspace_id,
            since=since,
            until=until + timedelta(seconds=self._settings.client_id_max_lead_seconds),
        )
        log, skipped = off_policy.decision_log(decisions, _outcome_by_decision(rows, chosen_first))
        return LoadedLog(log, skipped)

    def _window(self, lookback_days: int) -> tuple[datetime, datetime]:
        until = self._clock()
        return until - timedelta(days=lookback_days), until

    def evaluate(self, request: RoutingEvaluationRequest) -> RoutingEvaluationResponse:
        from swarm_learning.domain import off_policy

        since, until = self._window(request.lookback_days)
        loaded = self.load(
            request.workspace_id, since=since, until=until, recommendation_type=request.recommendation_type
        )
        log = loaded.log
        self._check_agents(request, log)
        estimators = tuple(request.estimators)
        logged = off_policy.on_policy(log.rewards)
        results: list[tuple[PolicySpec, off_policy.PolicyEstimates]] = [
            (spec, off_policy.evaluate(log, target_policy(log, spec), estimators))
            for spec in request.policies
        ]
        best = None
        if len(log):
            name = next(e for e in _PREFERRED_ESTIMATORS if e in estimators)
            spec, top = max(results, key=lambda r: r[1].estimates[name].value)
            best = BestPolicy(
                policy=spec.policy,
                agent_id=spec.agent_id,
                apply_rules=spec.rules,
                estimator=name,
                beats_logged=(lambda d: d.lower is not None and d.lower > 0)(
                    off_policy.difference(top.estimates[name], logged)
                ),
            )
        return RoutingEvaluationResponse(
            workspace_id=request.workspace_id,
            recommendation_type=request.recommendation_type,
            since=since,
            until=until,
            decisions=len(log),
            skipped=SkippedDecisions(**vars(loaded.skipped)),
            logged=_view(logged) if len(log) else None,
            policies=[
                PolicyEvaluation(
                    policy=spec.policy,
                    agent_id=spec.agent_id,
                    apply_rules=spec.rules,
                    estimates={name: _view(e) for name, e in made.estimates.items()} if len(log) else {},
                    effective_sample_size=made.effective_sample_size,
                    thin_support=bool(len(log)) and made.effective_sample_size < THIN_SUPPORT_ESS,
                )
                for spec, made in results
            ],
            best=best,
            against_best_agent=_against_best_agent(log),
        )

    def _check_agents(self, request: RoutingEvaluationRequest, log: off_policy.LoggedDecisions) -> None:
        """An ``agent`` policy must name an agent the workspace knows: registered, or a candidate of
        one of the window's decisions."""
        candidates = log.agent_ids()
        for i, spec in enumerate(request.policies):
            if spec.agent_id is None or spec.agent_id in candidates:
                continue
            if self._store.agent_directory_entry(request.workspace_id, spec.agent_id) is None:
                raise InvalidFieldError(
                    f"agent {spec.agent_id} is unknown in workspace {request.workspace_id}",
                    field=f"policies.{i}.agent_id",
                )

    def router_against_best_agent(
        self, workspace_id: str, *, since: datetime, until: datetime, recommendation_type: str | None = None
    ) -> RouterComparison:
        """What the router achieved against the best fixed agent of the window, with the interval of
        the difference (for alerts: ``significantly_worse``)."""
        from swarm_learning.domain import off_policy

        log = self.load(workspace_id, since=since, until=until, recommendation_type=recommendation_type).log
        comparison = off_policy.against_best_agent(log)
        if comparison is None:
            return RouterComparison(workspace_id, since, until, len(log), None, None, None, None, None, None)
        agent_id, best, diff = comparison
        return RouterComparison(
            workspace_id,
            since,
            until,
            len(log),
            float(log.rewards.mean()),
            agent_id,
            best.value,
            diff.value,
            diff.lower,
            diff.upper,
        )

    def routing_effect(
        self, workspace_id: str, *, since: datetime, until: datetime
    ) -> off_policy.RoutingEffect:
        """The learning cycle's figures over its window: the rules' effect and routing's lift."""
        from swarm_learning.domain import off_policy

        log = self.load(workspace_id, since=since, until=until).log
        return off_policy.routing_effect(log, self._settings.routing_evaluation_min_decisions)


def target_policy(log: off_policy.LoggedDecisions, spec: PolicySpec) -> Any:
    """The first-slot distribution of a requested policy over the logged decisions."""
    from swarm_learning.domain import off_policy

    if spec.policy is RoutingPolicy.EXPLORE:
        return off_policy.explore_policy(log, apply_rules=spec.rules)
    if spec.policy is RoutingPolicy.EXPLOIT:
        return off_policy.exploit_policy(log, apply_rules=spec.rules)
    if spec.policy is RoutingPolicy.UNIFORM:
        return off_policy.uniform_policy(log)
    assert spec.agent_id is not None  # the request model requires it
    return off_policy.agent_policy(log, spec.agent_id)


def _against_best_agent(log: off_policy.LoggedDecisions) -> AgainstBestAgent | None:
    from swarm_learning.domain import off_policy

    comparison = off_policy.against_best_agent(log)
    if comparison is None:
        return None
    agent_id, agent, difference = comparison
    return AgainstBestAgent(
        agent_id=agent_id,
        agent=_view(agent),
        difference=_view(difference),
        significantly_worse=difference.upper is not None and difference.upper < 0,
    )


def _view(estimate: off_policy.Estimate) -> EstimateView:
    return EstimateView(value=estimate.value, lower=estimate.lower, upper=estimate.upper)


@cache
def get_routing_evaluation() -> RoutingEvaluation:
    return RoutingEvaluation(get_store(), get_settings())
