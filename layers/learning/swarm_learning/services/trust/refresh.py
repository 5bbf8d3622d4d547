"""The trust-refresh job and the history it leaves: a snapshot of every agent's scores per run."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from swarm_learning.dal.store import LearningStore
from swarm_learning.errors import NotFoundError
from swarm_learning.models.trust import (
    TrustHistory,
    TrustSnapshot,
)
from swarm_learning.parallel import AGENT_READS, map_all
from swarm_learning.services.alerts.agents import AgentAlerts
from swarm_learning.services.trust.scores import TrustScores, WorkspaceBaselines


class TrustRefresh:
    """Snapshots every agent's trust (scored by ``scores``) once per run; serves the snapshots."""

    def __init__(self, scores: TrustScores, store: LearningStore) -> None:
        self._scores = scores
        self._store = store

    def refresh_all(self, run_at: datetime, *, alerts: AgentAlerts | None = None) -> dict[str, int]:
        """Recompute every agent's trust and store a snapshot per agent (the trust-refresh job);
        with ``alerts``, move each agent's alert states (docs/alerts.md) after its snapshot."""
        workspaces: dict[str, WorkspaceBaselines] = {}
        lock = threading.Lock()

        def workspace_of(workspace_id: str) -> WorkspaceBaselines:
            # Each workspace's totals are read once per run, whichever thread gets there first.
            with lock:
                if workspace_id not in workspaces:
                    workspaces[workspace_id] = self._scores.workspace_baselines(workspace_id, run_at.date())
                return workspaces[workspace_id]

        def refresh(entry: dict[str, Any]) -> str:
            workspace_id = entry["workspace_id"]
            score = self._scores.score(workspace_id, entry, run_at, workspace_of(workspace_id))
            self._store.put_trust_snapshot(
                workspace_id,
                entry["agent_id"],
                {
                    **score.model_dump(mode="json", exclude={"computed_at", "calibration"}),
                    "computed_at": run_at,
                },
            )
            if alerts is not None:
                alerts.observe(
                    workspace_id,
                    entry["agent_id"],
                    trust=score.overall_trust_score,
                    evaluated=score.evidence.evaluated,
                    now=run_at,
                )
            return workspace_id

        refreshed: dict[str, int] = {}
        for workspace_id in map_all(AGENT_READS, refresh, self._store.iter_all_agents()):
            refreshed[workspace_id] = refreshed.get(workspace_id, 0) + 1
        return refreshed

    def history(self, workspace_id: str, agent_id: str, *, limit: int) -> TrustHistory:
        """The refresh job's snapshots, newest first (for trends and charts)."""
        if self._store.agent_directory_entry(workspace_id, agent_id) is None:
            raise NotFoundError(f"agent {agent_id} not found", field="agent_id")
        snapshots = self._store.trust_history(workspace_id, agent_id, limit=limit)
        fields = set(TrustSnapshot.model_fields) - {"evaluated"}
        return TrustHistory(
            workspace_id=workspace_id,
            agent_id=agent_id,
            items=[
                TrustSnapshot.model_validate(
                    {**{k: s[k] for k in fields if k in s}, "evaluated": s["evidence"]["evaluated"]}
                )
                for s in snapshots
            ],
        )
