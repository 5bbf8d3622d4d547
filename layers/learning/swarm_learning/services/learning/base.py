"""What the meta learner's parts share: its stores, settings, clock and event bus client."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import boto3
from ulid import ULID

from swarm_learning.clock import Clock, utcnow
from swarm_learning.config import Settings
from swarm_learning.dal.learner_state import LearnerStateStore
from swarm_learning.dal.store import LearningStore
from swarm_learning.errors import LearningError
from swarm_learning.services.learning.insights import InsightWriter

EVENT_SOURCE = "swarm.learning"
CYCLE_REQUESTED = "LearningCycleRequested"
ITERATION_PREFIX = "iter_"
_EVENTS_PER_CALL = 10  # PutEvents' limit
MARKER_RULES = 200  # the strongest rules ride on the state's pointer item, for routing (one read)


class EventPublishError(LearningError):
    """The event bus refused the cycle's event; the iteration is marked failed."""

    status_code = 503
    code = "event_bus_unavailable"


def new_iteration_id(at: datetime, workspace_id: str | None = None) -> str:
    """``iter_`` + a ULID: time-sortable. A scheduled run derives the random part from the workspace
    so a retried schedule names the same iteration (and does not run it twice)."""
    if workspace_id is None:
        return ITERATION_PREFIX + str(ULID.from_datetime(at))
    millis = int(at.timestamp() * 1000)
    entropy = hashlib.blake2b(workspace_id.encode(), digest_size=10).digest()
    return ITERATION_PREFIX + str(ULID.from_bytes(millis.to_bytes(6, "big") + entropy))


class LearnerBase:
    """The stores, settings, clock and event bus client of the meta learner."""

    def __init__(
        self,
        store: LearningStore,
        state: LearnerStateStore,
        settings: Settings,
        *,
        events: Any | None = None,
        insight_writer: InsightWriter | None = None,
        clock: Clock = utcnow,
        timer: Callable[[], float] | None = None,
    ) -> None:
        self._store = store
        self._state = state
        self._settings = settings
        self._events = events
        self._insight_writer = insight_writer
        self._clock = clock
        self._timer = timer

    @property
    def events(self) -> Any:
        if self._events is None:
            self._events = boto3.client("events")
        return self._events
