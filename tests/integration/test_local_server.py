"""The local HTTP server: real sockets, the same events API Gateway sends, the same handlers."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from localdev import devkey
from localdev.runtime import LocalFunctions
from localdev.server import LocalApiServer, serving
from swarm_learning.clock import utcnow
from tests.helpers.api import WORKSPACE, issue_key, recommendation


@pytest.fixture
def server(functions: LocalFunctions) -> Iterator[LocalApiServer]:
    with serving(functions, port=0) as running:
        yield running


@pytest.fixture
def key(server: LocalApiServer) -> str:
    return issue_key()


def _request(
    server: LocalApiServer, method: str, path: str, body=None, headers=None, key: str | None = None
) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    authorization = {"Authorization": f"Bearer {key}"} if key else {}
    request = urllib.request.Request(
        f"{server.url}{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **authorization, **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_track_then_read_over_http(server: LocalApiServer, key: str) -> None:
    headers = {"Idempotency-Key": "http-key-0001"}
    track = "/api/v1/learning/recommendations/track"
    status, created = _request(server, "POST", track, recommendation(), headers, key=key)
    assert status == 201
    status, again = _request(server, "POST", track, recommendation(), headers, key=key)
    assert (status, again) == (201, created)
    rid = created["recommendation_id"]
    status, stored = _request(
        server, "GET", f"/api/v1/learning/recommendations/{rid}?workspace_id={WORKSPACE}", key=key
    )
    assert status == 200
    assert stored["recommendation_id"] == rid
    status, page = _request(
        server,
        "GET",
        f"/api/v1/learning/recommendations/agent/STRAT-01?workspace_id={WORKSPACE}&limit=5",
        key=key,
    )
    assert (status, page["count"]) == (200, 1)


def test_validation_errors_travel_as_json(server: LocalApiServer, key: str) -> None:
    status, body = _request(
        server, "POST", "/api/v1/learning/recommendations/track", recommendation(confidence_score=2), key=key
    )
    assert status == 422
    assert body["details"][0]["field"] == "confidence_score"


def test_paths_the_api_does_not_define_answer_with_the_gateway_response(
    server: LocalApiServer, key: str
) -> None:
    # API Gateway answers "Missing Authentication Token" (403); the template maps it to a JSON 404.
    status, body = _request(server, "GET", "/api/v1/learning/unknown", key=key)
    assert status == 404
    assert body["error"] == "route_not_found"
    assert body["message"] == "no route for GET /api/v1/learning/unknown"
    status, body = _request(server, "DELETE", "/api/v1/learning/stats", key=key)
    assert (status, body["error"]) == (
        405,
        "method_not_allowed",
    )  # a known path: tests/integration/test_error_details.py


def test_health_needs_no_key_and_everything_else_does(server: LocalApiServer) -> None:
    assert _request(server, "GET", "/api/v1/learning/health") == (200, {"status": "ok", "version": "0.1.0"})
    status, body = _request(server, "GET", f"/api/v1/learning/stats?workspace_id={WORKSPACE}")
    assert (status, body["error"]) == (401, "unauthorized")


def test_the_development_key_is_saved_and_kept_while_its_data_lives(
    server: LocalApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = devkey.ServerFiles(tmp_path / "3300")
    token, new = devkey.dev_key(files)
    assert new
    assert files.key.stat().st_mode & 0o777 == 0o600
    assert devkey.dev_key(files) == (token, False)  # the store still holds it: the same key
    status, _ = _request(server, "GET", "/api/v1/learning/stats?workspace_id=ws_demo", key=token)
    assert status == 200
    files.write_private(files.key, "swl_aaaaaaaaaaaaaaaa_" + "x" * 43)  # a key this store never issued
    replaced, new = devkey.dev_key(files)
    assert new
    assert replaced != token
    assert files.saved_key() == replaced
    running = devkey.RunningServer(server.url, files)
    assert running.key() == replaced
    monkeypatch.setenv("SWARM_API_KEY", "swl_from_the_environment")
    assert running.key() == "swl_from_the_environment"


def test_local_administration_needs_the_servers_token(server: LocalApiServer, key: str) -> None:
    for path in ("/_local/keys", "/_local/jobs/trust-refresh"):
        method = "GET" if path == "/_local/keys" else "POST"
        for credential in (None, key, server.local_token + "x"):  # none, an API key, a wrong token
            status, body = _request(server, method, path, key=credential)
            assert (status, body["error"]) == (401, "unauthorized"), (path, credential)
    status, listed = _request(server, "GET", "/_local/keys", key=server.local_token)
    assert status == 200
    assert listed


def test_keys_are_administered_locally_issue_rotate_revoke(server: LocalApiServer) -> None:
    status, issued = _request(
        server, "POST", "/_local/keys", {"name": "ci", "workspaces": ["ws_ci"]}, key=server.local_token
    )
    assert status == 201
    assert issued["api_key"].startswith("swl_")
    assert "secret_hash" not in issued
    stats = "/api/v1/learning/stats?workspace_id=ws_ci"
    assert _request(server, "GET", stats, key=issued["api_key"])[0] == 200

    status, rotated = _request(
        server, "POST", f"/_local/keys/{issued['key_id']}/rotate", {"grace_hours": 0}, key=server.local_token
    )
    assert status == 200
    server.functions.gateway.forget_decisions()  # as if the authorizer's cache time had passed
    assert _request(server, "GET", stats, key=issued["api_key"])[0] == 401  # no grace asked for
    assert _request(server, "GET", stats, key=rotated["api_key"])[0] == 200

    status, revoked = _request(
        server, "POST", f"/_local/keys/{rotated['key_id']}/revoke", key=server.local_token
    )
    assert (status, revoked["status"]) == (200, "revoked")
    server.functions.gateway.forget_decisions()
    assert _request(server, "GET", stats, key=rotated["api_key"])[0] == 401

    status, listed = _request(server, "GET", "/_local/keys", key=server.local_token)
    assert status == 200
    assert {k["key_id"] for k in listed} >= {issued["key_id"], rotated["key_id"]}
    assert all("api_key" not in k and "salt" not in k for k in listed)
    assert (
        _request(server, "POST", "/_local/keys", {"name": "", "workspaces": []}, key=server.local_token)[0]
        == 422
    )
    assert _request(server, "POST", "/_local/keys/nope/revoke", key=server.local_token)[0] == 404
    assert _request(server, "GET", "/_local/keys/elsewhere", key=server.local_token)[0] == 404


def test_scheduled_jobs_run_on_demand(server: LocalApiServer, key: str) -> None:
    _request(server, "POST", "/api/v1/learning/recommendations/track", recommendation(), key=key)
    status, body = _request(server, "POST", "/_local/jobs/trust-refresh", key=server.local_token)
    assert status == 200
    assert body["result"]["agents"] == 1
    status, body = _request(server, "POST", "/_local/jobs/nope", key=server.local_token)
    assert status == 404
    assert "trust-refresh" in body["jobs"]


def test_every_job_runs_on_demand_and_the_clock_can_be_advanced(server: LocalApiServer, key: str) -> None:
    _request(server, "POST", "/api/v1/learning/recommendations/track", recommendation(), key=key)
    for job in ("trust-refresh", "learning-cycle", "pattern-refresh", "cleanup"):
        status, body = _request(server, "POST", f"/_local/jobs/{job}", key=server.local_token)
        assert status == 200, body
    # 100 days later the recommendation is past retention: a dry run finds it, deletes nothing
    later = (utcnow() + timedelta(days=100)).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, body = _request(
        server, "POST", "/_local/jobs/cleanup", {"time": later, "dry_run": True}, key=server.local_token
    )
    assert status == 200
    assert body["result"]["expired"]["recommendations"] == 1
    assert body["result"]["deleted"] == {}
