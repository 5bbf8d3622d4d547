"""GET and PUT /workspace-settings, and what they change: a recommendation type the workspace has
never seen is tracked with a warning; a workspace that lists its allowed types refuses others (422,
nothing stored), on the track and the batch routes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from localdev.runtime import LocalFunctions
from localdev.server import serving
from swarm_learning.clock import utcnow
from swarm_learning.dal.workspace_settings import get_workspace_settings_store
from swarm_learning.services.tracking.tracker import get_tracker
from swarm_learning_client import SwarmLearningClient
from tests.helpers.api import WORKSPACE, Api, issue_key, recommendation
from tests.helpers.ids import minted
from tests.helpers.store import store_snapshot

SETTINGS = "/api/v1/learning/workspace-settings"
TRACK = "/api/v1/learning/recommendations/track"
BATCH = "/api/v1/learning/events/batch"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def put(api: Api, **fields: Any) -> tuple[int, Any]:
    return api.call("PUT", SETTINGS, body={"workspace_id": WORKSPACE, **fields})


def test_settings_are_null_until_set_then_replaced_as_a_whole(api: Api) -> None:
    status, empty = api.call("GET", SETTINGS, query={"workspace_id": WORKSPACE})
    assert status == 200, empty
    assert empty == {
        "workspace_id": WORKSPACE,
        "allowed_recommendation_types": None,
        "default_recommendation_type": None,
        "min_trust": None,
        "updated_at": None,
    }
    status, stored = put(
        api,
        allowed_recommendation_types=["strategy", "content"],
        default_recommendation_type="strategy",
        min_trust=0.7,
    )
    assert status == 200, stored
    status, read = api.call("GET", SETTINGS, query={"workspace_id": WORKSPACE})
    assert read == stored
    assert (read["allowed_recommendation_types"], read["default_recommendation_type"], read["min_trust"]) == (
        ["strategy", "content"],
        "strategy",
        0.7,
    )
    assert read["updated_at"] is not None
    # A PUT replaces: what it leaves out is unset.
    status, replaced = put(api, min_trust=0.5)
    assert status == 200
    assert (replaced["allowed_recommendation_types"], replaced["default_recommendation_type"]) == (None, None)
    assert replaced["min_trust"] == 0.5


def test_the_settings_read_other_services_call_returns_defaults_when_absent(api: Api) -> None:
    settings = get_workspace_settings_store().get("ws_other")
    assert (
        settings.allowed_recommendation_types,
        settings.default_recommendation_type,
        settings.min_trust,
    ) == (
        None,
        None,
        None,
    )
    put(api, min_trust=0.65, default_recommendation_type="content")
    stored = get_workspace_settings_store().get(WORKSPACE)
    assert (stored.min_trust, stored.default_recommendation_type) == (0.65, "content")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"min_trust": 1.5}, "min_trust"),
        ({"min_trust": "high"}, "min_trust"),
        ({"allowed_recommendation_types": ["Strategy!"]}, "allowed_recommendation_types"),
        ({"allowed_recommendation_types": []}, "allowed_recommendation_types"),
        ({"allowed_recommendation_types": ["a", "a"]}, "allowed_recommendation_types"),
        ({"default_recommendation_type": "no such"}, "default_recommendation_type"),
        ({"allowed_recommendation_types": ["strategy"], "default_recommendation_type": "content"}, "body"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_settings_are_refused_naming_the_field_and_change_nothing(
    api: Api, fields: dict[str, Any], field: str
) -> None:
    put(api, min_trust=0.4)
    before = store_snapshot()
    status, body = put(api, **fields)
    assert status == 422, body
    assert body["details"][0]["field"].startswith(field), body
    assert store_snapshot() == before


def test_settings_are_isolated_by_workspace(api: Api) -> None:
    other = api.as_key(issue_key(("ws_other",)))
    status, body = other.call("PUT", SETTINGS, body={"workspace_id": WORKSPACE, "min_trust": 0.9})
    assert status == 403, body
    status, body = other.call("GET", SETTINGS, query={"workspace_id": WORKSPACE})
    assert status == 403, body
    status, body = api.call(
        "PUT", SETTINGS, body={"workspace_id": WORKSPACE, "min_trust": 0.9}, authenticated=False
    )
    assert status == 401


def test_a_type_never_seen_is_tracked_with_a_warning_once(api: Api) -> None:
    status, first = api.call("POST", TRACK, body=recommendation(recommendation_type="strategy"))
    assert status == 201
    assert "new to this workspace" in first["warning"]
    status, again = api.call("POST", TRACK, body=recommendation(recommendation_type="strategy"))
    assert status == 201
    assert again.get("warning") is None
    status, typo = api.call("POST", TRACK, body=recommendation(recommendation_type="strateg"))
    assert status == 201  # open vocabulary: tracked, but the answer says so
    assert "'strateg' is new" in typo["warning"]
    assert "known types: strategy" in typo["warning"]


def test_allowed_types_refuse_others_with_a_422_and_store_nothing(api: Api) -> None:
    status, _ = put(api, allowed_recommendation_types=["strategy", "content"])
    assert status == 200
    before = store_snapshot()
    status, body = api.call("POST", TRACK, body=recommendation(recommendation_type="banana"))
    assert status == 422, body
    assert body["details"][0]["field"] == "recommendation_type"
    assert "allowed" in body["message"]
    assert store_snapshot() == before
    # An allowed type is tracked, new or not, without a warning: it was listed on purpose.
    status, body = api.call("POST", TRACK, body=recommendation(recommendation_type="content"))
    assert status == 201
    assert body.get("warning") is None


def test_the_batch_route_warns_per_event_and_refuses_types_not_allowed(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_tracker(), "_clock", lambda: NOW)

    def event(seed: int, rtype: str) -> dict[str, Any]:
        body = recommendation(
            recommendation_type=rtype, recommendation_id=minted("rec_", NOW - timedelta(seconds=seed), seed)
        )
        del body["workspace_id"]
        return {"type": "track", **body}

    status, body = api.call("POST", BATCH, body={"workspace_id": WORKSPACE, "events": [event(1, "research")]})
    assert status == 207
    assert "new to this workspace" in body["results"][0]["warning"]
    status, body = api.call("POST", BATCH, body={"workspace_id": WORKSPACE, "events": [event(2, "research")]})
    assert body["results"][0].get("warning") is None

    put(api, allowed_recommendation_types=["research"])
    status, body = api.call(
        "POST", BATCH, body={"workspace_id": WORKSPACE, "events": [event(3, "research"), event(4, "banana")]}
    )
    assert status == 207
    ok, refused = body["results"]
    assert ok["status"] == 201
    assert (refused["status"], refused["error"]["field"]) == (422, "recommendation_type")
    assert body["stored"] == 1


def test_the_client_reads_and_replaces_the_settings_and_logs_type_warnings(
    functions: LocalFunctions, caplog: pytest.LogCaptureFixture
) -> None:
    def clock() -> int:
        return int(utcnow().timestamp() * 1_000_000_000)

    with (
        serving(functions, port=0, quiet=True) as server,
        SwarmLearningClient(server.url, issue_key(), workspace_id=WORKSPACE, clock=clock) as client,
    ):
        assert client.workspace_settings().allowed_recommendation_types is None
        stored = client.set_workspace_settings(
            allowed_recommendation_types=["strategy"], default_recommendation_type="strategy", min_trust=0.6
        )
        assert (
            stored.allowed_recommendation_types,
            stored.default_recommendation_type,
            stored.min_trust,
        ) == (
            ["strategy"],
            "strategy",
            0.6,
        )
        assert client.workspace_settings() == stored
        cleared = client.set_workspace_settings(min_trust=0.5)
        assert (cleared.allowed_recommendation_types, cleared.min_trust) == (None, 0.5)
        with caplog.at_level(logging.WARNING, logger="swarm_learning_client"):
            client.track(
                agent_id="STRAT-01",
                recommendation_type="strateg",
                recommendation_content={"channels": ["x"]},
                confidence_score=0.5,
            )
            client.flush()
    assert any("'strateg' is new to this workspace" in r.getMessage() for r in caplog.records)
