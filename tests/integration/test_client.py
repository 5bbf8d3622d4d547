"""The Python client (clients/python) against the local server over real sockets: the decision
calls, tracking in batches, and delivery exactly once when the server dies mid-stream."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from localdev.runtime import LocalFunctions, embedded_aws
from localdev.server import LocalApiServer, serving
from swarm_learning.clock import utcnow
from swarm_learning_client import AgentRecommendation, Backoff, SwarmLearningClient
from tests.helpers.api import WORKSPACE, issue_key

QUICK_RETRIES = {"backoff": Backoff(base=0.02, cap=0.2), "max_send_retries": 200, "flush_interval": 0.05}


@pytest.fixture
def functions() -> Iterator[LocalFunctions]:
    with embedded_aws() as loaded:
        yield loaded


@pytest.fixture
def server(functions: LocalFunctions) -> Iterator[LocalApiServer]:
    with serving(functions, port=0, quiet=True) as running:
        yield running


def server_clock_ns() -> int:
    """The ids a test client mints are dated by the service's (fixed) clock."""
    return int(utcnow().timestamp() * 1_000_000_000)


def client_for(url: str, **options: Any) -> SwarmLearningClient:
    return SwarmLearningClient(url, issue_key(), workspace_id=WORKSPACE, clock=server_clock_ns, **options)


def stored_recommendations() -> dict[str, dict[str, Any]]:
    """Every recommendation item of the embedded table, by id (tests may scan)."""
    items = boto3.client("dynamodb").scan(TableName="RecommendationsTable")["Items"]
    return {i["recommendation_id"]["S"]: i for i in items if i["sk"]["S"] == "RECOMMENDATION"}


def test_orchestrator_loop_through_the_client(server: LocalApiServer) -> None:
    with client_for(server.url, flush_interval=3600) as client:

        @client.tracked(agent_id="CONTENT-01", agent_name="Writer", recommendation_type="content")
        def write(topic: str) -> AgentRecommendation:
            return AgentRecommendation(recommendation_content={"topic": topic}, confidence_score=0.6)

        tracked = []
        for n in range(6):
            with client.workflow(f"move_{n}", correlation_id=f"wf_{n}") as wf:
                decision = wf.route("strategy", ["STRAT-01", "STRAT-02", "STRAT-03"], k=1)
                agent = decision.agent_ids[0]
                rid = wf.track(
                    agent_id=agent,
                    recommendation_type="strategy",
                    recommendation_content={"n": n},
                    confidence_score=0.8,
                )
                write(f"topic {n}")
                wf.evaluate(overall_quality_score=90.0 if n % 2 else 30.0, feedback="scored")
                tracked.append((rid, decision.decision_id, decision.probability(agent)))
        assert client.flush(timeout=30)
        assert client.stats().failed == 0

        stored = stored_recommendations()
        assert len(stored) == 12
        for rid, decision_id, probability in tracked:
            assert stored[rid]["decision_id"]["S"] == decision_id
            assert float(stored[rid]["selection_probability"]["N"]) == probability
            assert stored[rid]["status"]["S"] in ("approved", "rejected")

        agent = tracked[0][0] and stored[tracked[0][0]]["agent_id"]["S"]
        assert client.trust(agent).agent_id == agent
        assert {t.agent_id for t in client.trusted_agents(min_trust=0.0)} >= {agent, "CONTENT-01"}
        assert 0.5 <= client.decision_boost(agent, "strategy").decision_boost <= 1.5
        cycle = client.wait_for_cycle(client.trigger_learning_cycle(), timeout=60, poll_interval=0.2)
        assert cycle.status == "succeeded"
        assert cycle.result is not None
        assert cycle.result["samples_analyzed"] == 12
        assert isinstance(client.patterns(), list)
        assert isinstance(client.suggest_rules({"recommendation_type": "strategy"}), list)
        assert client.agent_profile("CONTENT-01").evaluated == 6
        # Every workflow's decision joined its first-seated agent's evaluated recommendation.
        evaluation = client.evaluate_routing(["uniform", {"policy": "exploit"}], lookback_days=1)
        assert evaluation.decisions == 6
        assert evaluation.logged is not None
        assert evaluation.logged.value == 0.5  # half the workflows scored 90, half 30
        assert [p.policy for p in evaluation.policies] == ["uniform", "exploit"]


class KillableServer(LocalApiServer):
    """A local server that can die like a process: listening socket and open connections gone,
    requests in flight finish their writes but their answers are lost."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections: list[socket.socket] = []

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        self.connections.append(connection)
        return connection, address

    def start(self) -> KillableServer:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def kill(self) -> None:
        self.shutdown()
        self.server_close()
        for connection in self.connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


def _until(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_server_dies_mid_stream_and_every_event_is_stored_exactly_once(functions: LocalFunctions) -> None:
    first = KillableServer(("127.0.0.1", 0), functions, quiet=True).start()
    port = first.server_address[1]
    client = client_for(first.url, batch_size=10, **QUICK_RETRIES)
    ids = []
    for n in range(150):
        if n == 60:
            _until(lambda: client.stats().sent >= 30)  # the stream is flowing
            first.kill()  # mid-stream, requests possibly in flight
        if n == 100:
            _until(lambda: client.stats().retries > 0)  # the client noticed, and keeps the events
            second = KillableServer(("127.0.0.1", port), functions, quiet=True)
            second.invoke_lock = first.invoke_lock  # one store: the old process's last write lands first
            second.start()
        rid = client.track(
            agent_id=f"A-{n % 4}",
            recommendation_type="strategy",
            recommendation_content={"n": n},
            confidence_score=0.7,
        )
        ids.append(rid)
        if n % 3 == 0:
            client.evaluate(rid, overall_quality_score=80.0)
    assert client.flush(timeout=120)
    stats = client.stats()
    assert (stats.sent, stats.failed, stats.dropped) == (200, 0, 0)
    client.close()
    second.kill()

    stored = stored_recommendations()
    assert sorted(stored) == sorted(ids)
    assert sum(1 for item in stored.values() if item["status"]["S"] == "approved") == 50
    # the counters were added once per event, retries notwithstanding
    with serving(functions, port=0, quiet=True) as check:
        reader = httpx.Client(base_url=check.url, headers={"Authorization": f"Bearer {issue_key()}"})
        counts = reader.get("/api/v1/learning/stats", params={"workspace_id": WORKSPACE}).json()["overall"][
            "counts"
        ]
        reader.close()
    assert (counts["tracked"], counts["evaluated"], counts["approved"]) == (150, 50, 50)


class LosesFirstAnswer(httpx.HTTPTransport):
    """The batch reaches the service and is stored, but its answer is lost on the way back."""

    def __init__(self) -> None:
        super().__init__()
        self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path.endswith("/events/batch") and not self.lost:
            self.lost += 1
            response.read()
            raise httpx.ReadError("connection reset", request=request)
        return response


def test_a_batch_whose_answer_was_lost_is_sent_again_and_stored_once(server: LocalApiServer) -> None:
    transport = LosesFirstAnswer()
    client = client_for(server.url, transport=transport, **QUICK_RETRIES)
    ids = [
        client.track(
            agent_id="A",
            recommendation_type="strategy",
            recommendation_content={"n": n},
            confidence_score=0.7,
        )
        for n in range(5)
    ]
    client.evaluate(ids[0], overall_quality_score=90.0)
    assert client.flush(timeout=30)
    client.close()
    assert transport.lost == 1
    assert (client.stats().sent, client.stats().retries) == (6, 1)
    assert sorted(stored_recommendations()) == sorted(ids)


def test_alerts_through_the_sync_and_async_clients(server: LocalApiServer) -> None:
    import asyncio

    from swarm_learning.domain.alert_state import Change
    from swarm_learning.services.alerts.service import get_alert_raiser
    from swarm_learning.vocabulary import AlertKind
    from swarm_learning_client import AsyncSwarmLearningClient

    raiser = get_alert_raiser()
    for number, kind in enumerate([AlertKind.AGENT_TRUST_DECLINED, AlertKind.LEARNING_CYCLE_FAILED]):
        change = Change(kind, 0.8, 0.45, 60, {"outcomes_before": 40, "outcomes_after": 20})
        raiser.apply(
            WORKSPACE,
            f"client#{number}",
            lambda _current, change=change: ({"status": "changed"}, change),
            agent_id="ANLY-01" if number == 0 else None,
            dashboard_path="#/agents/ANLY-01" if number == 0 else "#/cycles",
        )
    with client_for(server.url) as client:
        page = client.alerts(limit=1)
        assert [a.kind for a in page.items] == ["LearningCycleFailed"]
        assert page.next_token is not None
        rest = client.alerts(limit=1, next_token=page.next_token)
        (declined,) = rest.items
        assert (declined.agent_id, declined.before, declined.after, declined.evidence_n) == (
            "ANLY-01",
            0.8,
            0.45,
            60,
        )
        assert declined.dashboard_path == "#/agents/ANLY-01"
        assert declined.raised_at is not None
        assert [a.kind for a in client.alerts(agent_id="ANLY-01").items] == ["AgentTrustDeclined"]

    async def read() -> list[str]:
        async with AsyncSwarmLearningClient(server.url, issue_key(), workspace_id=WORKSPACE) as client:
            return [a.kind for a in (await client.alerts(kind="LearningCycleFailed")).items]

    assert asyncio.run(read()) == ["LearningCycleFailed"]
