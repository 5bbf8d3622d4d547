"""The alerts' parts, assembled once per process, and the alerts feed (``GET /alerts``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from swarm_learning.config import get_settings
from swarm_learning.dal.alerts import AlertStore, get_alert_store
from swarm_learning.dal.store import get_store
from swarm_learning.dal.workspace_settings import get_workspace_settings_store
from swarm_learning.domain.alert_state import RouterAgainstBestAgent
from swarm_learning.models.alerts import AlertDetail, AlertPage
from swarm_learning.services.alerts.agents import AgentAlerts
from swarm_learning.services.alerts.cycles import CycleAlerts, from_router_comparison
from swarm_learning.services.alerts.raiser import AlertRaiser
from swarm_learning.services.trust.evaluation import get_routing_evaluation
from swarm_learning.vocabulary import AlertKind


class AlertReads:
    def __init__(self, store: AlertStore) -> None:
        self._store = store

    def page(
        self,
        workspace_id: str,
        *,
        limit: int,
        next_token: str | None,
        kind: AlertKind | None = None,
        agent_id: str | None = None,
    ) -> AlertPage:
        """The workspace's alerts, newest first, filtered by kind and/or agent."""
        page = self._store.alerts_page(
            workspace_id,
            limit=limit,
            next_token=next_token,
            kind=kind.value if kind else None,
            agent_id=agent_id,
        )
        items = [
            AlertDetail.model_validate({k: v for k, v in record.items() if k != "published_at"})
            for record in page.items
        ]
        return AlertPage(workspace_id=workspace_id, items=items, count=len(items), next_token=page.next_token)


@cache
def get_alert_raiser() -> AlertRaiser:
    return AlertRaiser(get_alert_store(), get_settings())


@cache
def get_agent_alerts() -> AgentAlerts:
    settings_store = get_workspace_settings_store()
    # A workspace's own min_trust (PUT /workspace-settings) when it set one, else ALERT_MIN_TRUST.
    return AgentAlerts(
        get_store(),
        get_alert_raiser(),
        get_settings(),
        min_trust_of=lambda workspace_id: settings_store.get(workspace_id).min_trust,
    )


# The window RoutingUnderperforming judges: POST /routing/evaluate's default lookback.
ROUTING_ALERT_LOOKBACK = timedelta(days=30)


def _router_against_best_agent(workspace_id: str, now: datetime) -> RouterAgainstBestAgent | None:
    """Issue 20's off-policy comparison of the router with the best fixed agent, as the alert reads it."""
    comparison = get_routing_evaluation().router_against_best_agent(
        workspace_id, since=now - ROUTING_ALERT_LOOKBACK, until=now
    )
    return from_router_comparison(comparison)


@cache
def get_cycle_alerts() -> CycleAlerts:
    return CycleAlerts(get_alert_raiser(), routing_evaluator=_router_against_best_agent)


@cache
def get_alert_reads() -> AlertReads:
    return AlertReads(get_alert_store())
