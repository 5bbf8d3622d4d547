"""Errors name what is at fault: the field (``k``, ``candidates``, ``body``), the header as the API
spells it (``Idempotency-Key``), and the methods a known path does serve (405 with ``Allow``)."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest

from localdev.runtime import embedded_aws
from localdev.server import serving
from tests.helpers.api import WORKSPACE, Api, issue_key, recommendation
from tests.helpers.store import store_snapshot

ROUTING = "/api/v1/learning/routing/select"
TRACK = "/api/v1/learning/recommendations/track"


def _routing(**overrides: Any) -> dict[str, Any]:
    return {
        "workspace_id": WORKSPACE,
        "recommendation_type": "strategy",
        "candidates": ["STRAT-01", "STRAT-02"],
        **overrides,
    }


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        (_routing(k=3), "k", "cannot exceed the number of candidates (2)"),
        (_routing(candidates=["STRAT-01", "STRAT-01"]), "candidates", "must not repeat"),
    ],
)
def test_routing_errors_name_k_or_candidates(api: Api, body: dict[str, Any], field: str, says: str) -> None:
    before = store_snapshot()
    status, answer = api.call("POST", ROUTING, body=body)
    assert status == 422
    assert [d["field"] for d in answer["details"]] == [field]
    assert says in answer["details"][0]["message"]
    assert store_snapshot() == before


def test_workflow_and_comparison_errors_name_their_field(api: Api) -> None:
    rid = api.track()["recommendation_id"]
    status, answer = api.evaluate(rid, alternatives=[], comparative_rank=3)
    assert (status, [d["field"] for d in answer["details"]]) == (422, ["comparative_rank"])
    status, answer = api.call(
        "POST",
        "/api/v1/learning/outcomes/evaluate-workflow",
        body={
            "workspace_id": WORKSPACE,
            "workflow_id": "move_123",
            "overall_quality_score": 80,
            "recommendations": [rid, rid],
        },
    )
    assert (status, [d["field"] for d in answer["details"]]) == (422, ["recommendations"])


def test_malformed_json_blames_the_body_and_says_where(api: Api) -> None:
    status, answer = api.call("POST", TRACK, raw_body='{"workspace_id": "ws_test",\n "agent_id" "x"}')
    assert (status, answer["error"]) == (400, "malformed_json")
    [detail] = answer["details"]
    assert detail["field"] == "body"
    assert detail["message"] == "Expecting ':' delimiter at character 40 (line 2, column 13)"
    assert detail["message"] in answer["message"]


def test_the_idempotency_key_header_has_one_spelling(api: Api) -> None:
    status, short = api.call("POST", TRACK, body=recommendation(), headers={"Idempotency-Key": "short"})
    assert status == 422
    status, _ = api.call("POST", TRACK, body=recommendation(), headers={"Idempotency-Key": "retry-key-0001"})
    assert status == 201
    status, reused = api.call(
        "POST", TRACK, body=recommendation(agent_id="STRAT-02"), headers={"Idempotency-Key": "retry-key-0001"}
    )
    assert status == 422
    assert (
        [d["field"] for d in short["details"]]
        == [d["field"] for d in reused["details"]]
        == ["Idempotency-Key"]
    )


def test_a_known_path_with_another_method_is_405_with_allow_over_http() -> None:
    with embedded_aws() as functions, serving(functions, port=0, quiet=True) as server:
        key = issue_key()

        def call(method: str, path: str) -> tuple[int, str | None, bytes]:
            request = urllib.request.Request(
                server.url + path, method=method, headers={"Authorization": f"Bearer {key}"}
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.status, response.headers.get("Allow"), response.read()
            except urllib.error.HTTPError as error:
                return error.code, error.headers.get("Allow"), error.read()

        status, allow, body = call(
            "DELETE", "/api/v1/learning/recommendations/rec_01JZZZZZZZZZZZZZZZZZZZZZZZ"
        )
        assert (status, allow) == (405, "GET")
        assert b'"error": "method_not_allowed"' in body
        # the literal resource wins whatever the method, as in API Gateway
        assert call("GET", "/api/v1/learning/learning-cycles/trigger")[:2] == (405, "POST")
        assert call("PUT", "/api/v1/learning/trust-scores")[:2] == (405, "GET, POST")
        assert call("DELETE", "/api/v1/learning/nowhere")[:2] == (404, None)
