"""The workspace alerts the learning cycle raises: a cycle below its targets, a failing cycle, and
routing that does worse than always asking the best agent (from the off-policy evaluation)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from swarm_learning.domain import alert_state
from swarm_learning.models.alerts import AlertDetail
from swarm_learning.services.alerts.raiser import AlertRaiser

CYCLE_TARGET_SUBJECT = "cycle#target"
CYCLE_RUN_SUBJECT = "cycle#run"
ROUTING_SUBJECT = "routing#value"
CYCLES_PATH = "#/cycles"
ROUTING_PATH = "#/routing"


class RoutingEvaluator(Protocol):
    """The off-policy evaluation of the workspace's routing (issue 20's service), or None when the
    logged decisions do not support one yet."""

    def __call__(self, workspace_id: str, now: datetime) -> alert_state.RouterAgainstBestAgent | None: ...


class RouterComparison(Protocol):
    """What the off-policy evaluation reports for the router against the best fixed agent of a
    window (the shape of issue 20's ``RoutingEvaluation.router_against_best_agent``)."""

    # Read-only members: the comparison is a frozen dataclass.
    @property
    def decisions(self) -> int: ...
    @property
    def router(self) -> float | None: ...
    @property
    def best_agent_id(self) -> str | None: ...
    @property
    def best_agent(self) -> float | None: ...
    @property
    def lower(self) -> float | None: ...
    @property
    def upper(self) -> float | None: ...


def from_router_comparison(comparison: RouterComparison) -> alert_state.RouterAgainstBestAgent | None:
    """The alert's reading of a router comparison; None when the window could not be evaluated."""
    figures = (comparison.router, comparison.best_agent, comparison.lower, comparison.upper)
    if comparison.best_agent_id is None or any(f is None for f in figures):
        return None
    router, best, lower, upper = (float(f) for f in figures if f is not None)
    return alert_state.RouterAgainstBestAgent(
        router, best, comparison.best_agent_id, lower, upper, comparison.decisions
    )


class CycleAlerts:
    def __init__(self, raiser: AlertRaiser, *, routing_evaluator: RoutingEvaluator | None = None) -> None:
        self._raiser = raiser
        self._routing_evaluator = routing_evaluator

    def cycle_succeeded(
        self, workspace_id: str, iteration_id: str, result: Mapping[str, Any], *, now: datetime
    ) -> list[AlertDetail]:
        """After a cycle succeeded: its targets, the run state (re-armed) and the routing check."""
        accuracy = result.get("iteration_accuracy")
        coverage = float(result.get("coverage") or 0.0)
        samples = int(result.get("validation_samples") or result.get("samples_analyzed") or 0)

        def target(current: Mapping[str, Any] | None) -> tuple[dict[str, Any], alert_state.Change | None]:
            previous = (current.get("accuracy"), current.get("coverage")) if current else (None, None)
            status, change = alert_state.cycle_target_transition(
                current["status"] if current else None, accuracy, coverage, samples=samples, previous=previous
            )
            if change is not None:
                change.details["iteration_id"] = iteration_id
            if current is not None and status == current["status"]:
                return dict(current), None
            return {
                "status": status,
                "accuracy": accuracy,
                "coverage": coverage,
                "iteration_id": iteration_id,
            }, change

        raised = [
            self._raiser.apply(
                workspace_id, CYCLE_TARGET_SUBJECT, target, agent_id=None, dashboard_path=CYCLES_PATH, now=now
            ),
            self._run_state(workspace_id, iteration_id, failed=False, error=None, now=now),
            self.routing_evaluated(workspace_id, now=now),
        ]
        return [alert for alert in raised if alert is not None]

    def cycle_failed(
        self, workspace_id: str, iteration_id: str, error: str, *, now: datetime
    ) -> AlertDetail | None:
        return self._run_state(workspace_id, iteration_id, failed=True, error=error, now=now)

    def _run_state(
        self, workspace_id: str, iteration_id: str, *, failed: bool, error: str | None, now: datetime
    ) -> AlertDetail | None:
        def run(current: Mapping[str, Any] | None) -> tuple[dict[str, Any], alert_state.Change | None]:
            status, change = alert_state.cycle_failed_transition(
                current["status"] if current else None, failed, error=error
            )
            if change is not None:
                change.details["iteration_id"] = iteration_id
            if current is not None and status == current["status"]:
                return dict(current), None
            return {"status": status, "iteration_id": iteration_id}, change

        return self._raiser.apply(
            workspace_id, CYCLE_RUN_SUBJECT, run, agent_id=None, dashboard_path=CYCLES_PATH, now=now
        )

    def routing_evaluated(
        self,
        workspace_id: str,
        evaluation: alert_state.RouterAgainstBestAgent | None = None,
        *,
        now: datetime,
    ) -> AlertDetail | None:
        """The emit point of ``RoutingUnderperforming``: the router's estimated value against the best
        fixed agent's and the interval of their difference. Given, or asked of the evaluator."""
        if evaluation is None and self._routing_evaluator is not None:
            evaluation = self._routing_evaluator(workspace_id, now)
        if evaluation is None:
            return None
        found = evaluation

        def routing(current: Mapping[str, Any] | None) -> tuple[dict[str, Any], alert_state.Change | None]:
            status, change = alert_state.routing_transition(current["status"] if current else None, found)
            if current is not None and status == current["status"]:
                return dict(current), None
            return {
                "status": status,
                "router_value": found.router_value,
                "best": found.best_fixed_value,
            }, change

        return self._raiser.apply(
            workspace_id, ROUTING_SUBJECT, routing, agent_id=None, dashboard_path=ROUTING_PATH, now=now
        )
