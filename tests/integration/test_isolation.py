"""Workspace isolation through the real interface: a key used on another workspace answers 403 and
touches nothing, on every route; ids of another workspace answer 404, never a leak."""

from __future__ import annotations

import json
from typing import Any

import pytest

from localdev import template as tpl
from tests.helpers.api import EVENTS_DIR, Api, issue_key, recommendation
from tests.helpers.store import store_snapshot

PREFIX = "/api/v1/learning"
MINE, THEIRS = "ws_mine", "ws_theirs"
SAMPLE_WORKSPACE = "ws_123"  # the workspace the samples in events/ name


def _api_samples() -> list[dict[str, Any]]:
    samples = []
    for path in sorted(EVENTS_DIR.glob("*.json")):
        event = json.loads(path.read_text())
        if "httpMethod" in event and "type" not in event and event["resource"] != f"{PREFIX}/health":
            samples.append({"name": path.stem, **event})
    return samples


SAMPLES = _api_samples()


def _replay(api: Api, sample: dict[str, Any], workspace: str) -> tuple[int, Any]:
    """The sample request, naming ``workspace`` instead of the sample's."""
    text = json.dumps(sample).replace(SAMPLE_WORKSPACE, workspace)
    event = json.loads(text)
    query = {k: v[-1] for k, v in (event["multiValueQueryStringParameters"] or {}).items()}
    return api.call(
        event["httpMethod"],
        event["path"],
        query=query,
        raw_body=event["body"],
        headers={k: v for k, v in event["headers"].items() if k != "Authorization"},
    )


def test_the_samples_cover_every_authenticated_route() -> None:
    routes = {
        (route.method, route.path)
        for spec in tpl.functions(tpl.load_template())
        for route in spec.routes
        if not route.public
    }
    assert {(s["httpMethod"], s["resource"]) for s in SAMPLES} == routes


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s["name"])
def test_another_workspace_is_forbidden_and_nothing_changes(api: Api, sample: dict[str, Any]) -> None:
    mine = api.as_key(issue_key((MINE,)))
    before = store_snapshot()
    status, body = _replay(mine, sample, THEIRS)
    assert status == 403, body
    assert body["error"] == "workspace_forbidden"
    assert body["details"][0]["field"] == "workspace_id"
    assert store_snapshot() == before


def test_naming_a_forbidden_workspace_twice_in_one_request_is_still_forbidden(api: Api) -> None:
    mine = api.as_key(issue_key((MINE,)))
    status, _ = mine.call(
        "POST",
        f"{PREFIX}/recommendations/track",
        body=recommendation(workspace_id=THEIRS),
        query={"workspace_id": MINE},
    )
    assert status == 403
    status, _ = mine.call(
        "POST",
        f"{PREFIX}/recommendations/track",
        body=recommendation(workspace_id=MINE),
        query={"workspace_id": THEIRS},
    )
    assert status == 403


def test_a_key_for_two_workspaces_uses_both(api: Api) -> None:
    both = api.as_key(issue_key((MINE, THEIRS)))
    for workspace in (MINE, THEIRS):
        status, _ = both.call("GET", f"{PREFIX}/stats", query={"workspace_id": workspace})
        assert status == 200


@pytest.fixture
def theirs(api: Api) -> dict[str, str]:
    """Workspace THEIRS with a recommendation, an outcome, an agent, trust and a learning cycle."""
    owner = api.as_key(issue_key((THEIRS,)))
    tracked = owner.track(workspace_id=THEIRS, agent_id="THEIR-AGENT", workflow_id="their_workflow")
    status, _ = owner.evaluate(tracked["recommendation_id"], workspace_id=THEIRS)
    assert status == 200
    status, accepted = owner.call("POST", f"{PREFIX}/learning-cycles/trigger", body={"workspace_id": THEIRS})
    assert status == 202
    api.functions.deliver_events()
    return {"recommendation_id": tracked["recommendation_id"], "iteration_id": accepted["iteration_id"]}


def test_ids_of_another_workspace_are_unknown_in_mine(api: Api, theirs: dict[str, str]) -> None:
    mine = api.as_key(issue_key((MINE,)))
    rid, iteration = theirs["recommendation_id"], theirs["iteration_id"]
    mine_query = {"workspace_id": MINE}
    for path in (
        f"/recommendations/{rid}",
        "/agents/THEIR-AGENT/stats",
        "/trust-scores/THEIR-AGENT",
        "/trust-scores/THEIR-AGENT/history",
        f"/learning-cycles/{iteration}",
        "/agent-profiles/THEIR-AGENT",
    ):
        status, body = mine.call("GET", f"{PREFIX}{path}", query=mine_query)
        assert status == 404, (path, body)
        assert THEIRS not in json.dumps(body)

    before = store_snapshot()
    status, _ = mine.evaluate(rid, workspace_id=MINE)
    assert status == 404
    status, _ = mine.call(
        "POST",
        f"{PREFIX}/trust-scores/THEIR-AGENT/adjustments",
        body={
            "workspace_id": MINE,
            "outcome_quality_score": 90,
            "accuracy_impact": 0.5,
            "reason": "not mine",
        },
    )
    assert status == 404
    assert store_snapshot() == before

    # Lists in my workspace are simply empty: nothing of theirs is there to see.
    status, page = mine.call("GET", f"{PREFIX}/recommendations/agent/THEIR-AGENT", query=mine_query)
    assert (status, page["count"]) == (200, 0)
    status, scores = mine.call("GET", f"{PREFIX}/trust-scores", query=mine_query)
    assert status == 200
    assert "THEIR-AGENT" not in json.dumps(scores)


def test_a_page_token_from_another_workspace_is_refused(api: Api, theirs: dict[str, str]) -> None:
    owner = api.as_key(issue_key((THEIRS,)))
    owner.track(workspace_id=THEIRS, agent_id="THEIR-AGENT")
    status, page = owner.call(
        "GET", f"{PREFIX}/recommendations/agent/THEIR-AGENT", query={"workspace_id": THEIRS, "limit": 1}
    )
    assert status == 200
    assert page["next_token"]
    mine = api.as_key(issue_key((MINE,)))
    status, body = mine.call(
        "GET",
        f"{PREFIX}/recommendations/agent/THEIR-AGENT",
        query={"workspace_id": MINE, "next_token": page["next_token"]},
    )
    assert status == 400, body
