"""The dashboard's read endpoints (time series, routing decisions) through the real gateway,
authorizer and handlers on the embedded store, with injected clocks."""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime, timedelta

import pytest

from localdev import runtime
from localdev.lambda_context import LocalLambdaContext
from swarm_learning.services.series import reads as series
from swarm_learning.services.tracking import reads as tracked_reads
from swarm_learning.services.tracking import tracker as tracking
from swarm_learning.services.trust import service as trust_service
from tests.helpers.api import WORKSPACE, Api, issue_key
from tests.helpers.store import store_snapshot

SERIES = "/api/v1/learning/series"
DECISIONS = "/api/v1/learning/routing/decisions"
ROUTE = "/api/v1/learning/routing/select"
DAY1 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """One settable clock for tracking, trust, routing and the series (``clock[0] = ...``)."""
    now = [DAY1]
    for service in (
        tracking.get_tracker(),
        tracked_reads.get_tracked_reads(),
        trust_service.get_trust_scores(),
        trust_service.get_routing(),
        series.get_series_service(),
    ):
        monkeypatch.setattr(service, "_clock", lambda: now[0])
    return now


def _record(api: Api, agent: str, qualities: list[float], rtype: str = "strategy") -> None:
    for quality in qualities:
        rid = api.track(agent_id=agent, agent_name=f"Agent {agent}", recommendation_type=rtype)[
            "recommendation_id"
        ]
        assert api.evaluate(rid, overall_quality_score=quality)[0] == 200


def _get(api: Api, path: str, **query: object) -> dict:
    status, body = api.call("GET", path, query={"workspace_id": WORKSPACE, **query})
    assert status == 200, body
    return body


def test_workspace_series_lists_every_day_of_the_window_with_its_counts(
    api: Api, clock: list[datetime]
) -> None:
    _record(api, "STRAT-01", [90, 60])
    api.track(agent_id="STRAT-01")  # stays pending
    clock[0] = DAY1 + timedelta(days=2)
    _record(api, "CONT-01", [10], rtype="content")

    body = _get(api, f"{SERIES}/workspace", days=3)
    assert (body["first_day"], body["last_day"]) == ("2026-11-20", "2026-11-22")
    first, empty, last = body["days"]
    assert first == {
        "day": "2026-11-20",
        "tracked": 3,
        "evaluated": 2,
        "approved": 1,
        "partial": 1,
        "rejected": 0,
        "approval_rate": 0.75,
        "avg_quality_score": 75.0,
    }
    assert (empty["tracked"], empty["evaluated"], empty["approval_rate"]) == (0, 0, None)
    assert (last["day"], last["tracked"], last["rejected"], last["approval_rate"]) == (
        "2026-11-22",
        1,
        1,
        0.0,
    )


def test_agent_series_count_each_agent_once_per_day_and_page_through_agents(
    api: Api, clock: list[datetime]
) -> None:
    # Two types for one agent: its all-types bucket is read, not the per-type ones too.
    _record(api, "A-1", [90], rtype="strategy")
    _record(api, "A-1", [90], rtype="content")
    _record(api, "B-1", [10])
    _record(api, "C-1", [90, 90])

    first = _get(api, f"{SERIES}/agents", days=1, limit=2)
    assert [a["agent_id"] for a in first["items"]] == ["A-1", "B-1"]
    assert first["items"][0]["agent_name"] == "Agent A-1"
    assert first["items"][0]["days"][0]["evaluated"] == 2
    second = _get(api, f"{SERIES}/agents", days=1, limit=2, next_token=first["next_token"])
    assert [a["agent_id"] for a in second["items"]] == ["C-1"]
    assert second["items"][0]["days"][0]["approved"] == 2
    assert second["next_token"] is None

    status, body = api.call(
        "GET",
        f"{SERIES}/agents",
        query={"workspace_id": "ws_other", "next_token": first["next_token"]},
    )
    assert (status, body["details"][0]["field"]) == (400, "next_token")  # a token of another workspace


def test_trust_series_keeps_each_days_last_snapshot_with_its_interval(
    api: Api, clock: list[datetime]
) -> None:
    _record(api, "STRAT-01", [90, 90, 80, 20])
    service = trust_service.get_trust_refresh()
    service.refresh_all(DAY1.replace(hour=10))
    _record(api, "STRAT-01", [90, 95])
    service.refresh_all(DAY1.replace(hour=22))
    clock[0] = DAY1 + timedelta(days=1)
    service.refresh_all(clock[0])

    body = _get(api, f"{SERIES}/trust", days=7)
    (agent,) = body["items"]
    day1, day2 = agent["points"]
    assert day1["day"] == "2026-11-20"
    assert day1["computed_at"].startswith("2026-11-20T22:00:00")
    assert day1["evaluated"] == 6
    for point in (day1, day2):
        assert point["overall_trust_lower_bound"] <= point["overall_trust_score"]
        assert point["overall_trust_score"] <= point["overall_trust_upper_bound"]
    assert _get(api, f"{SERIES}/trust", days=1)["items"][0]["points"] == [day2]


def test_routing_series_counts_choices_per_day_and_decisions_page_newest_first(
    api: Api, clock: list[datetime]
) -> None:
    _record(api, "GOOD", [95] * 6)
    _record(api, "BAD", [5] * 6)
    decision = {"workspace_id": WORKSPACE, "recommendation_type": "strategy", "candidates": ["GOOD", "BAD"]}
    made = []
    for day, k in ((0, 1), (0, 2), (2, 1)):
        clock[0] = DAY1 + timedelta(days=day, minutes=len(made))
        status, answer = api.call(
            "POST", ROUTE, body={**decision, "k": k, "mode": "exploit", "exploration_floor": 0}
        )
        assert status == 200, answer
        made.append(answer)

    routing = _get(api, f"{SERIES}/routing", days=3)
    assert routing["days"] == ["2026-11-20", "2026-11-21", "2026-11-22"]
    assert routing["decisions"] == [2, 0, 1]
    assert routing["items"] == [
        {"agent_id": "GOOD", "chosen": [2, 0, 1], "total": 3},
        {"agent_id": "BAD", "chosen": [1, 0, 0], "total": 1},
    ]
    assert routing["complete"] is True

    page = _get(api, DECISIONS, days=3, limit=2)
    assert [d["decision_id"] for d in page["items"]] == [made[2]["decision_id"], made[1]["decision_id"]]
    assert page["items"][0]["chosen"] == made[2]["chosen"]
    assert 0 <= page["items"][0]["chosen"][0]["probability"] <= 1
    rest = _get(api, DECISIONS, days=3, limit=2, next_token=page["next_token"])
    assert [d["decision_id"] for d in rest["items"]] == [made[0]["decision_id"]]
    assert _get(api, DECISIONS, days=1)["count"] == 1  # only today's


def test_trust_scores_carry_the_decision_boost_of_each_type(api: Api) -> None:
    _record(api, "STRAT-01", [90] * 5)
    _record(api, "STRAT-01", [10] * 5, rtype="content")
    # A boost is against a par agent of the workspace: a peer with mixed results sets the par.
    _record(api, "PEER-01", [90, 10] * 3)
    _record(api, "PEER-01", [90, 10] * 3, rtype="content")
    trust = _get(api, "/api/v1/learning/trust-scores/STRAT-01")
    for rtype in ("strategy", "content"):
        boost = _get(api, "/api/v1/learning/agents/STRAT-01/decision-boost", recommendation_type=rtype)
        assert trust["decision_boosts"][rtype] == boost["decision_boost"]
    assert trust["decision_boosts"]["strategy"] > 1 > trust["decision_boosts"]["content"]


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        (f"{SERIES}/workspace", {"days": 0}, "days"),
        (f"{SERIES}/agents", {"days": 181}, "days"),
        (f"{SERIES}/trust", {"limit": 101}, "limit"),
        (f"{SERIES}/routing", {"days": "week"}, "days"),
        (DECISIONS, {"next_token": "bm9wZQ"}, "next_token"),
    ],
)
def test_bad_parameters_are_named_and_change_nothing(api: Api, path: str, query: dict, field: str) -> None:
    before = store_snapshot()
    status, body = api.call("GET", path, query={"workspace_id": WORKSPACE, **query})
    assert status in (400, 422)
    assert body["details"][0]["field"] == field
    assert store_snapshot() == before


@pytest.mark.parametrize("path", ["workspace", "agents", "trust", "routing"])
def test_series_need_a_key_that_allows_the_workspace(api: Api, path: str) -> None:
    assert (
        api.call("GET", f"{SERIES}/{path}", query={"workspace_id": WORKSPACE}, authenticated=False)[0] == 401
    )
    elsewhere = api.as_key(issue_key(("ws_elsewhere",)))
    assert elsewhere.call("GET", f"{SERIES}/{path}", query={"workspace_id": WORKSPACE})[0] == 403


def test_a_workspace_sees_only_its_own_series(api: Api, clock: list[datetime]) -> None:
    _record(api, "STRAT-01", [90])
    api.call(
        "POST",
        ROUTE,
        body={"workspace_id": WORKSPACE, "recommendation_type": "strategy", "candidates": ["STRAT-01"]},
    )
    other = {"workspace_id": "ws_other"}
    assert api.call("GET", f"{SERIES}/workspace", query={**other, "days": 1})[1]["days"][0]["tracked"] == 0
    assert api.call("GET", f"{SERIES}/agents", query=other)[1]["items"] == []
    assert api.call("GET", f"{SERIES}/routing", query=other)[1]["items"] == []
    assert api.call("GET", DECISIONS, query=other)[1]["items"] == []


def _handler_with_origin(monkeypatch: pytest.MonkeyPatch, origin: str):  # type: ignore[no-untyped-def]
    """The query function as deployed with ``DASHBOARD_ORIGIN`` (imported afresh: the resolver
    reads it at import, as on a cold start)."""
    monkeypatch.setenv("DASHBOARD_ORIGIN", origin)
    spec = importlib.util.spec_from_file_location(
        "query_with_cors", runtime.tpl.ROOT / "functions/query/app.py"
    )
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lambda_handler


def test_cors_allows_the_dashboards_origin_only(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    dashboard = "https://d111111abcdef8.cloudfront.net"
    handler = _handler_with_origin(monkeypatch, dashboard)
    query_function = next(s for s in api.functions.specs if s.logical_id == "QueryFunction")
    allowed = {"workspaces": WORKSPACE, "key_id": "k"}

    def call(origin: str, workspace: str = WORKSPACE) -> dict:
        found = api.functions.route("GET", f"{SERIES}/workspace")
        assert found
        assert found[0] is query_function
        event = api.functions.route_event(
            found,
            "GET",
            f"{SERIES}/workspace",
            query={"workspace_id": [workspace]},
            headers={"Origin": origin},
            authorizer=allowed,
        )
        return handler(event, LocalLambdaContext(function_name="QueryFunction"))

    ok = call(dashboard)
    assert ok["statusCode"] == 200
    headers = {
        **(ok.get("headers") or {}),
        **{k: v[0] for k, v in (ok.get("multiValueHeaders") or {}).items()},
    }
    assert headers["Access-Control-Allow-Origin"] == dashboard
    assert "Idempotency-Key" in headers["Access-Control-Allow-Headers"]
    stranger = call("https://evil.example")
    all_headers = json.dumps([stranger.get("headers"), stranger.get("multiValueHeaders")])
    assert "Access-Control-Allow-Origin" not in all_headers
    refused = call(dashboard, workspace="ws_elsewhere")  # refused before any route: still readable
    assert refused["statusCode"] == 403
    assert refused["headers"]["Access-Control-Allow-Origin"] == dashboard
