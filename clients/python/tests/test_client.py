"""The decision calls (typed, errors naming the field, retries), ids, the workflow helper and the
tracked decorator, sync and async, against a mocked transport."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
import pytest
from fake_service import FakeService, RecordingBackoff

from swarm_learning_client import (
    AgentRecommendation,
    ApiError,
    AsyncSwarmLearningClient,
    CycleTimeoutError,
    Estimate,
    RoutingDecision,
    RoutingEvaluation,
    TransportError,
    new_outcome_id,
    new_recommendation_id,
)
from swarm_learning_client.ids import ulid

ULID = r"[0-9A-HJKMNP-TV-Z]{26}"  # the service's pattern (swarm_learning.ids)
DECISION = {
    "decision_id": "dec_01HZX3J5K6M7N8P9Q0R1S2T3V4",
    "workspace_id": "ws_test",
    "recommendation_type": "strategy",
    "mode": "explore",
    "chosen": [
        {"agent_id": "STRAT-01", "rank": 1, "score": 0.8, "probability": 0.7, "expected_success": 0.75},
        {"agent_id": "STRAT-02", "rank": 2, "score": 0.6, "probability": 0.4, "expected_success": 0.5},
    ],
    "applied_rules": [],
    "decided_at": "2026-03-02T12:00:00Z",
}
TRUST = {
    "agent_id": "STRAT-01", "agent_name": "MoveArchitect", "overall_trust_score": 0.7,
    "overall_trust_lower_bound": 0.6, "accuracy_score": 0.8, "consistency_score": 0.7,
    "timeliness_score": 0.9, "reliability_score": 0.95, "confidence_factor": 0.8, "trend": "stable",
    "recommendation_strength": "strong", "provisional": False, "by_type": {},
}  # fmt: skip


def json_answer(status: int, body: Any, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return lambda _request, _events: httpx.Response(status, json=body, headers=headers)


def test_ids_are_the_services_format_time_sortable_and_unique() -> None:
    ids = [new_recommendation_id() for _ in range(1000)]
    assert all(re.fullmatch(rf"rec_{ULID}", i) for i in ids)
    assert len(set(ids)) == 1000
    assert re.fullmatch(rf"out_{ULID}", new_outcome_id())
    earlier, later = ulid(1_700_000_000_000_000_000), ulid(1_700_000_000_001_000_000)
    assert earlier[:10] < later[:10]
    assert earlier[:10] == "01HF7YAT00"  # 1700000000000 ms, as python-ulid encodes it


def test_select_agents_is_typed_and_carries_each_probability(make_client, service: FakeService) -> None:
    service.answers = [json_answer(200, DECISION)]
    decision = make_client().select_agents("strategy", ["STRAT-01", "STRAT-02", "STRAT-03"], k=2)
    assert isinstance(decision, RoutingDecision)
    assert decision.agent_ids == ["STRAT-01", "STRAT-02"]
    assert (decision.probability("STRAT-02"), decision.probability("STRAT-03")) == (0.4, None)
    sent = service.requests[0]
    assert (sent.method, sent.url.path) == ("POST", "/api/v1/learning/routing/select")
    assert sent.headers["Authorization"] == "Bearer key"


def test_decision_calls_build_the_documented_requests(make_client, service: FakeService) -> None:
    service.answers = [
        json_answer(200, TRUST),
        json_answer(200, {"workspace_id": "ws_test", "items": [TRUST], "count": 1}),
        json_answer(200, {"agent_id": "A/1", "recommendation_type": "strategy", "decision_boost": 1.2,
                          "accuracy_score": 0.8, "confidence_factor": 0.9, "evaluated": 40}),
        json_answer(200, {"items": [{"rule_id": "r1", "conditions": {"recommendation_type": "strategy"},
                                     "action": "prefer_agents", "parameters": {}, "expected_success": 0.8,
                                     "support": 30, "source": []}]}),
        json_answer(200, {"items": []}),
    ]  # fmt: skip
    client = make_client()
    assert client.trust("STRAT-01").overall_trust_score == 0.7
    assert [t.agent_id for t in client.trusted_agents(0.6)] == ["STRAT-01"]
    assert client.decision_boost("A/1", "strategy").decision_boost == 1.2
    assert client.suggest_rules({"recommendation_type": "strategy"})[0].action == "prefer_agents"
    assert client.patterns("consensus", min_confidence=0.8) == []
    urls = [str(r.url) for r in service.requests]
    assert urls[1].endswith("/trust-scores?workspace_id=ws_test&min_trust=0.6")
    assert "/agents/A%2F1/decision-boost?" in urls[2]
    assert urls[4].endswith("/patterns?workspace_id=ws_test&category=consensus&min_confidence=0.8")


def test_errors_name_the_field_and_are_not_retried(make_client, service: FakeService) -> None:
    body = {
        "error": "validation_error",
        "message": "invalid input: k",
        "details": [{"field": "k", "message": "x"}],
    }
    service.answers = [json_answer(422, body)]
    with pytest.raises(ApiError) as raised:
        make_client().select_agents("strategy", ["A"], k=3)
    assert (raised.value.status, raised.value.field) == (422, "k")
    assert len(service.requests) == 1


def test_reads_are_retried_on_503_honouring_retry_after(
    make_client, service: FakeService, backoff: RecordingBackoff
) -> None:
    service.answers = [json_answer(503, {}, {"Retry-After": "3"}), json_answer(200, TRUST)]
    assert make_client().trust("STRAT-01").agent_id == "STRAT-01"
    assert backoff.asked == [(0, 3.0)]


def test_a_routing_decision_is_never_sent_twice(make_client, service: FakeService) -> None:
    service.answers = [json_answer(503, {"error": "unavailable"})]
    with pytest.raises(ApiError):
        make_client().select_agents("strategy", ["A"])
    assert len(service.requests) == 1


def test_unreachable_service_is_a_transport_error(make_client, service: FakeService) -> None:
    def down(request: httpx.Request, _events: list) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    service.answers = [down] * 4
    with pytest.raises(TransportError):
        make_client(max_retries=3).trust("A")


def test_wait_for_cycle_polls_until_finished_or_times_out(make_client, service: FakeService) -> None:
    queued = {"iteration_id": "iter_1", "status": "queued", "requested_at": "2026-03-02T12:00:00Z"}
    service.answers = [
        json_answer(202, queued),
        json_answer(200, {**queued, "status": "running"}),
        json_answer(200, {**queued, "status": "succeeded", "result": {"patterns_discovered": 2}}),
        json_answer(200, {**queued, "status": "running"}),
    ]
    client = make_client()
    cycle = client.trigger_learning_cycle(lookback_days=7)
    done = client.wait_for_cycle(cycle, timeout=10, poll_interval=0)
    assert (done.status, done.result) == ("succeeded", {"patterns_discovered": 2})
    with pytest.raises(CycleTimeoutError):
        client.wait_for_cycle("iter_1", timeout=0, poll_interval=1)


def test_workflow_links_tracks_to_the_routing_decision_and_evaluates_them_in_order(
    make_client, service: FakeService
) -> None:
    service.answers = [json_answer(200, DECISION)]
    client = make_client()
    with client.workflow("move_123", correlation_id="wf_456") as wf:
        decision = wf.route("strategy", ["STRAT-01", "STRAT-02", "STRAT-03"], k=2)
        first = wf.track(
            agent_id="STRAT-01",
            recommendation_type="strategy",
            recommendation_content={"a": 1},
            confidence_score=0.9,
        )
        second = wf.track(
            agent_id="STRAT-02",
            recommendation_type="strategy",
            recommendation_content={"a": 2},
            confidence_score=0.6,
        )
        outcome_ids = wf.evaluate(
            overall_quality_score=85, feedback="good", overrides={second: {"overall_quality_score": 30}}
        )
    outside = client.track(
        agent_id="STRAT-03", recommendation_type="strategy", recommendation_content={}, confidence_score=0.5
    )
    assert client.flush(timeout=10)
    events = service.events
    assert [e["type"] for e in events] == ["track", "track", "evaluate", "evaluate", "track"]
    assert (events[0]["workflow_id"], events[0]["correlation_id"]) == ("move_123", "wf_456")
    assert (events[0]["decision_id"], events[0]["selection_probability"]) == (decision.decision_id, 0.7)
    assert events[1]["selection_probability"] == 0.4
    assert [(e["recommendation_id"], e["outcome_id"], e["overall_quality_score"]) for e in events[2:4]] == [
        (first, outcome_ids[0], 85),
        (second, outcome_ids[1], 30),
    ]
    assert events[4]["recommendation_id"] == outside
    assert "workflow_id" not in events[4]
    assert json.loads(service.requests[0].content)["correlation_id"] == "wf_456"


def test_tracked_decorator_tracks_each_call_with_its_latency(make_client, service: FakeService) -> None:
    client = make_client()

    @client.tracked(agent_id="CONTENT-01", agent_name="Writer", recommendation_type="content")
    def write(topic: str) -> AgentRecommendation:
        return AgentRecommendation(
            recommendation_content={"topic": topic}, confidence_score=0.7, reasoning="because"
        )

    with client.workflow("move_9"):
        result = write("pricing")
    assert client.flush(timeout=10)
    (event,) = service.events
    assert event["recommendation_id"] == result.recommendation_id
    assert (event["agent_name"], event["workflow_id"], event["recommendation_content"]) == (
        "Writer",
        "move_9",
        {"topic": "pricing"},
    )
    assert event["latency_ms"] >= 0

    @client.tracked(agent_id="X", recommendation_type="content")
    def wrong() -> dict:
        return {}

    with pytest.raises(TypeError):
        wrong()


def test_async_client_has_the_same_decisions_and_tracking(
    service: FakeService, backoff: RecordingBackoff
) -> None:
    service.answers = [json_answer(200, DECISION), json_answer(503, {}), json_answer(200, TRUST)]
    transport = httpx.MockTransport(service.handle)

    async def main() -> tuple[RoutingDecision, list[dict[str, Any]], float]:
        async with AsyncSwarmLearningClient(
            "http://service.test", "key", workspace_id="ws_test", async_transport=transport,
            transport=transport, backoff=backoff, flush_interval=3600,
        ) as client:  # fmt: skip
            async with client.workflow("move_1") as wf:
                decision = await wf.route("strategy", ["STRAT-01", "STRAT-02"])
                wf.track(
                    agent_id="STRAT-01",
                    recommendation_type="strategy",
                    recommendation_content={},
                    confidence_score=0.5,
                )
            trust = await client.trust("STRAT-01")
            assert await client.aflush(timeout=10)
            return decision, service.events, trust.overall_trust_score

    decision, events, score = asyncio.run(main())
    assert decision.decision_id == DECISION["decision_id"]
    assert (events[0]["decision_id"], events[0]["workflow_id"]) == (DECISION["decision_id"], "move_1")
    assert score == 0.7


def test_missing_configuration_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from swarm_learning_client import SwarmLearningClient

    monkeypatch.delenv("SWARM_LEARNING_URL", raising=False)
    monkeypatch.delenv("SWARM_API_KEY", raising=False)
    with pytest.raises(ValueError, match="base_url"):
        SwarmLearningClient(workspace_id="ws")
    with pytest.raises(ValueError, match="api_key"):
        SwarmLearningClient("http://x", workspace_id="ws")


def test_async_decision_calls_read_typed_answers_and_retry(
    service: FakeService, backoff: RecordingBackoff
) -> None:
    rule = {
        "rule_id": "r1",
        "conditions": {},
        "action": "prefer_agents",
        "parameters": {},
        "expected_success": 0.8,
        "support": 3,
    }
    pattern = {
        "pattern_id": "p1",
        "category": "consensus",
        "condition": ["consensus=3+"],
        "description": "d",
        "success_rate": 0.9,
        "frequency_count": 30,
        "confidence_level": 0.8,
        "recommendation_strength": "strong",
    }
    profile = {
        "agent_id": "A",
        "evaluated": 10,
        "approval_rate": 0.7,
        "strengths": [],
        "weaknesses": [],
        "calibration_gap": 0.1,
        "trend": "stable",
        "consensus_builder": False,
    }
    cycle = {"iteration_id": "iter_1", "status": "queued"}
    service.answers = [
        json_answer(429, {}, {"Retry-After": "1"}),
        json_answer(200, {"agent_id": "A", "recommendation_type": "strategy", "decision_boost": 1.1,
                          "accuracy_score": 0.7, "confidence_factor": 0.5, "evaluated": 9}),
        json_answer(200, {"items": [TRUST]}),
        json_answer(200, {"items": [rule]}),
        json_answer(202, cycle),
        json_answer(200, {**cycle, "status": "skipped"}),
        json_answer(200, {"items": [pattern]}),
        json_answer(200, profile),
        json_answer(200, {"overall": {}}),
        json_answer(200, {"agents": 1}),
    ]  # fmt: skip

    async def main() -> list[Any]:
        client = AsyncSwarmLearningClient(
            "http://service.test", "key", workspace_id="ws_test",
            async_transport=httpx.MockTransport(service.handle), backoff=backoff,
        )  # fmt: skip
        try:
            return [
                (await client.decision_boost("A", "strategy")).decision_boost,
                [t.agent_id for t in await client.trusted_agents(0.3)],
                [r.rule_id for r in await client.suggest_rules({"recommendation_type": "strategy"})],
                (await client.wait_for_cycle(await client.trigger_learning_cycle(), poll_interval=0)).status,
                [p.pattern_id for p in await client.patterns("consensus")],
                (await client.agent_profile("A")).evaluated,
                await client.agent_stats("A"),
                await client.workspace_stats(),
            ]
        finally:
            await client.aclose()

    assert asyncio.run(main()) == [
        1.1,
        ["STRAT-01"],
        ["r1"],
        "skipped",
        ["p1"],
        10,
        {"overall": {}},
        {"agents": 1},
    ]
    assert backoff.asked == [(0, 1.0)]


def test_async_unreachable_service_is_a_transport_error(
    service: FakeService, backoff: RecordingBackoff
) -> None:
    def down(request: httpx.Request, _events: list) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    service.answers = [down] * 2

    async def main() -> None:
        client = AsyncSwarmLearningClient(
            "http://service.test", "key", workspace_id="ws_test",
            async_transport=httpx.MockTransport(service.handle), backoff=backoff, max_retries=1,
        )  # fmt: skip
        try:
            await client.trust("A")
        finally:
            await client.aclose()

    with pytest.raises(TransportError):
        asyncio.run(main())


EVALUATION = {
    "workspace_id": "ws_test",
    "recommendation_type": None,
    "since": "2026-11-01T00:00:00Z",
    "until": "2026-12-01T00:00:00Z",
    "decisions": 40,
    "skipped": {"no_outcome": 2, "no_support": 0, "not_logged": 0},
    "logged": {"value": 0.8, "lower": 0.7, "upper": 0.9},
    "policies": [
        {
            "policy": "agent",
            "agent_id": "A",
            "apply_rules": False,
            "estimates": {"snips": {"value": 0.9, "lower": 0.8, "upper": 1.0}},
            "effective_sample_size": 12.5,
        }
    ],
    "best": {
        "policy": "agent",
        "agent_id": "A",
        "apply_rules": False,
        "estimator": "snips",
        "beats_logged": False,
    },
}


def test_evaluate_routing_is_typed_sync_and_async(make_client, service: FakeService) -> None:
    service.answers = [json_answer(200, EVALUATION), json_answer(503, {}), json_answer(200, EVALUATION)]
    evaluation = make_client().evaluate_routing(
        ["uniform", {"policy": "agent", "agent_id": "A"}], recommendation_type="strategy", lookback_days=7
    )
    assert json.loads(service.requests[0].content) == {
        "workspace_id": "ws_test",
        "policies": [{"policy": "uniform"}, {"policy": "agent", "agent_id": "A"}],
        "recommendation_type": "strategy",
        "lookback_days": 7,
    }
    assert service.requests[0].url.path == "/api/v1/learning/routing/evaluate"
    assert (evaluation.decisions, evaluation.skipped["no_outcome"]) == (40, 2)
    assert evaluation.logged == Estimate(0.8, 0.7, 0.9)
    (policy,) = evaluation.policies
    assert (policy.agent_id, policy.estimates["snips"].upper, policy.effective_sample_size) == (
        "A",
        1.0,
        12.5,
    )

    async def main() -> RoutingEvaluation:
        client = AsyncSwarmLearningClient(
            "http://service.test", "key", workspace_id="ws_test",
            async_transport=httpx.MockTransport(service.handle), backoff=RecordingBackoff(),
        )  # fmt: skip
        try:
            return await client.evaluate_routing(estimators=["ips"])  # a read: retried after the 503
        finally:
            await client.aclose()

    assert asyncio.run(main()).best == EVALUATION["best"]
    assert json.loads(service.requests[-1].content) == {"workspace_id": "ws_test", "estimators": ["ips"]}
