"""POST /events/batch: tracks and evaluations in order, one result per event (207), shared counter
updates, the same validation, auth and isolation as the single-event routes, retry-safe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from swarm_learning.services.tracking.reads import get_tracked_reads
from swarm_learning.services.tracking.tracker import get_tracker
from tests.helpers.api import WORKSPACE, Api, recommendation
from tests.helpers.ids import minted
from tests.helpers.store import store_snapshot

BATCH = "/api/v1/learning/events/batch"
TRACK = "/api/v1/learning/recommendations/track"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def api(api: Api, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setattr(get_tracker(), "_clock", lambda: NOW)
    monkeypatch.setattr(get_tracked_reads(), "_clock", lambda: NOW)
    return api


def track_event(seed: int, **overrides: Any) -> dict[str, Any]:
    overrides.setdefault("recommendation_id", minted("rec_", NOW - timedelta(seconds=seed), seed))
    body = recommendation(**overrides)
    if "workspace_id" not in overrides:
        del body["workspace_id"]  # the batch's
    return {"type": "track", **body}


def evaluate_event(recommendation_id: str, seed: int, **overrides: Any) -> dict[str, Any]:
    return {
        "type": "evaluate",
        "recommendation_id": recommendation_id,
        "outcome_id": minted("out_", NOW, seed),
        "overall_quality_score": 80.0,
        "quality_scores": {"accuracy": 80},
        "evaluator_feedback": "good",
        **overrides,
    }


def batch(api: Api, events: list[dict[str, Any]], workspace: str = WORKSPACE) -> tuple[int, Any]:
    return api.call("POST", BATCH, body={"workspace_id": workspace, "events": events})


def stats(api: Api, agent: str) -> dict[str, Any]:
    status, body = api.call(
        "GET", f"/api/v1/learning/agents/{agent}/stats", query={"workspace_id": WORKSPACE}
    )
    assert status == 200, body
    return body


def test_mixed_batch_answers_each_event_and_one_bad_event_sinks_nothing(api: Api) -> None:
    first, second = track_event(1), track_event(2, agent_id="CONTENT-02", recommendation_type="content")
    events = [
        first,
        second,
        evaluate_event(first["recommendation_id"], 1),
        track_event(3, confidence_score=2),
        evaluate_event(minted("rec_", NOW, 99), 2),
        {"type": ["track"]},
    ]
    status, answer = batch(api, events)
    assert status == 207
    assert [r["status"] for r in answer["results"]] == [201, 201, 201, 422, 404, 422]
    assert [r["index"] for r in answer["results"]] == list(range(6))
    assert answer["results"][0]["id"] == first["recommendation_id"]
    assert answer["results"][2]["id"] == events[2]["outcome_id"]
    assert answer["results"][3]["error"]["field"] == "confidence_score"
    assert answer["results"][4]["error"]["field"] == "recommendation_id"
    assert answer["results"][5]["error"]["field"] == "type"
    assert (answer["received"], answer["stored"], answer["failed"]) == (6, 3, 3)
    status, stored = api.call(
        "GET",
        f"/api/v1/learning/recommendations/{first['recommendation_id']}",
        query={"workspace_id": WORKSPACE},
    )
    assert (stored["status"], stored["outcome"]["outcome_id"]) == ("approved", events[2]["outcome_id"])


def test_batch_sent_again_stores_nothing_twice_and_answers_200(api: Api) -> None:
    first = track_event(1)
    events = [first, track_event(2), evaluate_event(first["recommendation_id"], 1)]
    assert [r["status"] for r in batch(api, events)[1]["results"]] == [201, 201, 201]
    before = store_snapshot()
    status, again = batch(api, events)
    assert status == 207
    assert [r["status"] for r in again["results"]] == [200, 200, 200]
    assert store_snapshot() == before
    changed = [
        track_event(1, confidence_score=0.2),
        evaluate_event(first["recommendation_id"], 1, overall_quality_score=5),
    ]
    results = batch(api, changed)[1]["results"]
    assert [(r["status"], r["error"]["field"]) for r in results] == [
        (409, "recommendation_id"),
        (409, "outcome_id"),
    ]
    assert store_snapshot() == before


def test_batched_statistics_equal_the_same_events_one_by_one(api: Api) -> None:
    events = [track_event(i, agent_id=f"A-{i % 2}", confidence_score=0.5 + i / 100) for i in range(10)]
    events += [
        evaluate_event(e["recommendation_id"], i, overall_quality_score=10.0 * i)
        for i, e in enumerate(events[:6])
    ]
    assert all(r["status"] == 201 for r in batch(api, events)[1]["results"])
    batched = {agent: stats(api, agent) for agent in ("A-0", "A-1")}
    workspace = api.call("GET", "/api/v1/learning/stats", query={"workspace_id": WORKSPACE})[1]

    other = Api(api.functions, api.api_key)
    for event in events:
        body = {k: v for k, v in event.items() if k != "type"}
        body["workspace_id"] = "ws_other"
        if event["type"] == "track":
            assert other.call("POST", TRACK, body=body)[0] == 201
        else:
            assert other.call("POST", "/api/v1/learning/outcomes/evaluate", body=body)[0] == 200
    for agent in ("A-0", "A-1"):
        single = other.call(
            "GET", f"/api/v1/learning/agents/{agent}/stats", query={"workspace_id": "ws_other"}
        )[1]
        assert single["overall"] == batched[agent]["overall"]
        assert single["by_type"] == batched[agent]["by_type"]
    single_ws = other.call("GET", "/api/v1/learning/stats", query={"workspace_id": "ws_other"})[1]
    assert single_ws["overall"] == workspace["overall"]


def test_a_batch_of_100_tracks_costs_two_transactions_not_100(api: Api, dynamodb_calls: list[str]) -> None:
    events = [track_event(i, agent_id=f"A-{i % 3}") for i in range(100)]
    dynamodb_calls.clear()
    assert all(r["status"] == 201 for r in batch(api, events)[1]["results"])
    writes = [c for c in dynamodb_calls if c != "GetItem"]  # the authorizer's key lookup aside
    assert writes.count("TransactWriteItems") <= 2
    assert stats(api, "A-0")["overall"]["counts"]["tracked"] == 34


def test_track_and_its_evaluation_of_the_same_item_go_in_order(api: Api) -> None:
    first = track_event(1)
    events = [
        first,
        evaluate_event(first["recommendation_id"], 1),
        evaluate_event(first["recommendation_id"], 2),
    ]
    results = batch(api, events)[1]["results"]
    assert [r["status"] for r in results] == [201, 201, 409]
    assert results[2]["error"]["error"] == "already_evaluated"


def test_evaluation_before_its_track_in_the_batch_is_not_found(api: Api) -> None:
    first = track_event(1)
    results = batch(api, [evaluate_event(first["recommendation_id"], 1), first])[1]["results"]
    assert [r["status"] for r in results] == [404, 201]


def test_workspace_isolation_and_limits(api: Api) -> None:
    before = store_snapshot()
    status, error = batch(api, [track_event(1)], workspace="ws_stranger")
    assert (status, error["error"]) == (403, "workspace_forbidden")
    results = batch(api, [track_event(1, workspace_id="ws_other")])[1]["results"]
    assert (results[0]["status"], results[0]["error"]["field"]) == (422, "workspace_id")
    status, error = batch(api, [track_event(i) for i in range(101)])
    assert (status, error["details"][0]["field"]) == (422, "events")
    status, error = batch(api, [])
    assert (status, error["details"][0]["field"]) == (422, "events")
    assert store_snapshot() == before


def test_batch_needs_an_api_key(api: Api) -> None:
    status, _ = api.call(
        "POST", BATCH, body={"workspace_id": WORKSPACE, "events": [track_event(1)]}, authenticated=False
    )
    assert status == 401


def test_tracks_and_their_evaluations_interleaved_share_transactions(
    api: Api, dynamodb_calls: list[str]
) -> None:
    events = []
    for i in range(50):
        track = track_event(i, agent_id=f"A-{i % 3}")
        events += [track, evaluate_event(track["recommendation_id"], i)]
    dynamodb_calls.clear()
    results = batch(api, events)[1]["results"]
    assert [r["status"] for r in results] == [201] * 100
    assert (
        dynamodb_calls.count("TransactWriteItems") == 3
    )  # the tracks, then the evaluations (100-item limit)
    assert "BatchGetItem" not in dynamodb_calls  # evaluated recommendations tracked in the batch: no read
    assert sum(stats(api, f"A-{a}")["overall"]["counts"]["evaluated"] for a in range(3)) == 50


def test_evaluations_sent_again_in_a_later_batch_are_answered_as_stored(api: Api) -> None:
    first = track_event(1)
    assert batch(api, [first])[1]["results"][0]["status"] == 201
    evaluation = evaluate_event(first["recommendation_id"], 1)
    assert batch(api, [evaluation])[1]["results"][0]["status"] == 201
    before = store_snapshot()
    again = batch(api, [evaluation, evaluate_event(first["recommendation_id"], 2)])[1]["results"]
    assert [(r["status"], r["id"]) for r in again] == [(200, evaluation["outcome_id"]), (409, again[1]["id"])]
    assert again[1]["error"]["error"] == "already_evaluated"
    assert store_snapshot() == before


def test_an_id_minted_too_long_ago_is_refused_on_its_own(api: Api) -> None:
    stale = track_event(1, recommendation_id=minted("rec_", NOW - timedelta(days=2)))
    results = batch(api, [stale, track_event(2)])[1]["results"]
    assert [(r["status"], (r["error"] or {}).get("field")) for r in results] == [
        (422, "recommendation_id"),
        (201, None),
    ]


def test_throttled_writes_answer_503_and_store_nothing(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    from swarm_learning.dal.store import get_store

    def throttled(**_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "TransactWriteItems"
        )

    before = store_snapshot()
    monkeypatch.setattr(get_store().client, "transact_write_items", throttled)
    first = track_event(1)
    status, answer = batch(api, [first, track_event(2), evaluate_event(first["recommendation_id"], 1)])
    assert status == 207
    # the evaluation waits for its track: not "not found", but "send it again" with it
    assert [(r["status"], r["error"]["error"]) for r in answer["results"]] == [(503, "unavailable")] * 3
    monkeypatch.undo()
    assert store_snapshot() == before
