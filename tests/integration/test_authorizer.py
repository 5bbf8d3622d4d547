"""Authentication through the real interface: the local API Gateway runs the authorizer function
on every request (its decision cached per key, as configured in template.yaml), then the route."""

from __future__ import annotations

from datetime import timedelta

import pytest

from localdev import runtime
from swarm_learning.clock import utcnow
from swarm_learning.services.keys.service import KeyRequest, get_key_service
from tests.helpers.api import WORKSPACE, Api, issue_key

STATS = "/api/v1/learning/stats"


def _status(
    api: Api, *, headers: dict[str, str] | None = None, authenticated: bool = True
) -> tuple[int, dict]:
    return api.call(
        "GET", STATS, query={"workspace_id": WORKSPACE}, headers=headers, authenticated=authenticated
    )


def test_a_valid_key_is_served(api: Api) -> None:
    status, _ = _status(api)
    assert status == 200


def test_a_missing_key_is_401_without_calling_the_authorizer(api: Api) -> None:
    status, body = _status(api, authenticated=False)
    assert (status, body["error"]) == (401, "unauthorized")
    assert body["request_id"]
    assert api.functions.gateway.authorizer_calls == 0


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer swl_aaaaaaaaaaaaaaaa_" + "A" * 43,  # well formed, never issued
        "Bearer not-a-key",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
        "swl_aaaaaaaaaaaaaaaa_" + "A" * 43,  # no scheme
    ],
)
def test_an_invalid_key_is_401(api: Api, authorization: str) -> None:
    status, body = _status(api, headers={"Authorization": authorization})
    assert (status, body["error"]) == (401, "unauthorized")


def test_a_wrong_secret_for_a_real_key_id_is_401(api: Api) -> None:
    key_id = api.api_key.split("_")[1]
    forged = f"swl_{key_id}_" + "B" * 43
    status, _ = _status(api, headers={"Authorization": f"Bearer {forged}"})
    assert status == 401


def test_a_revoked_key_stops_working_once_the_cached_decision_expires(api: Api) -> None:
    assert _status(api)[0] == 200
    get_key_service().revoke(api.api_key.split("_")[1])
    # API Gateway serves the cached Allow until ReauthorizeEvery (60 s) has passed ...
    assert _status(api)[0] == 200
    api.functions.gateway.forget_decisions()
    # ... then asks the authorizer again, which refuses the revoked key.
    status, body = _status(api)
    assert (status, body["error"]) == (401, "unauthorized")


def test_the_decision_is_cached_per_key(api: Api) -> None:
    for _ in range(3):
        assert _status(api)[0] == 200
    assert api.functions.gateway.authorizer_calls == 1
    other = api.as_key(issue_key())
    assert _status(other)[0] == 200
    assert api.functions.gateway.authorizer_calls == 2


def test_the_cache_time_comes_from_the_template(functions: runtime.LocalFunctions) -> None:
    clock = [0.0]
    functions.gateway.clock = lambda: clock[0]
    api = Api(functions)
    assert _status(api)[0] == 200
    clock[0] += functions.gateway.auth.cache_seconds - 1
    assert _status(api)[0] == 200
    assert functions.gateway.authorizer_calls == 1
    clock[0] += 2
    assert _status(api)[0] == 200
    assert functions.gateway.authorizer_calls == 2
    assert functions.gateway.auth.cache_seconds == 60


def test_a_rotated_key_keeps_working_for_its_grace_period_then_expires(api: Api) -> None:
    keys = get_key_service()
    old_id = api.api_key.split("_")[1]
    successor = keys.rotate(old_id, grace=timedelta(hours=1))
    assert successor.workspaces == keys.get(old_id).workspaces
    assert keys.get(old_id).rotated_to == successor.key_id
    assert _status(api)[0] == 200  # within the grace period
    assert _status(api.as_key(successor.api_key))[0] == 200
    later = utcnow() + timedelta(hours=2)
    with pytest.raises(Exception, match="expired"):
        keys.authenticate(api.api_key, now=later)
    assert keys.authenticate(successor.api_key, now=later).key_id == successor.key_id


def test_an_expired_key_is_401(api: Api) -> None:
    issued = get_key_service().issue(
        KeyRequest(name="short", workspaces=[WORKSPACE], expires_in_days=1),
        now=utcnow() - timedelta(days=2),
    )
    status, _ = _status(api.as_key(issued.api_key))
    assert status == 401


def test_the_health_check_needs_no_key(api: Api) -> None:
    status, body = api.call("GET", "/api/v1/learning/health", authenticated=False)
    assert (status, body["status"]) == (200, "ok")
    assert api.functions.gateway.authorizer_calls == 0


def test_a_function_called_without_the_authorizer_refuses(api: Api) -> None:
    # Defence in depth: an event that did not pass the authorizer (no context) never reaches a route.
    found = api.functions.api_event("GET", STATS, query={"workspace_id": [WORKSPACE]})
    assert found is not None
    spec, event = found
    response = api.functions.invoke(spec.logical_id, event)
    assert response["statusCode"] == 401
    assert response["headers"]["WWW-Authenticate"].startswith("Bearer")


def test_the_token_never_reaches_the_logs(
    api: Api, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    secret = api.api_key.split("_", 2)[2]
    _status(api)
    _status(api, headers={"Authorization": f"Bearer swl_aaaaaaaaaaaaaaaa_{secret[::-1]}"})
    printed = capfd.readouterr().out  # EMF metrics
    logged = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    assert "ApiKeysAccepted" in printed
    assert "API key refused" in logged
    for output in (printed, logged):
        assert secret not in output
        assert secret[::-1] not in output
