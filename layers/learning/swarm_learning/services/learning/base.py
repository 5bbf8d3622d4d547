"""What the learning services share: the cycle event's names, iteration ids, how many rules ride on
the learner state's pointer item, and the error of an event bus that refuses the cycle's event."""

from __future__ import annotations

import hashlib
from datetime import datetime

from ulid import ULID

from swarm_learning.errors import LearningError

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
