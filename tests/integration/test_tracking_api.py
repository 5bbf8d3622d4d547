"""POST /recommendations/track through the real handler, on the embedded store."""

from __future__ import annotations

import json
import re

import boto3
import pytest

from tests.helpers.api import WORKSPACE, Api, recommendation

TRACK = "/api/v1/learning/recommendations/track"


def _items(table: str) -> list[dict]:
    # Tests may scan: they check what is stored, not how the service reads it.
    return boto3.client("dynamodb").scan(TableName=table)["Items"]


def test_track_returns_a_time_sortable_pending_id(api: Api) -> None:
    first = api.track()
    second = api.track()
    assert re.fullmatch(r"rec_[0-9A-HJKMNP-TV-Z]{26}", first["recommendation_id"])
    assert first["status"] == "pending"
    assert first["workspace_id"] == WORKSPACE
    assert first["recommendation_id"] < second["recommendation_id"]


def test_track_stores_every_seed_field(api: Api) -> None:
    payload = recommendation(latency_ms=1234.5, execution_status="completed")
    status, created = api.call("POST", TRACK, body=payload)
    assert status == 201
    status, stored = api.call(
        "GET",
        f"/api/v1/learning/recommendations/{created['recommendation_id']}",
        query={"workspace_id": WORKSPACE},
    )
    assert status == 200
    for field, value in payload.items():
        assert stored[field] == value, field
    assert stored["status"] == "pending"
    assert stored["outcome"] is None


def test_retry_with_same_idempotency_key_returns_the_same_answer_and_stores_once(api: Api) -> None:
    headers = {"Idempotency-Key": "workflow-456-strat-01"}
    status1, first = api.call("POST", TRACK, body=recommendation(), headers=headers)
    status2, second = api.call("POST", TRACK, body=recommendation(), headers=headers)
    assert (status1, status2) == (201, 201)
    assert first == second
    assert len(_items("RecommendationsTable")) == 1
    _status, stats = api.call(
        "GET", "/api/v1/learning/agents/STRAT-01/stats", query={"workspace_id": WORKSPACE}
    )
    assert stats["overall"]["counts"]["tracked"] == 1


def test_idempotency_key_reused_with_another_body_is_rejected(api: Api) -> None:
    headers = {"Idempotency-Key": "workflow-456-strat-01"}
    api.call("POST", TRACK, body=recommendation(), headers=headers)
    status, body = api.call("POST", TRACK, body=recommendation(confidence_score=0.1), headers=headers)
    assert status == 422
    assert body["details"][0]["field"] == "Idempotency-Key"
    assert len(_items("RecommendationsTable")) == 1


def test_idempotency_keys_are_scoped_to_the_workspace(api: Api) -> None:
    headers = {"Idempotency-Key": "shared-key-0001"}
    _, first = api.call("POST", TRACK, body=recommendation(), headers=headers)
    _, second = api.call("POST", TRACK, body=recommendation(workspace_id="ws_other"), headers=headers)
    assert first["recommendation_id"] != second["recommendation_id"]


def test_without_idempotency_key_each_call_is_a_new_recommendation(api: Api) -> None:
    api.track()
    api.track()
    assert len(_items("RecommendationsTable")) == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"confidence_score": 1.5}, "confidence_score"),
        ({"confidence_score": -0.1}, "confidence_score"),
        ({"agent_id": ""}, "agent_id"),
        ({"agent_id": "has space"}, "agent_id"),
        ({"workspace_id": "x" * 65}, "workspace_id"),
        ({"workspace_id": "ws#1"}, "workspace_id"),
        ({"recommendation_type": "Strategy!"}, "recommendation_type"),
        ({"recommendation_content": "not an object"}, "recommendation_content"),
        ({"recommendation_content": {"blob": "x" * 40_000}}, "recommendation_content"),
        ({"evidence": {"blob": "x" * 40_000}}, "evidence"),
        ({"reasoning": "x" * 8_001}, "reasoning"),
        ({"agent_name": "n" * 129}, "agent_name"),
        ({"execution_status": "exploded"}, "execution_status"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"unexpected_field": 1}, "unexpected_field"),
    ],
)
def test_invalid_fields_are_named_and_nothing_is_stored(api: Api, overrides: dict, field: str) -> None:
    status, body = api.call("POST", TRACK, body=recommendation(**overrides))
    assert status == 422, body
    assert body["error"] == "validation_error"
    assert field in {d["field"] for d in body["details"]}
    assert _items("RecommendationsTable") == []
    assert _items("StatisticsTable") == []


def test_missing_required_field_is_named(api: Api) -> None:
    payload = recommendation()
    del payload["recommendation_type"]
    status, body = api.call("POST", TRACK, body=payload)
    assert status == 422
    assert [d["field"] for d in body["details"]] == ["recommendation_type"]


def test_a_recommendation_without_confidence_or_name_is_tracked_and_keeps_the_known_name(api: Api) -> None:
    api.track(agent_id="STRAT-01", agent_name="MoveArchitect")
    payload = recommendation(agent_id="STRAT-01")
    del payload["confidence_score"], payload["agent_name"]
    status, tracked = api.call("POST", TRACK, body=payload)
    assert status == 201, tracked
    status, stored = api.call(
        "GET",
        f"/api/v1/learning/recommendations/{tracked['recommendation_id']}",
        query={"workspace_id": WORKSPACE},
    )
    assert (stored["confidence_score"], stored["agent_name"]) == (None, None)
    status, stats = api.call(
        "GET", "/api/v1/learning/agents/STRAT-01/stats", query={"workspace_id": WORKSPACE}
    )
    assert stats["agent_name"] == "MoveArchitect"
    assert stats["overall"]["counts"]["tracked"] == 2


@pytest.mark.parametrize("raw", ["{not json", "", "[1, 2]", "null"])
def test_malformed_bodies_are_client_errors(api: Api, raw: str) -> None:
    status, body = api.call("POST", TRACK, raw_body=raw)
    assert status in (400, 422), body
    assert _items("RecommendationsTable") == []


def test_invalid_json_is_a_400(api: Api) -> None:
    status, body = api.call("POST", TRACK, raw_body="{not json")
    assert status == 400
    assert body["error"] == "malformed_json"


def test_non_finite_confidence_is_rejected(api: Api) -> None:
    raw = json.dumps(recommendation()).replace('"confidence_score": 0.85', '"confidence_score": NaN')
    status, _ = api.call("POST", TRACK, raw_body=raw)
    assert status in (400, 422)
    assert _items("RecommendationsTable") == []


def test_failed_execution_is_counted_for_reliability(api: Api) -> None:
    api.track(execution_status="failed")
    api.track(execution_status="timed_out", latency_ms=30_000)
    api.track(latency_ms=1_000)
    _, stats = api.call("GET", "/api/v1/learning/agents/STRAT-01/stats", query={"workspace_id": WORKSPACE})
    counts = stats["overall"]["counts"]
    assert (counts["tracked"], counts["failed_executions"], counts["timed_out_executions"]) == (3, 1, 1)
    assert stats["overall"]["avg_latency_ms"] == pytest.approx(15_500)
