"""Client-minted ids on POST /recommendations/track and /outcomes/evaluate: accepted within the
allowed clock skew, unique per workspace, a retry with the same id and body is a one-request no-op."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from swarm_learning.services.tracking.reads import get_tracked_reads
from swarm_learning.services.tracking.tracker import get_tracker
from tests.helpers.api import WORKSPACE, Api, recommendation
from tests.helpers.ids import minted
from tests.helpers.store import store_snapshot

TRACK = "/api/v1/learning/recommendations/track"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def api(api: Api, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setattr(get_tracker(), "_clock", lambda: NOW)
    monkeypatch.setattr(get_tracked_reads(), "_clock", lambda: NOW)
    return api


def test_client_minted_id_is_kept_with_its_time_and_routing_decision(api: Api) -> None:
    rid = minted("rec_", NOW - timedelta(seconds=3))
    decision = minted("dec_", NOW - timedelta(seconds=4))
    body = recommendation(recommendation_id=rid, decision_id=decision, selection_probability=0.62)
    status, created = api.call("POST", TRACK, body=body)
    assert status == 201, created
    assert created["recommendation_id"] == rid
    assert created["replayed"] is False
    assert datetime.fromisoformat(created["created_at"]) == NOW - timedelta(seconds=3)
    status, stored = api.call(
        "GET", f"/api/v1/learning/recommendations/{rid}", query={"workspace_id": WORKSPACE}
    )
    assert status == 200
    assert (stored["decision_id"], stored["selection_probability"]) == (decision, 0.62)


def test_retry_with_same_id_and_body_answers_the_stored_result_in_one_request(
    api: Api, dynamodb_calls: list[str]
) -> None:
    body = recommendation(recommendation_id=minted("rec_", NOW))
    status, first = api.call("POST", TRACK, body=body)
    assert status == 201
    before = store_snapshot()
    dynamodb_calls.clear()
    status, again = api.call("POST", TRACK, body=body)
    assert status == 200
    # The first answer warned that the type was new to the workspace; by the retry it is known.
    assert again == {**first, "replayed": True, "warning": None}
    assert store_snapshot() == before
    assert dynamodb_calls == ["TransactWriteItems"]


def test_same_id_with_another_body_is_a_conflict_naming_the_id(api: Api) -> None:
    rid = minted("rec_", NOW)
    assert api.call("POST", TRACK, body=recommendation(recommendation_id=rid))[0] == 201
    before = store_snapshot()
    status, error = api.call("POST", TRACK, body=recommendation(recommendation_id=rid, confidence_score=0.1))
    assert status == 409
    assert error["error"] == "id_reused"
    assert error["details"][0]["field"] == "recommendation_id"
    assert store_snapshot() == before


@pytest.mark.parametrize("offset", [timedelta(days=1, seconds=1), -timedelta(seconds=301)])
def test_id_minted_too_far_from_the_server_clock_is_a_422(api: Api, offset: timedelta) -> None:
    before = store_snapshot()
    body = recommendation(recommendation_id=minted("rec_", NOW - offset))
    status, error = api.call("POST", TRACK, body=body)
    assert status == 422
    assert error["details"][0]["field"] == "recommendation_id"
    assert store_snapshot() == before


@pytest.mark.parametrize(
    "bad", ["rec_123", "out_01HZX3J5K6M7N8P9Q0R1S2T3V4", "rec_01HZX3J5K6M7N8P9Q0R1S2T3VU"]
)
def test_malformed_client_id_is_a_422(api: Api, bad: str) -> None:
    status, error = api.call("POST", TRACK, body=recommendation(recommendation_id=bad))
    assert status == 422
    assert error["details"][0]["field"] == "recommendation_id"


def test_ids_are_unique_per_workspace_not_across_workspaces(api: Api) -> None:
    rid = minted("rec_", NOW)
    assert api.call("POST", TRACK, body=recommendation(recommendation_id=rid))[0] == 201
    other = recommendation(recommendation_id=rid, workspace_id="ws_other")
    assert api.call("POST", TRACK, body=other)[0] == 201


def test_evaluation_with_client_outcome_id_is_retry_safe(api: Api) -> None:
    rid = minted("rec_", NOW)
    api.call("POST", TRACK, body=recommendation(recommendation_id=rid))
    oid = minted("out_", NOW, seed=1)
    status, first = api.evaluate(rid, outcome_id=oid)
    assert status == 200
    assert first["outcome_id"] == oid
    before = store_snapshot()
    status, again = api.evaluate(rid, outcome_id=oid)
    assert status == 200
    assert again == {**first, "replayed": True}
    status, changed = api.evaluate(rid, outcome_id=oid, overall_quality_score=10)
    assert (status, changed["details"][0]["field"]) == (409, "outcome_id")
    status, other = api.evaluate(rid, outcome_id=minted("out_", NOW, seed=2))
    assert (status, other["error"]) == (409, "already_evaluated")
    status, anonymous = api.evaluate(rid)
    assert (status, anonymous["error"]) == (409, "already_evaluated")
    assert store_snapshot() == before
