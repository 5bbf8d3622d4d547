"""Trust scores, manual updates, decision boost, routing and the trust-refresh job, through the
real handlers on the embedded store."""

from __future__ import annotations

import boto3
import pytest

from tests.helpers.api import WORKSPACE, Api
from tests.helpers.seeding import record_outcomes, track_and_evaluate

TRUST = "/api/v1/learning/trust-scores"
ROUTE = "/api/v1/learning/routing/select"


def _trust(api: Api, agent: str) -> dict:
    status, body = api.call("GET", f"{TRUST}/{agent}", query={"workspace_id": WORKSPACE})
    assert status == 200, body
    return body


def test_initialize_registers_once_and_starts_at_the_prior(api: Api) -> None:
    payload = {"workspace_id": WORKSPACE, "agent_id": "NEW-01", "agent_name": "Newcomer"}
    status, first = api.call("POST", TRUST, body=payload)
    assert status == 201
    assert first["accuracy_score"] == 0.5
    assert first["overall_trust_score"] == 0
    assert first["provisional"] is True
    assert first["evidence"]["evaluated"] == 0
    status, again = api.call("POST", TRUST, body={**payload, "agent_name": "Renamed"})
    assert status == 200
    assert again["agent_name"] == "Renamed"


def test_trust_score_carries_the_seed_fields_and_the_counts_behind_them(api: Api) -> None:
    record_outcomes("STRAT-01", approvals=8, rejections=2)
    record_outcomes("STRAT-01", approvals=1, rejections=3, rtype="content")
    trust = _trust(api, "STRAT-01")
    for field in (
        "agent_id",
        "agent_name",
        "overall_trust_score",
        "accuracy_score",
        "consistency_score",
        "approval_rate",
        "avg_quality_score",
        "trend",
        "recommendation_strength",
    ):
        assert field in trust
    assert trust["evidence"]["evaluated"] == 14
    assert trust["evidence"]["approved"] == 9
    assert trust["approval_rate"] == pytest.approx(9 / 14)
    assert trust["accuracy_lower_bound"] < trust["accuracy_score"] < trust["accuracy_upper_bound"]
    assert len(trust["calibration"]) == 10
    assert sum(b["count"] for b in trust["calibration"]) == 14
    assert set(trust["by_type"]) == {"strategy", "content"}
    assert trust["by_type"]["strategy"]["accuracy_score"] > trust["by_type"]["content"]["accuracy_score"]
    assert trust["provisional"] is False


def test_unknown_agent_is_404(api: Api) -> None:
    status, body = api.call("GET", f"{TRUST}/NOBODY", query={"workspace_id": WORKSPACE})
    assert status == 404
    assert body["details"][0]["field"] == "agent_id"


@pytest.mark.slow
def test_list_sorts_and_min_trust_judges_the_overall_score(api: Api) -> None:
    # min_trust is judged on overall_trust_score (the seed's trusted agents); thin evidence is held
    # back by the confidence factor: two straight approvals score far below a proven record.
    record_outcomes("GOOD", approvals=30, rejections=2)
    record_outcomes("BAD", approvals=3, rejections=25)
    record_outcomes("LUCKY", approvals=2, rejections=0)  # high mean, little evidence
    status, listing = api.call("GET", TRUST, query={"workspace_id": WORKSPACE})
    assert status == 200
    ids = [t["agent_id"] for t in listing["items"]]
    assert ids[0] == "GOOD"
    assert ids[-1] in {"BAD", "LUCKY"}
    lucky = next(t for t in listing["items"] if t["agent_id"] == "LUCKY")
    threshold = (lucky["overall_trust_score"] + listing["items"][0]["overall_trust_score"]) / 2
    _, trusted = api.call("GET", TRUST, query={"workspace_id": WORKSPACE, "min_trust": threshold})
    assert [t["agent_id"] for t in trusted["items"]] == ["GOOD"]
    _, by_name = api.call(
        "GET", TRUST, query={"workspace_id": WORKSPACE, "sort_by": "agent_id", "order": "asc"}
    )
    assert [t["agent_id"] for t in by_name["items"]] == ["BAD", "GOOD", "LUCKY"]


def test_manual_update_is_bounded_recorded_and_leaves_the_evidence(api: Api) -> None:
    record_outcomes("STRAT-01", approvals=5, rejections=5)
    before = _trust(api, "STRAT-01")
    status, adjusted = api.call(
        "POST",
        f"{TRUST}/STRAT-01/adjustments",
        body={
            "workspace_id": WORKSPACE,
            "outcome_quality_score": 100,
            "accuracy_impact": 1.0,
            "consistency_impact": -1.0,
            "reason": "post-mortem credited this agent",
        },
    )
    assert status == 200, adjusted
    assert adjusted["accuracy_delta"] == pytest.approx(0.1)  # 0.1 * (0.5 + 1.0), bounded by the rate
    assert adjusted["consistency_delta"] == pytest.approx(-0.05)  # 0.1 * (0.5 - 1.0)
    after = adjusted["trust"]
    assert after["accuracy_score"] == pytest.approx(before["accuracy_score"] + 0.1)
    assert after["evidence"] == before["evidence"]
    assert after["adjustments"] == 1
    for _ in range(5):
        api.call(
            "POST",
            f"{TRUST}/STRAT-01/adjustments",
            body={
                "workspace_id": WORKSPACE,
                "outcome_quality_score": 100,
                "accuracy_impact": 1,
                "reason": "again",
            },
        )
    capped = _trust(api, "STRAT-01")
    assert capped["accuracy_adjustment"] == pytest.approx(0.25)
    items = boto3.client("dynamodb").scan(TableName="StatisticsTable")["Items"]
    reasons = [i["reason"]["S"] for i in items if i["sk"]["S"].startswith("ADJ#")]
    assert len(reasons) == 6
    assert "post-mortem credited this agent" in reasons


def test_manual_update_of_an_unknown_agent_is_404_and_stores_nothing(api: Api) -> None:
    status, _ = api.call(
        "POST",
        f"{TRUST}/NOBODY/adjustments",
        body={"workspace_id": WORKSPACE, "outcome_quality_score": 50, "reason": "x"},
    )
    assert status == 404
    assert boto3.client("dynamodb").scan(TableName="StatisticsTable")["Count"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"outcome_quality_score": 50}, "reason"),
        ({"outcome_quality_score": 150, "reason": "x"}, "outcome_quality_score"),
        ({"outcome_quality_score": 50, "reason": "x", "accuracy_impact": 2}, "accuracy_impact"),
        ({"outcome_quality_score": 50, "reason": "x", "learning_rate": 0.9}, "learning_rate"),
    ],
)
def test_invalid_manual_updates_are_422(api: Api, body: dict, field: str) -> None:
    status, answer = api.call(
        "POST", f"{TRUST}/STRAT-01/adjustments", body={"workspace_id": WORKSPACE, **body}
    )
    assert status == 422
    assert field in {d["field"] for d in answer["details"]}


@pytest.mark.slow
def test_decision_boost_is_neutral_without_evidence_and_follows_trust(api: Api) -> None:
    def boost(agent: str) -> float:
        status, body = api.call(
            "GET",
            f"/api/v1/learning/agents/{agent}/decision-boost",
            query={"workspace_id": WORKSPACE, "recommendation_type": "strategy"},
        )
        assert status == 200
        return body["decision_boost"]

    assert boost("UNKNOWN") == 1.0
    record_outcomes("GOOD", approvals=20, rejections=1)
    record_outcomes("BAD", approvals=1, rejections=20)
    record_outcomes("OTHER", approvals=20, rejections=0, rtype="content")
    assert 1.0 < boost("GOOD") <= 1.5
    assert 0.5 <= boost("BAD") < 1.0
    assert boost("OTHER") == 1.0  # no evidence for this type


@pytest.mark.slow
def test_routing_prefers_proven_agents_and_logs_each_decision(api: Api) -> None:
    record_outcomes("GOOD", approvals=25, rejections=1)
    record_outcomes("BAD", approvals=1, rejections=25)
    picks = []
    for _ in range(10):
        status, decision = api.call(
            "POST",
            ROUTE,
            body={
                "workspace_id": WORKSPACE,
                "recommendation_type": "strategy",
                "candidates": ["GOOD", "BAD"],
                "exploration_floor": 0,  # the default 0.05 seats BAD first 2.5 % of the time
            },
        )
        assert status == 200, decision
        (chosen,) = decision["chosen"]
        assert 0 <= chosen["probability"] <= 1
        picks.append(chosen["agent_id"])
    assert picks.count("GOOD") == 10
    logged = boto3.client("dynamodb").scan(TableName="RoutingDecisionsTable")["Items"]
    assert len(logged) == 10
    assert {i["workspace_id"]["S"] for i in logged} == {WORKSPACE}


@pytest.mark.slow
def test_exploit_mode_ranks_by_lower_bound(api: Api) -> None:
    record_outcomes("STEADY", approvals=40, rejections=10)
    record_outcomes("LUCKY", approvals=2, rejections=0)
    status, decision = api.call(
        "POST",
        ROUTE,
        body={
            "workspace_id": WORKSPACE,
            "recommendation_type": "strategy",
            "candidates": ["LUCKY", "STEADY", "NEW"],
            "k": 2,
            "mode": "exploit",
            "exploration_floor": 0,
        },
    )
    assert status == 200
    assert [c["agent_id"] for c in decision["chosen"]] == ["STEADY", "LUCKY"]


@pytest.mark.parametrize(
    "body",
    [
        {"candidates": ["A", "B"], "k": 3},
        {"candidates": ["A", "A"]},
        {"candidates": []},
        {"candidates": ["A"], "mode": "greedy"},
    ],
)
def test_invalid_routing_requests_are_422_and_log_nothing(api: Api, body: dict) -> None:
    status, _ = api.call(
        "POST", ROUTE, body={"workspace_id": WORKSPACE, "recommendation_type": "strategy", **body}
    )
    assert status == 422
    assert boto3.client("dynamodb").scan(TableName="RoutingDecisionsTable")["Count"] == 0


def test_refresh_job_snapshots_every_agent_once_per_run(api: Api) -> None:
    record_outcomes("A-1", approvals=3, rejections=1)
    record_outcomes("A-2", approvals=1, rejections=3)
    api.track(agent_id="A-3", workspace_id="ws_other")
    run = {"job": "trust_refresh", "time": "2026-11-24T06:00:00Z"}
    assert api.functions.invoke("TrustRefreshFunction", run)["agents"] == 3
    assert api.functions.invoke("TrustRefreshFunction", run)["agents"] == 3  # a retried run
    api.functions.invoke("TrustRefreshFunction", {**run, "time": "2026-11-24T12:00:00Z"})
    status, history = api.call("GET", f"{TRUST}/A-1/history", query={"workspace_id": WORKSPACE})
    assert status == 200
    assert [h["computed_at"] for h in history["items"]] == ["2026-11-24T12:00:00Z", "2026-11-24T06:00:00Z"]
    assert history["items"][0]["evaluated"] == 4


def test_a_failing_refresh_raises_for_the_retry_and_dead_letter_path(api: Api, monkeypatch) -> None:
    from swarm_learning.services.trust import refresh as trust_refresh

    def broken(*_args, **_kwargs):
        raise RuntimeError("statistics unavailable")

    monkeypatch.setattr(trust_refresh.TrustRefresh, "refresh_all", broken)
    with pytest.raises(RuntimeError, match="statistics unavailable"):
        api.functions.invoke("TrustRefreshFunction", {"job": "trust_refresh", "time": "2026-11-24T06:00:00Z"})


def test_each_dimension_says_what_it_stands_on_and_none_when_nothing_was_reported(api: Api) -> None:
    record_outcomes("STRAT-01", approvals=8, rejections=2)
    unmeasured = _trust(api, "STRAT-01")["dimension_evidence"]
    # No latency and no failed execution reported anywhere: timeliness and reliability repeat
    # accuracy by design, and the evidence says so (null), not a count that looks measured.
    assert unmeasured == {"accuracy": 10, "consistency": 10, "timeliness": None, "reliability": None}
    trust = _trust(api, "STRAT-01")
    assert trust["timeliness_score"] == trust["reliability_score"] == trust["accuracy_score"]

    for latency, status in ((1200.0, "completed"), (900.0, "failed")):
        track_and_evaluate(
            {"agent_id": "ANLY-01", "latency_ms": latency, "execution_status": status},
            {"overall_quality_score": 80},
        )
    measured = _trust(api, "ANLY-01")["dimension_evidence"]
    assert measured == {"accuracy": 2, "consistency": 2, "timeliness": 2, "reliability": 2}
    # A failure in the workspace makes reliability comparable for every agent of those types.
    assert _trust(api, "STRAT-01")["dimension_evidence"]["reliability"] == 10
    by_type = _trust(api, "ANLY-01")["by_type"]["strategy"]["dimension_evidence"]
    assert by_type["timeliness"] == 2
