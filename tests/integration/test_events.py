"""Every sample event in events/ is a valid API Gateway event its function answers correctly."""

from __future__ import annotations

import json

import pytest

from tests.conftest import EVENTS_DIR, Api

EVENT_FILES = sorted(EVENTS_DIR.glob("*.json"))
SAMPLE_RECOMMENDATION_ID = "rec_01JD2Z8QK6Y3R1V9T5W7X0ABCD"

EXPECTED_STATUS = {
    "track_recommendation": 201,
    "track_recommendation_idempotent": 201,
    "evaluate_outcome": 200,
    "evaluate_workflow": 200,
    "get_recommendation": 200,
    "list_agent_recommendations": 200,
    "get_agent_stats": 200,
    "get_workspace_stats": 200,
    "initialize_trust_score": 201,
    "adjust_trust_score": 200,
    "select_agents": 200,
    "get_trust_score": 200,
    "list_trust_scores": 200,
    "get_trust_history": 200,
    "get_decision_boost": 200,
}
# Scheduled events: the function each one is for.
SCHEDULED = {"trust_refresh_scheduled": "TrustRefreshFunction"}


API_EVENT_FILES = [f for f in EVENT_FILES if f.stem not in SCHEDULED]


def test_every_event_has_an_expectation() -> None:
    assert {f.stem for f in EVENT_FILES} == set(EXPECTED_STATUS) | set(SCHEDULED)


def _seed_from(api: Api) -> str:
    """Play the track sample so events that name a recommendation find one."""
    event = json.loads((EVENTS_DIR / "track_recommendation.json").read_text())
    response = api.functions.invoke("TrackFunction", event)
    return json.loads(response["body"])["recommendation_id"]


@pytest.mark.parametrize("event_file", API_EVENT_FILES, ids=lambda f: f.stem)
def test_event_invokes_its_function(api: Api, event_file) -> None:
    event = json.loads(event_file.read_text())
    if event_file.stem not in {
        "track_recommendation",
        "track_recommendation_idempotent",
        "initialize_trust_score",
    }:
        recommendation_id = _seed_from(api)
        # The sample names a fixed id; substitute the one the store minted.
        event = json.loads(json.dumps(event).replace(SAMPLE_RECOMMENDATION_ID, recommendation_id))

    found = api.functions.route(event["httpMethod"], event["path"])
    assert found is not None, "event path is not routed by template.yaml"
    spec, route, params = found
    assert route.path == event["resource"]
    assert params == (event["pathParameters"] or {})

    response = api.functions.invoke(spec.logical_id, event)
    body = json.loads(response["body"])
    assert response["statusCode"] == EXPECTED_STATUS[event_file.stem], body
    assert response["multiValueHeaders"]["Content-Type"] == ["application/json"]

    if event_file.stem.startswith("track"):
        assert body["status"] == "pending"
    elif event_file.stem == "evaluate_outcome":
        assert body["outcome"] == "approved"
    elif event_file.stem == "evaluate_workflow":
        assert body["evaluated"] == 1
    elif event_file.stem == "get_recommendation":
        assert body["agent_id"] == "STRAT-01"
    elif event_file.stem == "list_agent_recommendations":
        assert body["count"] == 1
    elif event_file.stem == "get_agent_stats":
        assert body["overall"]["counts"]["tracked"] == 1
    elif event_file.stem == "get_workspace_stats":
        assert body["agents"] == 1


def test_scheduled_trust_refresh_event_refreshes_every_agent(api: Api) -> None:
    _seed_from(api)
    event = json.loads((EVENTS_DIR / "trust_refresh_scheduled.json").read_text())
    result = api.functions.invoke("TrustRefreshFunction", event)
    assert result == {"run_at": "2026-11-24T06:00:00+00:00", "agents": 1, "workspaces": 1}
