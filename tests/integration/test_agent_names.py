"""A track that names no agent keeps the name the service knows (track route, batch route and the
Python client); a track that names one renames it; a new agent without a name is named by its id."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from localdev.runtime import LocalFunctions
from localdev.server import LocalApiServer, serving
from swarm_learning.clock import utcnow
from swarm_learning.services.tracking.tracker import get_tracker
from swarm_learning_client import SwarmLearningClient
from tests.helpers.api import WORKSPACE, Api, issue_key, recommendation
from tests.helpers.ids import minted

BATCH = "/api/v1/learning/events/batch"
TRACK = "/api/v1/learning/recommendations/track"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def known_name(api: Api, agent_id: str) -> str:
    status, stats = api.call(
        "GET", f"/api/v1/learning/agents/{agent_id}/stats", query={"workspace_id": WORKSPACE}
    )
    assert status == 200, stats
    return str(stats["agent_name"])


def unnamed(**overrides: Any) -> dict[str, Any]:
    body = recommendation(**overrides)
    del body["agent_name"]
    return body


def test_track_route_keeps_the_known_name_and_renames_when_given(api: Api) -> None:
    api.track(agent_id="STRAT-01", agent_name="MoveArchitect")
    status, body = api.call("POST", TRACK, body=unnamed(agent_id="STRAT-01"))
    assert status == 201, body
    assert known_name(api, "STRAT-01") == "MoveArchitect"
    status, trust = api.call(
        "GET", "/api/v1/learning/trust-scores/STRAT-01", query={"workspace_id": WORKSPACE}
    )
    assert status == 200
    assert trust["agent_name"] == "MoveArchitect"
    # The recommendation itself says it named no one.
    status, stored = api.call(
        "GET",
        f"/api/v1/learning/recommendations/{body['recommendation_id']}",
        query={"workspace_id": WORKSPACE},
    )
    assert status == 200
    assert stored["agent_name"] is None

    api.track(agent_id="STRAT-01", agent_name="Strategist")
    assert known_name(api, "STRAT-01") == "Strategist"


def test_a_new_agent_without_a_name_is_named_by_its_id_until_one_is_given(api: Api) -> None:
    status, body = api.call("POST", TRACK, body=unnamed(agent_id="NEW-01"))
    assert status == 201, body
    assert known_name(api, "NEW-01") == "NEW-01"
    api.track(agent_id="NEW-01", agent_name="Newcomer")
    assert known_name(api, "NEW-01") == "Newcomer"


def test_an_empty_name_is_refused_not_taken_for_a_missing_one(api: Api) -> None:
    status, body = api.call("POST", TRACK, body=recommendation(agent_name=""))
    assert status == 422
    assert body["details"][0]["field"] == "agent_name"


@pytest.fixture
def batch_api(api: Api, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setattr(get_tracker(), "_clock", lambda: NOW)
    return api


def batch_track(seed: int, named: str | None) -> dict[str, Any]:
    body = recommendation(
        agent_id="ANLY-01", recommendation_id=minted("rec_", NOW - timedelta(seconds=100 - seed), seed)
    )
    del body["workspace_id"]
    if named is None:
        del body["agent_name"]
    else:
        body["agent_name"] = named
    return {"type": "track", **body}


def test_batch_route_keeps_the_known_name_and_takes_the_latest_given_one(batch_api: Api) -> None:
    api = batch_api
    # Named, then unnamed later in the same batch: the given name stands.
    status, body = api.call(
        "POST",
        BATCH,
        body={"workspace_id": WORKSPACE, "events": [batch_track(1, "Analyst"), batch_track(2, None)]},
    )
    assert (status, body["stored"]) == (207, 2), body
    assert known_name(api, "ANLY-01") == "Analyst"
    # A batch that names no one changes no name.
    status, body = api.call(
        "POST",
        BATCH,
        body={"workspace_id": WORKSPACE, "events": [batch_track(3, None), batch_track(4, None)]},
    )
    assert (status, body["stored"]) == (207, 2), body
    assert known_name(api, "ANLY-01") == "Analyst"
    # A rename in a batch, followed by an unnamed event: renamed.
    status, body = api.call(
        "POST",
        BATCH,
        body={"workspace_id": WORKSPACE, "events": [batch_track(5, "Auditor"), batch_track(6, None)]},
    )
    assert (status, body["stored"]) == (207, 2), body
    assert known_name(api, "ANLY-01") == "Auditor"


@pytest.fixture
def server(functions: LocalFunctions) -> Iterator[LocalApiServer]:
    with serving(functions, port=0, quiet=True) as running:
        yield running


def test_the_client_sends_no_name_unless_given(server: LocalApiServer, functions: LocalFunctions) -> None:
    def clock() -> int:
        return int(utcnow().timestamp() * 1_000_000_000)

    with SwarmLearningClient(server.url, issue_key(), workspace_id=WORKSPACE, clock=clock) as client:
        client.track(
            agent_id="STRAT-01",
            agent_name="MoveArchitect",
            recommendation_type="strategy",
            recommendation_content={"channels": ["linkedin"]},
            confidence_score=0.8,
        )
        client.flush()
        for _ in range(3):  # as the README's snippet does: no agent_name
            client.track(
                agent_id="STRAT-01",
                recommendation_type="strategy",
                recommendation_content={"channels": ["email"]},
                confidence_score=0.7,
            )
        client.flush()
        trust = client.trust("STRAT-01")
    assert trust.agent_name == "MoveArchitect"
    assert known_name(Api(functions), "STRAT-01") == "MoveArchitect"
