"""The demo against the real local server, over real sockets: what it reports is what the API holds."""

from __future__ import annotations

import json
import re
import urllib.request
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from localdev.demo import DemoError, DemoHttpError, DemoSummary, run_demo
from localdev.devkey import issue_dev_key
from localdev.runtime import LocalFunctions, empty_aws
from localdev.server import LocalApiServer, serving
from localdev.swarm import Swarm, default_swarm
from swarm_learning.clock import utcnow


def server_clock() -> float:
    """The demo dates the ids it mints by the service's (fixed) clock."""
    return utcnow().timestamp()


pytestmark = pytest.mark.slow  # runs the demo over a real socket

WORKSPACE = "ws_demo_test"
WORKFLOWS = 15
SEED = 3


@pytest.fixture(scope="module")
def server(embedded_aws: LocalFunctions) -> Iterator[LocalApiServer]:
    empty_aws(embedded_aws)
    with serving(embedded_aws, port=0) as running:
        yield running


@pytest.fixture(scope="module")
def api_key(server: LocalApiServer) -> str:
    return issue_dev_key((WORKSPACE, "ws_demo_print"))


@pytest.fixture(scope="module")
def summary(server: LocalApiServer, api_key: str) -> DemoSummary:
    server.local_token = api_key  # as `make run`: its development key runs the local jobs
    return run_demo(
        server.url,
        workspace_id=WORKSPACE,
        workflows=WORKFLOWS,
        seed=SEED,
        progress=False,
        api_key=api_key,
        clock=server_clock,
    )


def _get(server: LocalApiServer, api_key: str, path: str, **query: Any) -> Any:
    url = f"{server.url}/api/v1/learning{path}?{urlencode(query)}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {api_key}"})
    with opener.open(request, timeout=10) as response:
        assert response.status == 200
        return json.loads(response.read())


def _simulated_per_agent() -> Counter[str]:
    workflows = Swarm(default_swarm(seed=SEED), seed=SEED).workflows(WORKSPACE, WORKFLOWS)
    return Counter(r.agent_id for workflow in workflows for r in workflow.recommendations)


def test_the_counts_agree_with_the_workspace_statistics(
    server: LocalApiServer, api_key: str, summary: DemoSummary
) -> None:
    counts = _get(server, api_key, "/stats", workspace_id=WORKSPACE)["overall"]["counts"]
    assert summary.tracked == sum(_simulated_per_agent().values())
    assert counts["tracked"] == summary.tracked
    assert counts["evaluated"] == summary.evaluated
    assert counts["pending"] == summary.pending
    assert summary.tracked == summary.evaluated + summary.pending
    assert summary.evaluated > 0
    assert summary.already_evaluated == 0
    # One routing decision per workflow; the events themselves go in batches.
    assert 0 < summary.http_requests - summary.workflows < summary.tracked
    assert summary.seconds > 0


def test_every_agent_with_recommendations_has_statistics(
    server: LocalApiServer, api_key: str, summary: DemoSummary
) -> None:
    simulated = _simulated_per_agent()
    assert {a.agent_id for a in summary.agents} == set(simulated)
    for agent in summary.agents:
        stats = _get(server, api_key, f"/agents/{agent.agent_id}/stats", workspace_id=WORKSPACE)
        assert stats["agent_name"] == agent.agent_name
        assert stats["overall"]["counts"]["tracked"] == simulated[agent.agent_id] == agent.recommendations
        assert stats["overall"]["counts"]["evaluated"] == agent.evaluated == agent.observed_evaluated
        if agent.evaluated:
            assert 0 <= agent.strict_approval_rate <= agent.approval_rate <= 1
            assert 0 < agent.true_success_rate < 1  # the hidden probability, beside what was measured
    assert sum(a.evaluated for a in summary.agents) == summary.evaluated


def test_the_demo_prints_a_summary_and_what_to_try_next(
    server: LocalApiServer, api_key: str, summary: DemoSummary, capsys: pytest.CaptureFixture[str]
) -> None:
    run_demo(
        server.url,
        workspace_id="ws_demo_print",
        workflows=3,
        seed=SEED,
        progress=False,
        api_key=api_key,
        clock=server_clock,
    )
    printed = capsys.readouterr().out
    assert "true success" in printed
    assert "workspace" in printed
    assert printed.count('curl -s -H "Authorization: Bearer $SWARM_API_KEY" \'') == 2


def test_a_rerun_of_the_same_seed_changes_nothing(
    server: LocalApiServer, api_key: str, summary: DemoSummary
) -> None:
    before = _get(server, api_key, "/stats", workspace_id=WORKSPACE)["overall"]["counts"]
    again = run_demo(
        server.url,
        workspace_id=WORKSPACE,
        workflows=WORKFLOWS,
        seed=SEED,
        progress=False,
        api_key=api_key,
        clock=server_clock,
    )
    assert again.tracked == summary.tracked
    assert again.new_types == 0  # known since the first run: no warning
    assert again.evaluated == 0
    assert again.already_evaluated == summary.evaluated
    assert _get(server, api_key, "/stats", workspace_id=WORKSPACE)["overall"]["counts"] == before


def test_the_same_seed_simulates_the_same_recommendations() -> None:
    def simulate() -> list[dict[str, Any]]:
        swarm = Swarm(default_swarm(seed=SEED), seed=SEED)
        return [
            r.request for workflow in swarm.workflows(WORKSPACE, WORKFLOWS) for r in workflow.recommendations
        ]

    assert simulate() == simulate()


def test_an_http_error_names_the_status_and_the_body(server: LocalApiServer, api_key: str) -> None:
    with pytest.raises(DemoHttpError) as raised:
        run_demo(server.url, workspace_id="not a valid id", workflows=1, progress=False, api_key=api_key)
    assert raised.value.status == 422
    assert "workspace_id" in raised.value.body
    assert "HTTP 422" in str(raised.value)


def test_an_unreachable_server_is_reported_clearly() -> None:
    with pytest.raises(DemoError, match=re.escape("cannot reach http://127.0.0.1:9 ")):
        run_demo("http://127.0.0.1:9", workflows=1, progress=False, api_key="swl_unused")
    with pytest.raises(ValueError, match="http"):
        run_demo("ftp://127.0.0.1:3000", workflows=1, progress=False, api_key="swl_unused")


def test_the_demo_ends_with_one_trust_refresh_so_trust_history_is_not_empty(
    server: LocalApiServer, api_key: str, summary: DemoSummary
) -> None:
    assert summary.trust_refreshed
    agent = summary.agents[0].agent_id
    history = _get(server, api_key, f"/trust-scores/{agent}/history", workspace_id=WORKSPACE)
    assert len(history["items"]) >= 1


def test_without_the_servers_key_the_demo_says_how_to_refresh_trust(
    server: LocalApiServer, api_key: str, summary: DemoSummary, capsys: pytest.CaptureFixture[str]
) -> None:
    token, server.local_token = server.local_token, "another-token"
    try:
        again = run_demo(
            server.url,
            workspace_id=WORKSPACE,
            workflows=1,
            seed=SEED,
            progress=False,
            api_key=api_key,
            clock=server_clock,
        )
    finally:
        server.local_token = token
    assert not again.trust_refreshed
    assert "python -m localdev job trust-refresh" in capsys.readouterr().out


def test_the_swarms_types_are_new_once_and_reported_in_one_line(summary: DemoSummary) -> None:
    workflows = Swarm(default_swarm(seed=SEED), seed=SEED).workflows(WORKSPACE, WORKFLOWS)
    types = {r.request["recommendation_type"] for workflow in workflows for r in workflow.recommendations}
    assert summary.new_types == len(types)
