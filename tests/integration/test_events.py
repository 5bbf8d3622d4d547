"""Every sample event in events/ is a valid API Gateway event its function answers correctly."""

from __future__ import annotations

import json

import pytest

from tests.helpers.api import EVENTS_DIR, Api, issue_key

EVENT_FILES = sorted(EVENTS_DIR.glob("*.json"))
SAMPLE_RECOMMENDATION_ID = "rec_01JD2Z8QK6Y3R1V9T5W7X0ABCD"

EXPECTED_STATUS = {
    "track_recommendation": 201,
    "track_recommendation_idempotent": 201,
    "ingest_batch": 207,
    "evaluate_outcome": 200,
    "evaluate_workflow": 200,
    "get_recommendation": 200,
    "list_agent_recommendations": 200,
    "get_agent_stats": 200,
    "get_workspace_stats": 200,
    "get_workspace_series": 200,
    "get_agent_series": 200,
    "get_trust_series": 200,
    "get_routing_series": 200,
    "list_routing_decisions": 200,
    "initialize_trust_score": 201,
    "adjust_trust_score": 200,
    "select_agents": 200,
    "evaluate_routing": 200,
    "get_trust_score": 200,
    "list_trust_scores": 200,
    "get_trust_history": 200,
    "get_decision_boost": 200,
    "trigger_learning_cycle": 202,
    "should_trigger_learning_cycle": 200,
    "list_learning_cycles": 200,
    "list_alerts": 200,
    "get_learning_cycle": 200,
    "get_patterns": 200,
    "get_agent_profile": 200,
    "suggest_decision_rules": 200,
    "health_check": 200,
    "otlp_export_traces": 200,
    "otlp_export_logs": 200,
    "get_workspace_settings": 200,
    "put_workspace_settings": 200,
}
# The authorizer's REQUEST event (its sample token was never issued; tests substitute one that was).
AUTHORIZER_EVENTS = {"authorizer_request"}
# Events from schedules and the event bus: the function each one is for.
SCHEDULED = {
    "trust_refresh_scheduled": "TrustRefreshFunction",
    "learning_cycle_scheduled": "LearningCycleFunction",
    "learning_cycle_requested": "LearningCycleFunction",
    "pattern_refresh_scheduled": "PatternRefreshFunction",
    "cleanup_scheduled": "CleanupFunction",
    "cleanup_dry_run": "CleanupFunction",
}
SAMPLE_ITERATION_ID = "iter_01JD3A0000AAAAAAAAAAAAAAAA"
# Read what a learning cycle produced: play track, evaluate and trigger first, and run the cycle.
AFTER_A_CYCLE = {
    "list_learning_cycles",
    "get_learning_cycle",
    "get_patterns",
    "get_agent_profile",
    "suggest_decision_rules",
}


API_EVENT_FILES = [f for f in EVENT_FILES if f.stem not in SCHEDULED and f.stem not in AUTHORIZER_EVENTS]


def test_every_event_has_an_expectation() -> None:
    assert {f.stem for f in EVENT_FILES} == set(EXPECTED_STATUS) | set(SCHEDULED) | AUTHORIZER_EVENTS


def test_authorizer_event_allows_an_issued_key_and_denies_the_sample_token(api: Api) -> None:
    event = json.loads((EVENTS_DIR / "authorizer_request.json").read_text())
    denied = api.functions.invoke("AuthorizerFunction", event)
    assert [s["Effect"] for s in denied["policyDocument"]["Statement"]] == ["Deny"]
    assert "context" not in denied

    token = issue_key(("ws_123",))
    event["headers"]["Authorization"] = f"Bearer {token}"
    allowed = api.functions.invoke("AuthorizerFunction", event)
    assert [s["Effect"] for s in allowed["policyDocument"]["Statement"]] == ["Allow"]
    # Cached for every route of the API, so the policy covers them all.
    assert allowed["policyDocument"]["Statement"][0]["Resource"] == [
        "arn:aws:execute-api:us-east-1:123456789012:1234567890/prod/*/*"
    ]
    assert allowed["context"]["workspaces"] == "ws_123"
    assert allowed["principalId"] == allowed["context"]["key_id"] == token.split("_")[1]
    assert allowed["usageIdentifierKey"]


def _play(api: Api, name: str, replace: tuple[str, str] | None = None) -> dict:
    text = (EVENTS_DIR / f"{name}.json").read_text()
    event = json.loads(text.replace(*replace) if replace else text)
    spec = api.functions.route(event["httpMethod"], event["path"])
    assert spec is not None
    response = api.functions.invoke(spec[0].logical_id, event)
    return json.loads(response["body"])


def _run_a_cycle(api: Api) -> str:
    """Track and evaluate the sample recommendation, trigger a cycle, let the event run it."""
    _play(api, "evaluate_outcome", (SAMPLE_RECOMMENDATION_ID, _seed_from(api)))
    accepted = _play(api, "trigger_learning_cycle")
    assert api.functions.deliver_events() == 1
    return accepted["iteration_id"]


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

    if event_file.stem in AFTER_A_CYCLE:
        event = json.loads(json.dumps(event).replace(SAMPLE_ITERATION_ID, _run_a_cycle(api)))

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
    elif event_file.stem == "ingest_batch":
        assert [r["status"] for r in body["results"]] == [201, 201]
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
    elif event_file.stem == "get_workspace_series":
        assert len(body["days"]) == 30
        assert body["days"][-1]["tracked"] == 1
    elif event_file.stem == "get_agent_series":
        assert [a["agent_id"] for a in body["items"]] == ["STRAT-01"]
    elif event_file.stem == "get_trust_series":
        assert body["items"][0]["points"] == []  # no trust-refresh run yet
    elif event_file.stem == "get_routing_series":
        assert (len(body["days"]), body["items"]) == (30, [])
    elif event_file.stem == "list_alerts":
        assert (body["workspace_id"], body["items"], body["next_token"]) == ("ws_123", [], None)
    elif event_file.stem == "list_routing_decisions":
        assert body["count"] == 0
    elif event_file.stem == "trigger_learning_cycle":
        assert body["status"] == "queued"
    elif event_file.stem == "get_learning_cycle":
        assert body["status"] == "succeeded"
        assert body["result"]["samples_analyzed"] == 1
    elif event_file.stem == "get_agent_profile":
        assert body["evaluated"] == 1
    elif event_file.stem == "otlp_export_traces":
        assert body == {}  # every span accepted: no partial_success
    elif event_file.stem == "otlp_export_logs":
        assert body == {}  # the evaluation waits for its span
    elif event_file.stem in ("get_patterns", "suggest_decision_rules"):
        assert body["version"] is not None  # one sample teaches nothing, but the state is served


def test_scheduled_trust_refresh_event_refreshes_every_agent(api: Api) -> None:
    _seed_from(api)
    event = json.loads((EVENTS_DIR / "trust_refresh_scheduled.json").read_text())
    result = api.functions.invoke("TrustRefreshFunction", event)
    assert result == {"run_at": "2026-11-24T06:00:00+00:00", "agents": 1, "workspaces": 1}


def test_scheduled_learning_cycle_fans_out_one_cycle_per_workspace(api: Api) -> None:
    _seed_from(api)
    event = json.loads((EVENTS_DIR / "learning_cycle_scheduled.json").read_text())
    result = api.functions.invoke("LearningCycleFunction", event)
    assert result == {"run_at": "2026-11-24T02:00:00+00:00", "workspaces": ["ws_123"]}
    assert api.functions.deliver_events() == 1


def test_requested_learning_cycle_event_runs_its_queued_iteration(api: Api) -> None:
    from datetime import UTC, datetime

    from swarm_learning.dal.learner_state import get_learner_store

    get_learner_store().create_iteration(
        "ws_123",
        SAMPLE_ITERATION_ID,
        {
            "requested_at": datetime(2026, 11, 24, 9, tzinfo=UTC),
            "trigger": "on_demand",
            "lookback_days": 7,
            "min_pattern_confidence": 0.7,
        },
    )
    event = json.loads((EVENTS_DIR / "learning_cycle_requested.json").read_text())
    result = api.functions.invoke("LearningCycleFunction", event)
    assert result == {"iteration_id": SAMPLE_ITERATION_ID, "status": "succeeded"}


def test_scheduled_pattern_refresh_event_runs(api: Api) -> None:
    event = json.loads((EVENTS_DIR / "pattern_refresh_scheduled.json").read_text())
    result = api.functions.invoke("PatternRefreshFunction", event)
    assert result == {"run_at": "2026-11-24T01:00:00+00:00", "workspaces": {}}


@pytest.mark.parametrize("name", ["cleanup_scheduled", "cleanup_dry_run"])
def test_scheduled_cleanup_events_run(api: Api, name: str) -> None:
    _seed_from(api)
    event = json.loads((EVENTS_DIR / f"{name}.json").read_text())
    result = api.functions.invoke("CleanupFunction", event)
    assert result["run_at"] == "2026-11-29T03:00:00+00:00"
    assert result["dry_run"] is (name == "cleanup_dry_run")
    assert result["deleted"] == {}  # nothing is 90 days old yet
