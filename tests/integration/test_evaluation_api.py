"""POST /outcomes/evaluate and /outcomes/evaluate-workflow through the real handler."""

from __future__ import annotations

import boto3
import pytest

from tests.helpers.api import WORKSPACE, Api

STATS = "/api/v1/learning/agents/STRAT-01/stats"
WORKFLOW = "/api/v1/learning/outcomes/evaluate-workflow"


def _stats(api: Api) -> dict:
    status, body = api.call("GET", STATS, query={"workspace_id": WORKSPACE})
    assert status == 200
    return body


def _table_snapshot() -> dict[str, list]:
    client = boto3.client("dynamodb")
    return {t: client.scan(TableName=t)["Items"] for t in ("RecommendationsTable", "StatisticsTable")}


def test_evaluation_settles_the_recommendation_and_stores_the_outcome(api: Api) -> None:
    rid = api.track()["recommendation_id"]
    status, evaluated = api.evaluate(
        rid,
        alternatives=[{"description": "email campaign", "quality_score": 60}],
        comparative_rank=1,
        evaluator_id="reviewer-7",
    )
    assert status == 200, evaluated
    assert evaluated["outcome"] == evaluated["status"] == "approved"
    assert evaluated["outcome_id"].startswith("out_")

    _, stored = api.call("GET", f"/api/v1/learning/recommendations/{rid}", query={"workspace_id": WORKSPACE})
    assert stored["status"] == "approved"
    assert stored["overall_quality_score"] == 87.5
    outcome = stored["outcome"]
    assert outcome["outcome_id"] == evaluated["outcome_id"]
    assert outcome["quality_scores"] == {"accuracy": 90, "relevance": 85}
    assert outcome["evaluator_feedback"] == "Excellent recommendation"
    assert outcome["alternatives"] == [
        {"recommendation_id": None, "description": "email campaign", "quality_score": 60}
    ]
    assert outcome["comparative_rank"] == 1
    assert outcome["evaluator_id"] == "reviewer-7"


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (100, "approved"),
        (70, "approved"),
        (69.99, "partial"),
        (40, "partial"),
        (39.9, "rejected"),
        (0, "rejected"),
    ],
)
def test_outcome_is_derived_from_quality_with_documented_thresholds(
    api: Api, score: float, expected: str
) -> None:
    rid = api.track()["recommendation_id"]
    _, body = api.evaluate(rid, overall_quality_score=score)
    assert body["outcome"] == expected


def test_stated_outcome_wins_over_the_score(api: Api) -> None:
    rid = api.track()["recommendation_id"]
    _, body = api.evaluate(rid, overall_quality_score=95, outcome="rejected")
    assert body["outcome"] == "rejected"


def test_statistics_hold_counts_sums_and_brier(api: Api) -> None:
    scores = [(0.9, 90), (0.8, 55), (0.6, 20)]  # approved, partial, rejected
    for confidence, quality in scores:
        rid = api.track(confidence_score=confidence)["recommendation_id"]
        api.evaluate(rid, overall_quality_score=quality)
    api.track(recommendation_type="content", confidence_score=0.5)

    overall = _stats(api)["overall"]
    counts = overall["counts"]
    assert counts == {
        "tracked": 4,
        "pending": 1,
        "evaluated": 3,
        "approved": 1,
        "rejected": 1,
        "partial": 1,
        "failed_executions": 0,
        "timed_out_executions": 0,
    }
    assert overall["approval_rate"] == pytest.approx((1 + 0.5) / 3)
    assert overall["strict_approval_rate"] == pytest.approx(1 / 3)
    assert overall["avg_quality_score"] == pytest.approx(55)
    assert overall["quality_stddev"] == pytest.approx(35)
    assert overall["avg_confidence"] == pytest.approx(0.7666666, rel=1e-6)
    assert overall["brier_score"] == pytest.approx(((0.9 - 1) ** 2 + (0.8 - 0.5) ** 2 + 0.6**2) / 3)
    by_type = _stats(api)["by_type"]
    assert set(by_type) == {"strategy", "content"}
    assert by_type["content"]["counts"]["pending"] == 1


def test_second_evaluation_is_a_conflict_and_changes_nothing(api: Api) -> None:
    rid = api.track()["recommendation_id"]
    api.evaluate(rid, overall_quality_score=90)
    before = _table_snapshot()
    status, body = api.evaluate(rid, overall_quality_score=10, outcome="rejected")
    assert status == 409
    assert body["error"] == "already_evaluated"
    assert _table_snapshot() == before


def test_unknown_recommendation_is_404_and_changes_nothing(api: Api) -> None:
    api.track()
    before = _table_snapshot()
    status, body = api.evaluate("rec_01JD2Z8QK6Y3R1V9T5W7X0ABCD")
    assert status == 404
    assert body["details"][0]["field"] == "recommendation_id"
    assert _table_snapshot() == before


def test_another_workspaces_recommendation_is_invisible(api: Api) -> None:
    rid = api.track(workspace_id="ws_other")["recommendation_id"]
    status, _ = api.evaluate(rid)
    assert status == 404
    status, _ = api.call("GET", f"/api/v1/learning/recommendations/{rid}", query={"workspace_id": WORKSPACE})
    assert status == 404


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"overall_quality_score": 101}, "overall_quality_score"),
        ({"quality_scores": {"accuracy": -1}}, "quality_scores.accuracy"),
        ({"quality_scores": {f"d{i}": 50 for i in range(21)}}, "quality_scores"),
        ({"outcome": "maybe"}, "outcome"),
        ({"recommendation_id": "123"}, "recommendation_id"),
        ({"comparative_rank": 3, "alternatives": [{"description": "a"}]}, None),
        ({"evaluator_feedback": "f" * 4001}, "evaluator_feedback"),
    ],
)
def test_invalid_evaluations_are_422_and_change_nothing(api: Api, overrides: dict, field: str | None) -> None:
    rid = api.track()["recommendation_id"]
    before = _table_snapshot()
    status, body = api.evaluate(overrides.pop("recommendation_id", rid), **overrides)
    assert status == 422, body
    if field:
        assert field in {d["field"] for d in body["details"]}
    assert _table_snapshot() == before


# ---- workflow evaluation ----------------------------------------------------------------------
def _workflow(api: Api, agents: int = 3, workflow_id: str = "move_123") -> list[str]:
    return [
        api.track(agent_id=f"AGENT-{i}", agent_name=f"Agent {i}", workflow_id=workflow_id)[
            "recommendation_id"
        ]
        for i in range(agents)
    ]


def test_workflow_evaluation_scores_every_recommendation(api: Api) -> None:
    ids = _workflow(api)
    _workflow(api, agents=1, workflow_id="other_flow")
    status, summary = api.call(
        "POST",
        WORKFLOW,
        body={
            "workspace_id": WORKSPACE,
            "workflow_id": "move_123",
            "overall_quality_score": 87.5,
            "feedback": "Great recommendations",
            "overrides": {ids[2]: {"overall_quality_score": 30, "evaluator_feedback": "missed the brief"}},
        },
    )
    assert status == 200, summary
    assert (summary["total"], summary["evaluated"], summary["failed"]) == (3, 3, 0)
    assert summary["outcomes"] == {"approved": 2, "rejected": 1, "partial": 0}
    assert summary["average_quality_score"] == pytest.approx((87.5 * 2 + 30) / 3)
    _, third = api.call(
        "GET", f"/api/v1/learning/recommendations/{ids[2]}", query={"workspace_id": WORKSPACE}
    )
    assert third["outcome"]["evaluator_feedback"] == "missed the brief"


def test_workflow_partial_failure_is_reported_per_recommendation(api: Api) -> None:
    ids = _workflow(api)
    stranger = _workflow(api, agents=1, workflow_id="other_flow")[0]
    api.evaluate(ids[0])
    missing = "rec_01JD2Z8QK6Y3R1V9T5W7X0ABCD"
    status, summary = api.call(
        "POST",
        WORKFLOW,
        body={
            "workspace_id": WORKSPACE,
            "workflow_id": "move_123",
            "recommendations": [*ids, stranger, missing],
            "overall_quality_score": 50,
        },
    )
    assert status == 200
    results = {r["recommendation_id"]: r["status"] for r in summary["results"]}
    assert results == {
        ids[0]: "already_evaluated",
        ids[1]: "evaluated",
        ids[2]: "evaluated",
        stranger: "not_in_workflow",
        missing: "not_found",
    }
    assert (summary["total"], summary["evaluated"], summary["failed"]) == (5, 2, 3)
    assert all(r["error"] for r in summary["results"] if r["status"] != "evaluated")
    _, other = api.call(
        "GET", f"/api/v1/learning/recommendations/{stranger}", query={"workspace_id": WORKSPACE}
    )
    assert other["status"] == "pending"


def test_unknown_workflow_is_404(api: Api) -> None:
    status, body = api.call(
        "POST", WORKFLOW, body={"workspace_id": WORKSPACE, "workflow_id": "nope", "overall_quality_score": 50}
    )
    assert status == 404
    assert body["details"][0]["field"] == "workflow_id"


def test_override_for_a_recommendation_outside_the_workflow_is_rejected(api: Api) -> None:
    _workflow(api)
    before = _table_snapshot()
    status, _ = api.call(
        "POST",
        WORKFLOW,
        body={
            "workspace_id": WORKSPACE,
            "workflow_id": "move_123",
            "overall_quality_score": 50,
            "overrides": {"rec_01JD2Z8QK6Y3R1V9T5W7X0ABCD": {"overall_quality_score": 10}},
        },
    )
    assert status == 400
    assert _table_snapshot() == before


def test_repeated_ids_in_a_workflow_call_are_rejected(api: Api) -> None:
    ids = _workflow(api, agents=1)
    status, body = api.call(
        "POST",
        WORKFLOW,
        body={
            "workspace_id": WORKSPACE,
            "workflow_id": "move_123",
            "recommendations": ids * 2,
            "overall_quality_score": 50,
        },
    )
    assert status == 422, body
