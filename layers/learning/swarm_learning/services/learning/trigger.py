"""Triggering learning cycles: on demand (one workspace) and on schedule (every workspace),
published as events for the cycle runner."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import boto3

from swarm_learning.clock import Clock, utcnow
from swarm_learning.config import Settings
from swarm_learning.dal.learner_state import LearnerStateStore, LeaseHeldError
from swarm_learning.dal.store import LearningStore
from swarm_learning.models.learning import (
    LearningCycleAccepted,
    TriggerLearningCycleRequest,
)
from swarm_learning.services.learning.base import (
    _EVENTS_PER_CALL,
    CYCLE_REQUESTED,
    EVENT_SOURCE,
    EventPublishError,
    new_iteration_id,
)
from swarm_learning.vocabulary import CycleTrigger, IterationStatus


class LearningTrigger:
    """Queues iterations and publishes the events that run them (on ``events``, an EventBridge
    client, created on first use when not given)."""

    def __init__(
        self,
        store: LearningStore,
        state: LearnerStateStore,
        settings: Settings,
        *,
        events: Any | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self._store = store
        self._state = state
        self._settings = settings
        self._events = events
        self._clock = clock

    @property
    def events(self) -> Any:
        if self._events is None:
            self._events = boto3.client("events")
        return self._events

    def trigger(self, request: TriggerLearningCycleRequest) -> LearningCycleAccepted:
        """Queue a cycle and publish the on-demand event (409 while one is running)."""
        now = self._clock()
        workspace_id = request.workspace_id
        holder = self._state.lease_holder(workspace_id, now=now)
        if holder is not None:
            raise LeaseHeldError(f"learning cycle {holder} is running for workspace {workspace_id}")
        iteration_id = new_iteration_id(now)
        self._state.create_iteration(
            workspace_id,
            iteration_id,
            {
                "requested_at": now,
                "trigger": CycleTrigger.ON_DEMAND.value,
                "lookback_days": request.lookback_days,
                "min_pattern_confidence": request.min_pattern_confidence,
            },
        )
        self._publish(
            [self._event(workspace_id, iteration_id, request.lookback_days, request.min_pattern_confidence)]
        )
        return LearningCycleAccepted(
            iteration_id=iteration_id,
            workspace_id=workspace_id,
            status=IterationStatus.QUEUED,
            requested_at=now,
            status_path=f"/api/v1/learning/learning-cycles/{iteration_id}?workspace_id={workspace_id}",
        )

    def schedule_all(self, run_at: datetime) -> list[str]:
        """The nightly run: one queued iteration and one event per workspace, so every workspace's
        cycle runs in its own invocation. Re-running for the same ``run_at`` re-sends only the
        iterations still queued."""
        events = []
        for workspace_id in self._store.workspaces():
            iteration_id = new_iteration_id(run_at, workspace_id)
            created = self._state.create_iteration(
                workspace_id,
                iteration_id,
                {
                    "requested_at": run_at,
                    "trigger": CycleTrigger.SCHEDULE.value,
                    "lookback_days": self._settings.learning_lookback_days,
                    "min_pattern_confidence": self._settings.learning_min_pattern_confidence,
                },
            )
            existing = None if created else self._state.get_iteration(workspace_id, iteration_id)
            if created or (existing is not None and existing["status"] == IterationStatus.QUEUED):
                events.append(
                    self._event(
                        workspace_id,
                        iteration_id,
                        self._settings.learning_lookback_days,
                        self._settings.learning_min_pattern_confidence,
                    )
                )
        for start in range(0, len(events), _EVENTS_PER_CALL):
            self._publish(events[start : start + _EVENTS_PER_CALL])
        return [json.loads(e["Detail"])["workspace_id"] for e in events]

    def _event(
        self, workspace_id: str, iteration_id: str, lookback_days: int, confidence: float
    ) -> dict[str, Any]:
        detail = {
            "workspace_id": workspace_id,
            "iteration_id": iteration_id,
            "lookback_days": lookback_days,
            "min_pattern_confidence": confidence,
        }
        return {
            "Source": EVENT_SOURCE,
            "DetailType": CYCLE_REQUESTED,
            "Detail": json.dumps(detail),
            "EventBusName": self._settings.event_bus_name,
        }

    def _publish(self, entries: list[dict[str, Any]]) -> None:
        response = self.events.put_events(Entries=entries)
        if response.get("FailedEntryCount", 0):
            now = self._clock()
            for entry, answer in zip(entries, response["Entries"], strict=True):
                if "ErrorCode" in answer:
                    detail = json.loads(entry["Detail"])
                    self._state.finish_iteration(
                        detail["workspace_id"],
                        detail["iteration_id"],
                        status=IterationStatus.FAILED,
                        now=now,
                        error=f"event not published: {answer['ErrorCode']}",
                    )
            raise EventPublishError("the event bus did not accept the learning cycle request; try again")
