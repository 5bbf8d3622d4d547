"""The OTLP receiver with real clients: the OpenTelemetry SDK's own OTLP/HTTP exporters (protobuf),
configured only by the environment variables the README gives, and a Pydantic AI agent run on its
TestModel, against the local server over sockets (the issue's acceptance scenario)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, Status, StatusCode

from localdev.runtime import LocalFunctions, embedded_aws
from localdev.server import LocalApiServer, serving
from swarm_learning import clock
from swarm_learning.clock import utcnow
from tests.helpers.api import WORKSPACE, issue_key

PREFIX = "/api/v1/learning"
AGENTS = ("planner", "researcher", "writer", "critic")
FAILING = {"critic": 5, "writer": 1}  # agent -> how many of its 10 runs end in ERROR


@pytest.fixture(scope="module")
def functions() -> Iterator[LocalFunctions]:
    with embedded_aws() as loaded:
        yield loaded


@pytest.fixture(scope="module")
def server(functions: LocalFunctions) -> Iterator[LocalApiServer]:
    with serving(functions, port=0, quiet=True) as running:
        yield running


@pytest.fixture(scope="module")
def key(server: LocalApiServer) -> str:
    return issue_key()


@pytest.fixture
def otlp_env(monkeypatch: pytest.MonkeyPatch, server: LocalApiServer, key: str) -> None:
    """The three environment variables of the README, and nothing else."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"{server.url}{PREFIX}/otlp")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", f"Authorization=Bearer {key},X-Workspace-Id={WORKSPACE}")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "swarm-under-test")


def ns(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000_000)


def get(server: LocalApiServer, key: str, path: str, **query: Any) -> Any:
    response = httpx.get(
        f"{server.url}{PREFIX}{path}", params=query, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()


def agent_runs(provider: TracerProvider, start: datetime) -> list[trace.SpanContext]:
    """40 invoke_agent spans over 10 traces from 4 agents, each with a model call as its child."""
    tracer = provider.get_tracer("orchestrator")
    contexts = []
    for number in range(10):
        with tracer.start_as_current_span("workflow", start_time=ns(start)) as root:
            for position, agent in enumerate(AGENTS):
                begin = start + timedelta(seconds=number * 60 + position * 5)
                run = tracer.start_span(
                    f"invoke_agent {agent}",
                    start_time=ns(begin),
                    attributes={
                        "gen_ai.operation.name": "invoke_agent",
                        "gen_ai.agent.name": agent,
                        "gen_ai.agent.id": f"{agent}-v1",
                        "swarm.recommendation_type": "analysis",
                        "swarm.confidence": 0.5 + position / 10,
                        "gen_ai.output.messages": f'[{{"role":"assistant","parts":[{{"type":"text","content":"answer {number}"}}]}}]',
                    },
                )
                chat = tracer.start_span(
                    "chat gpt-test",
                    context=trace.set_span_in_context(run),
                    start_time=ns(begin + timedelta(milliseconds=100)),
                    attributes={
                        "gen_ai.operation.name": "chat",
                        "gen_ai.usage.input_tokens": 100 + position,
                        "gen_ai.usage.output_tokens": 20,
                    },
                )
                chat.end(end_time=ns(begin + timedelta(milliseconds=900)))
                if number < FAILING.get(agent, 0):
                    run.set_status(Status(StatusCode.ERROR, "tool crashed"))
                run.end(end_time=ns(begin + timedelta(milliseconds=1200 + 300 * position)))
                contexts.append(run.get_span_context())
            root.end(end_time=ns(start + timedelta(seconds=number * 60 + 30)))
    return contexts


def recorded_runs(start: datetime) -> list[ReadableSpan]:
    """The scenario's spans as the SDK records them (an exporter sends these)."""
    provider = TracerProvider(resource=Resource.create({"service.name": "swarm"}))
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    agent_runs(provider, start)
    return list(memory.get_finished_spans())


def export_evaluations(contexts: list[trace.SpanContext], at: datetime) -> None:
    provider = LoggerProvider(resource=Resource.create({"service.name": "evaluator"}))
    provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
    logger = provider.get_logger("evaluator")
    for index, span_context in enumerate(contexts):
        score = 0.9 if index % 3 else 0.2
        logger.emit(
            timestamp=ns(at + timedelta(seconds=index)),
            context=trace.set_span_in_context(NonRecordingSpan(span_context)),
            severity_number=SeverityNumber.INFO,
            event_name="gen_ai.evaluation.result",
            attributes={
                "gen_ai.evaluation.name": "Correctness",
                "gen_ai.evaluation.score.value": score,
                "gen_ai.evaluation.explanation": f"checked run {index}",
            },
        )
    assert provider.force_flush(30_000)
    provider.shutdown()


def test_an_unmodified_exporter_feeds_tracking_evaluation_and_trust(
    otlp_env: None, server: LocalApiServer, key: str
) -> None:
    start = utcnow() - timedelta(hours=1)
    spans = recorded_runs(start)
    runs = [s.get_span_context() for s in spans if s.name.startswith("invoke_agent")]
    assert len(runs) == 40
    assert len({c.trace_id for c in runs}) == 10

    # Five evaluations arrive before their spans: kept, and applied when the spans come.
    export_evaluations(runs[:5], at=start + timedelta(minutes=20))
    assert OTLPSpanExporter().export(spans) is SpanExportResult.SUCCESS
    export_evaluations(runs[5:30], at=start + timedelta(minutes=30))

    stats = get(server, key, "/stats", workspace_id=WORKSPACE)["overall"]
    assert stats["counts"]["tracked"] == 40
    assert stats["counts"]["evaluated"] == 30
    assert stats["counts"]["failed_executions"] == sum(FAILING.values())
    assert stats["avg_latency_ms"] is not None
    assert stats["avg_tokens"] == pytest.approx((100 + 101 + 102 + 103) / 4 + 20)

    scores = {
        t["agent_id"]: t
        for t in get(server, key, "/trust-scores", workspace_id=WORKSPACE, min_trust=0)["items"]
    }
    assert set(scores) == {f"{a}-v1" for a in AGENTS}
    assert scores["critic-v1"]["reliability_score"] < scores["planner-v1"]["reliability_score"]
    assert scores["critic-v1"]["evidence"]["failed_executions"] == 5
    assert scores["planner-v1"]["avg_latency_ms"] == pytest.approx(1200)
    assert scores["planner-v1"]["agent_name"] == "planner"
    assert scores["planner-v1"]["avg_tokens"] == pytest.approx(120)

    # The same spans and evaluations again: nothing stored twice.
    assert OTLPSpanExporter().export(spans) is SpanExportResult.SUCCESS
    export_evaluations(runs[5:30], at=start + timedelta(minutes=30))
    again = get(server, key, "/stats", workspace_id=WORKSPACE)["overall"]["counts"]
    assert (again["tracked"], again["evaluated"]) == (40, 30)


def test_a_pydantic_ai_agent_run_arrives_with_latency_and_tokens(
    otlp_env: None, server: LocalApiServer, key: str
) -> None:
    from pydantic_ai import Agent
    from pydantic_ai.models.instrumented import InstrumentationSettings
    from pydantic_ai.models.test import TestModel

    # The SDK stamps spans with the wall clock; the service's clock is set beside it (nothing
    # asserted below depends on the time itself).
    with clock.installed(clock.SteppingClock(datetime.now(UTC) + timedelta(seconds=5))):
        provider = TracerProvider(resource=Resource.create({"service.name": "pydantic-ai-app"}))
        memory = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(memory))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        Agent.instrument_all(InstrumentationSettings(tracer_provider=provider))
        try:
            agent = Agent(TestModel(), name="fact_checker")

            @agent.tool_plain
            def lookup(query: str) -> str:
                return f"sources for {query}"

            result = agent.run_sync("Is the claim supported?")
        finally:
            Agent.instrument_all(False)
        assert provider.force_flush(30_000)
        provider.shutdown()

        spans = memory.get_finished_spans()
        [run] = [s for s in spans if s.attributes.get("gen_ai.operation.name") == "invoke_agent"]
        chats = [s for s in spans if s.attributes.get("gen_ai.operation.name") == "chat"]
        assert chats
        assert "gen_ai.agent.id" not in run.attributes

        page = get(server, key, "/recommendations/agent/fact_checker", workspace_id=WORKSPACE)
        [item] = page["items"]
        tracked = get(server, key, f"/recommendations/{item['recommendation_id']}", workspace_id=WORKSPACE)
    assert tracked["agent_name"] == "fact_checker"
    assert tracked["recommendation_type"] == "agent_run"  # the documented default
    assert tracked["workflow_id"] == run.attributes["gen_ai.conversation.id"]
    assert tracked["latency_ms"] == pytest.approx((run.end_time - run.start_time) / 1e6)
    assert tracked["input_tokens"] == sum(c.attributes["gen_ai.usage.input_tokens"] for c in chats)
    assert tracked["output_tokens"] == sum(c.attributes["gen_ai.usage.output_tokens"] for c in chats)
    assert tracked["recommendation_content"] == {"final_result": json.loads(run.attributes["final_result"])}
    assert result.output == run.attributes["final_result"]
    assert tracked["confidence_score"] is None
