"""The pattern-refresh job: revalidates the current patterns on newer outcomes between cycles."""

from __future__ import annotations

from datetime import datetime, timedelta

from ulid import ULID

from swarm_learning.clock import Clock, utcnow
from swarm_learning.config import Settings
from swarm_learning.dal.learner_state import LearnerStateStore, LeaseHeldError
from swarm_learning.dal.store import LearningStore
from swarm_learning.services.learning.base import MARKER_RULES
from swarm_learning.services.learning.runner import rule_state


class PatternRefresh:
    """Revalidates each workspace's current patterns and drops those that stopped holding."""

    def __init__(
        self, store: LearningStore, state: LearnerStateStore, settings: Settings, *, clock: Clock = utcnow
    ) -> None:
        self._store = store
        self._state = state
        self._settings = settings
        self._clock = clock

    def refresh_patterns(self, workspace_id: str, *, run_at: datetime) -> dict[str, int] | None:
        """Drop low-confidence patterns and re-validate the rest on the lookback window's data;
        publish the survivors (and their rules) as a new version. None if nothing was learned yet
        or a cycle holds the lease."""
        from swarm_learning.domain import cycle as learning  # numpy: see _cycle
        from swarm_learning.domain.features import FeatureBuilder
        from swarm_learning.domain.pattern_validation import revalidate
        from swarm_learning.domain.patterns import MiningConfig, Pattern

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
            state["rules"] = [rule_state(r) for r in learning.rules(outcome.kept, table)]
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
