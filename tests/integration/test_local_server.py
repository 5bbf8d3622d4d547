"""The local HTTP server: real sockets, the same events API Gateway sends, the same handlers."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from localdev.runtime import embedded_aws
from localdev.server import LocalApiServer, serving
from tests.conftest import WORKSPACE, recommendation


@pytest.fixture
def server() -> Iterator[LocalApiServer]:
    with embedded_aws() as functions, serving(functions, port=0) as running:
        yield running


def _request(server: LocalApiServer, method: str, path: str, body=None, headers=None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{server.url}{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_track_then_read_over_http(server: LocalApiServer) -> None:
    headers = {"Idempotency-Key": "http-key-0001"}
    status, created = _request(
        server, "POST", "/api/v1/learning/recommendations/track", recommendation(), headers
    )
    assert status == 201
    status, again = _request(
        server, "POST", "/api/v1/learning/recommendations/track", recommendation(), headers
    )
    assert (status, again) == (201, created)
    rid = created["recommendation_id"]
    status, stored = _request(
        server, "GET", f"/api/v1/learning/recommendations/{rid}?workspace_id={WORKSPACE}"
    )
    assert status == 200
    assert stored["recommendation_id"] == rid
    status, page = _request(
        server, "GET", f"/api/v1/learning/recommendations/agent/STRAT-01?workspace_id={WORKSPACE}&limit=5"
    )
    assert (status, page["count"]) == (200, 1)


def test_validation_errors_travel_as_json(server: LocalApiServer) -> None:
    status, body = _request(
        server, "POST", "/api/v1/learning/recommendations/track", recommendation(confidence_score=2)
    )
    assert status == 422
    assert body["details"][0]["field"] == "confidence_score"


def test_paths_the_api_does_not_define_answer_like_api_gateway(server: LocalApiServer) -> None:
    status, body = _request(server, "GET", "/api/v1/learning/unknown")
    assert status == 403
    assert body == {"message": "Missing Authentication Token"}
    status, _ = _request(server, "DELETE", "/api/v1/learning/stats")
    assert status == 403


def test_scheduled_jobs_run_on_demand(server: LocalApiServer) -> None:
    _request(server, "POST", "/api/v1/learning/recommendations/track", recommendation())
    status, body = _request(server, "POST", "/_local/jobs/trust-refresh")
    assert status == 200
    assert body["result"]["agents"] == 1
    status, body = _request(server, "POST", "/_local/jobs/nope")
    assert status == 404
    assert "trust-refresh" in body["jobs"]


def test_every_job_runs_on_demand_and_the_clock_can_be_advanced(server: LocalApiServer) -> None:
    _request(server, "POST", "/api/v1/learning/recommendations/track", recommendation())
    for job in ("trust-refresh", "learning-cycle", "pattern-refresh", "cleanup"):
        status, body = _request(server, "POST", f"/_local/jobs/{job}")
        assert status == 200, body
    # 100 days later the recommendation is past retention: a dry run finds it, deletes nothing
    later = (datetime.now(UTC) + timedelta(days=100)).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, body = _request(server, "POST", "/_local/jobs/cleanup", {"time": later, "dry_run": True})
    assert status == 200
    assert body["result"]["expired"]["recommendations"] == 1
    assert body["result"]["deleted"] == {}
