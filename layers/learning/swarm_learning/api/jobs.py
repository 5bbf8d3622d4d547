"""What the scheduled functions share."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from swarm_learning.clock import utcnow


def scheduled_time(event: Mapping[str, Any], *, period_minutes: int = 1) -> datetime:
    """The schedule's own time (``<aws.scheduler.scheduled-time>`` in the template's input), so a
    retried run names the same work and does not repeat it; invoked by hand, now, floored to the
    start of the current ``period_minutes``."""
    scheduled = event.get("time")
    if isinstance(scheduled, str):
        return datetime.fromisoformat(scheduled.replace("Z", "+00:00"))
    now = utcnow().replace(second=0, microsecond=0)
    minutes = now.hour * 60 + now.minute
    floored = minutes - minutes % period_minutes
    return now.replace(hour=floored // 60, minute=floored % 60)
