"""The simulated history (``serve --history``, the dashboard's tests and screenshots): days that
have passed, written by the layer's own services, read back through the API."""

from __future__ import annotations

from datetime import UTC, datetime

from localdev.history import seed_history
from swarm_learning.services.series import reads as series
from tests.helpers.api import Api

END = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
WORKSPACE = "ws_learn"


def test_history_spreads_over_days_with_snapshots_decisions_and_cycles(api: Api, monkeypatch) -> None:
    summary = seed_history(WORKSPACE, days=3, workflows_per_day=2, seed=5, end=END, n_agents=4)
    assert (summary.days, summary.workflows, summary.learning_cycles) == (3, 6, 1)
    assert summary.routing_decisions == 3 * (4 + 2)  # 4 a day, and each workflow's lead
    assert 0 < summary.evaluated <= summary.tracked

    monkeypatch.setattr(series.get_series_service(), "_clock", lambda: END)
    query = {"workspace_id": WORKSPACE, "days": 3}
    _, days = api.call("GET", "/api/v1/learning/series/workspace", query=query)
    assert [d["day"] for d in days["days"]] == ["2026-11-28", "2026-11-29", "2026-11-30"]
    assert sum(d["tracked"] for d in days["days"]) == summary.tracked
    assert sum(d["evaluated"] for d in days["days"]) == summary.evaluated
    assert all(d["tracked"] > 0 for d in days["days"])  # every simulated day has happened

    _, trust = api.call("GET", "/api/v1/learning/series/trust", query=query)
    # One refresh a day, from the day an agent first recommended something.
    points = [len(agent["points"]) for agent in trust["items"]]
    assert max(points) == 3
    assert min(points) >= 1
    _, routing = api.call("GET", "/api/v1/learning/series/routing", query=query)
    assert routing["decisions"] == [6, 6, 6]
    _, cycles = api.call("GET", "/api/v1/learning/learning-cycles", query={"workspace_id": WORKSPACE})
    assert [c["status"] for c in cycles["items"]] == ["succeeded"]
    assert cycles["items"][0]["completed_at"] <= END.isoformat().replace("+00:00", "Z")
