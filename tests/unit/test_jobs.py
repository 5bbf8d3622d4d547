"""The run time of a scheduled function."""

from __future__ import annotations

from datetime import UTC, datetime

from swarm_learning.api.jobs import scheduled_time


def test_the_schedules_own_time_names_the_run() -> None:
    assert scheduled_time({"time": "2026-11-24T02:00:00Z"}) == datetime(2026, 11, 24, 2, tzinfo=UTC)


def test_by_hand_the_run_is_the_start_of_the_current_period() -> None:
    run_at = scheduled_time({}, period_minutes=360)
    now = datetime.now(UTC)
    assert run_at.tzinfo is not None
    assert (run_at.hour % 6, run_at.minute, run_at.second) == (0, 0, 0)
    assert 0 <= (now - run_at).total_seconds() < 6 * 3600 + 60
    minute = scheduled_time({})
    assert minute.second == minute.microsecond == 0
