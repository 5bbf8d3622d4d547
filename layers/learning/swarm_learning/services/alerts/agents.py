"""The agent alerts the trust refresh raises: performance declined / recovered (the drift detector
on the agent's last outcomes) and trust crossing the workspace's ``min_trust``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from swarm_learning.config import Settings
from swarm_learning.dal.store import LearningStore
from swarm_learning.domain import alert_state, drift
from swarm_learning.models.alerts import AlertDetail
from swarm_learning.services.alerts.raiser import AlertRaiser, state_dict

# A workspace's own min_trust (its settings record), or None to use ALERT_MIN_TRUST.
MinTrustOf = Callable[[str], float | None]


def trend_subject(agent_id: str) -> str:
    return f"trend#{agent_id}"


def trust_subject(agent_id: str) -> str:
    return f"trust#{agent_id}"


def agent_dashboard_path(agent_id: str) -> str:
    return f"#/agents/{agent_id}"


class AgentAlerts:
    """Reads one agent's last outcomes and trust at a refresh, and moves its two alert states."""

    def __init__(
        self,
        store: LearningStore,
        raiser: AlertRaiser,
        settings: Settings,
        *,
        config: drift.DriftConfig | None = None,
        min_trust_of: MinTrustOf | None = None,
    ) -> None:
        self._store = store
        self._raiser = raiser
        self._settings = settings
        self._config = config or drift.DriftConfig()
        self._min_trust_of = min_trust_of or (lambda _workspace_id: None)

    def min_trust(self, workspace_id: str) -> float:
        own = self._min_trust_of(workspace_id)
        return self._settings.alert_min_trust if own is None else own

    def observe(
        self, workspace_id: str, agent_id: str, *, trust: float, evaluated: int, now: datetime
    ) -> list[AlertDetail]:
        """The agent's state after this refresh; returns the alerts raised (at most one each)."""
        statuses = self._store.recent_outcomes(workspace_id, agent_id, limit=self._config.window, now=now)
        values = [1.0 if status == "approved" else 0.0 for status in reversed(statuses)]  # oldest first
        raised = [
            self._raiser.apply(
                workspace_id,
                trend_subject(agent_id),
                lambda current: self._trend(current, values),
                agent_id=agent_id,
                dashboard_path=agent_dashboard_path(agent_id),
                now=now,
            ),
            self._raiser.apply(
                workspace_id,
                trust_subject(agent_id),
                lambda current: self._threshold(current, trust, evaluated, self.min_trust(workspace_id)),
                agent_id=agent_id,
                dashboard_path=agent_dashboard_path(agent_id),
                now=now,
            ),
        ]
        return [alert for alert in raised if alert is not None]

    def _trend(
        self, current: Mapping[str, Any] | None, values: Sequence[float]
    ) -> tuple[dict[str, Any] | None, alert_state.Change | None]:
        state = alert_state.TrendState(**current) if current else None
        cut = (
            drift.decline(values, self._config)
            if state is None or state.status != alert_state.DECLINED
            else None
        )
        new, change = alert_state.trend_transition(state, cut, values, self._config)
        return state_dict(new), change

    @staticmethod
    def _threshold(
        current: Mapping[str, Any] | None, trust: float, evaluated: int, min_trust: float
    ) -> tuple[dict[str, Any] | None, alert_state.Change | None]:
        status, change = alert_state.threshold_transition(
            current["status"] if current else None,
            trust,
            min_trust,
            evidence_n=evaluated,
            previous_score=current.get("score") if current else None,
        )
        if current is not None and status == current["status"]:
            return dict(current), None
        return {"status": status, "score": round(trust, 4), "min_trust": min_trust}, change
