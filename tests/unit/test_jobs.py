"""The run time of a scheduled function."""

from __future__ import annotations

from datetime import UTC, datetime

from swarm_learning import clock
from swarm_learning.api.jobs import scheduled_time


def test_the_schedules_own_time_names_the_run() -> None:
    assert scheduled_time({"time": "2026-11-24T02:00:00Z"}) == datetime(2026, 11, 24, 2, tzinfo=UTC)


def test_by_hand_the_run_is_the_start_of_the_current_period() -> None:
    with clock.installed(lambda: datetime(2026, 11, 24, 13, 47, 31, 5, tzinfo=UTC)):
        assert scheduled_time({}, period_minutes=360) == datetime(2026, 11, 24, 12, tzinfo=UTC)
        assert scheduled_time({}) == datetime(2026, 11, 24, 13, 47, tzinfo=UTC)
