"""The OpenTelemetry mapping (swarm_learning.domain.otel) and the OTLP body decoding (api.otlp), pure."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from swarm_learning.api import otlp
from swarm_learning.domain import otel
from swarm_learning.ids import RECOMMENDATION_ID_PATTERN, recommendation_time
from swarm_learning.models.tracking import TrackRecommendationRequest

TRACE = "5b8efff798038103d269b633813fc60c"
START = 1_795_000_000_000_000_000


def span(
    name: str = "invoke_agent planner", span_id: str = "eee19b7ec3c1b174", **attributes: Any
) -> otel.Span:
    return otel.Span(
        trace_id=TRACE,
        span_id=span_id,
        parent_span_id=attributes.pop("parent", None),
        name=name,
        start_unix_nano=START,
        end_unix_nano=START + 1_500_000_000,
        error=attributes.pop("error", False),
        attributes=attributes,
        resource=attributes.pop("resource", {}),
    )


def test_the_three_conventions_of_an_agent_run() -> None:
    assert (
        otel.agent_name(span(**{"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner"}))
        == "planner"
    )
    assert (
        otel.agent_name(span(**{"gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": "flow"}))
        == "flow"
    )
    assert otel.agent_name(span("Crew", **{"openinference.span.kind": "AGENT"})) == "Crew"
    assert (
        otel.agent_name(span("Crew", **{"openinference.span.kind": "AGENT", "agent.name": "Researcher"}))
        == "Researcher"
    )
    assert otel.agent_name(span("agent: Triage", **{"agent.name": "Triage"})) == "Triage"
    assert otel.agent_name(span("agent: Triage")) == "Triage"
    assert otel.agent_name(span("chat gpt", **{"gen_ai.operation.name": "chat"})) is None
    assert otel.agent_name(span("ChatCompletion", **{"openinference.span.kind": "LLM"})) is None


def test_an_agent_run_as_a_track_event_the_batch_model_accepts() -> None:
    run = span(
        error=True,
        resource={"swarm.recommendation_type": "planning"},
        **{
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "Planner Bot",
            "gen_ai.conversation.id": "conv 7",
            "swarm.confidence": 0.75,
            "gen_ai.output.messages": '[{"role":"assistant","parts":[{"type":"text","content":"go"}]}]',
        },
    )
    fields = otel.track_fields(run, workspace_id="ws", default_type="agent_run", tokens=(10, 2))
    request = TrackRecommendationRequest.model_validate({k: v for k, v in fields.items() if k != "type"})
    assert request.agent_id == "Planner-Bot"  # from the name: a space is not an id character
    assert request.agent_name == "Planner Bot"
    assert request.workflow_id == "conv-7"
    assert request.correlation_id == TRACE
    assert request.recommendation_type == "planning"
    assert request.confidence_score == 0.75
    assert request.latency_ms == 1500
    assert request.execution_status.value == "failed"
    assert (request.input_tokens, request.output_tokens) == (10, 2)
    assert request.recommendation_content["output_messages"][0]["parts"][0]["content"] == "go"


def test_an_agent_id_without_a_name_sends_no_name() -> None:
    fields = otel.track_fields(
        span(**{"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.id": "asst_42"}),
        workspace_id="ws",
        default_type="agent_run",
        tokens=None,
    )
    assert fields["agent_id"] == "asst_42"
    assert "agent_name" not in fields
    assert "confidence_score" not in fields
    assert fields["recommendation_type"] == "agent_run"


def test_ids_are_derived_from_the_span_and_dated_by_its_start() -> None:
    run = span(**{"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "a"})
    rid = otel.recommendation_id(run)
    assert rid == otel.recommendation_id(run)
    assert rid != otel.recommendation_id(span(span_id="eee19b7ec3c1b175"))
    import re

    assert re.fullmatch(RECOMMENDATION_ID_PATTERN, rid)
    assert recommendation_time(rid) == otel.span_time(START - START % 1_000_000)


def test_tokens_a_run_reports_itself_win_over_its_children() -> None:
    aggregated = span(
        **{"gen_ai.aggregated_usage.input_tokens": 104, "gen_ai.aggregated_usage.output_tokens": 15}
    )
    assert otel.run_tokens(aggregated, [(51, 5), (53, 10)]) == (104, 15)
    plain = span(**{"gen_ai.operation.name": "invoke_agent"})
    assert otel.run_tokens(plain, [(51, 5), (53, 10)]) == (104, 15)
    assert otel.run_tokens(plain, []) is None
    assert otel.span_tokens(span(**{"llm.token_count.prompt": 7})) == (7, 0)
    assert otel.span_tokens(
        span(**{"gen_ai.usage.prompt_tokens": 3, "gen_ai.usage.completion_tokens": 4})
    ) == (3, 4)
    assert otel.span_tokens(span(**{"gen_ai.usage.input_tokens": -1})) is None


def test_nearest_agent_walks_up_to_the_run() -> None:
    run = span(span_id="a" * 16, **{"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "x"})
    tool = span("execute_tool t", span_id="b" * 16, parent="a" * 16)
    chat = span("chat m", span_id="c" * 16, parent="b" * 16)
    index = {s.key: s for s in (run, tool, chat)}
    assert otel.nearest_agent(chat, index) is run
    assert otel.nearest_agent(span("orphan", span_id="d" * 16, parent="e" * 16), index) is None


@pytest.mark.parametrize(
    ("value", "top", "expected"),
    [(0.9, None, 90.0), (1, None, 100.0), (7, None, 70.0), (42, None, 42.0), (4.0, 5, 80.0), (0, None, 0.0)],
)
def test_score_scaling(value: float, top: float | None, expected: float) -> None:
    assert otel.scaled_score(value, top) == expected


@pytest.mark.parametrize(("value", "top"), [(-0.1, None), (101, None), (6, 5), ("high", None), (1, 0)])
def test_scores_off_every_scale_are_refused(value: Any, top: Any) -> None:
    with pytest.raises(otel.MappingError):
        otel.scaled_score(value, top)


@given(st.floats(min_value=0, max_value=100, allow_nan=False))
def test_every_scaled_score_is_a_quality(value: float) -> None:
    assert 0 <= otel.scaled_score(value) <= 100


def evaluation(**attributes: Any) -> otel.Evaluation:
    return otel.Evaluation(
        TRACE, "eee19b7ec3c1b174", START, {"gen_ai.evaluation.name": "Correctness", **attributes}
    )


def test_labels_decide_the_outcome_and_scores_the_quality() -> None:
    fields = otel.evaluation_fields(
        evaluation(**{"gen_ai.evaluation.score.label": "Not Relevant", "gen_ai.evaluation.score.value": 0.8}),
        workspace_id="ws",
        recommendation_id=None,
    )
    assert (fields["outcome"], fields["overall_quality_score"]) == ("rejected", 80.0)
    assert fields["quality_scores"] == {"correctness": 80.0}
    assert "recommendation_id" not in fields
    only_label = otel.evaluation_fields(
        evaluation(**{"gen_ai.evaluation.score.label": "partial"}),
        workspace_id="ws",
        recommendation_id="rec_x",
    )
    assert (only_label["outcome"], only_label["overall_quality_score"]) == ("partial", 50.0)
    unknown_label = otel.evaluation_fields(
        evaluation(**{"gen_ai.evaluation.score.label": "meh", "gen_ai.evaluation.score.value": 0.5}),
        workspace_id="ws",
        recommendation_id=None,
    )
    assert "outcome" not in unknown_label  # the thresholds decide
    with pytest.raises(otel.MappingError):
        otel.evaluation_fields(
            evaluation(**{"gen_ai.evaluation.score.label": "meh"}), workspace_id="ws", recommendation_id=None
        )
    assert otel.outcome_id(evaluation()) == otel.outcome_id(evaluation(other=1))


def test_content_is_cut_to_the_limits() -> None:
    huge = json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "x" * 100_000}]}])
    content = otel.content(span(**{"gen_ai.output.messages": huge}))
    assert content["truncated"] is True
    assert len(json.dumps(content).encode()) <= 32 * 1024
    deep: Any = "leaf"
    for _ in range(12):
        deep = [deep]
    assert otel.content(span(**{"final_result": json.dumps(deep)}))["truncated"] is True
    assert otel.content(span()) == {}


def test_gzip_is_inflated_as_a_bounded_stream() -> None:
    assert otlp.inflate(gzip.compress(b"abc") + gzip.compress(b"def"), max_bytes=10) == b"abcdef"
    with pytest.raises(otlp.OtlpRequestError) as refused:
        otlp.inflate(gzip.compress(b"\0" * 10_000_000), max_bytes=1024)
    assert refused.value.status == 413
    with pytest.raises(otlp.OtlpRequestError) as truncated:
        otlp.inflate(gzip.compress(b"abc" * 100)[:-8], max_bytes=1024)
    assert truncated.value.status == 400


def test_otlp_json_ids_are_hex_and_bad_hex_is_a_400() -> None:
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

    body = {
        "resourceSpans": [
            {"scopeSpans": [{"spans": [{"traceId": TRACE, "spanId": "eee19b7ec3c1b174", "name": "s"}]}]}
        ]
    }
    parsed = otlp.parse(
        otlp.Body(otlp.JSON, json.dumps(body).encode()), trace_service_pb2.ExportTraceServiceRequest()
    )
    [decoded] = otlp.spans_of(parsed)  # type: ignore[arg-type]
    assert (decoded.trace_id, decoded.span_id) == (TRACE, "eee19b7ec3c1b174")
    body["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"] = "zz"
    with pytest.raises(otlp.OtlpRequestError) as refused:
        otlp.parse(
            otlp.Body(otlp.JSON, json.dumps(body).encode()), trace_service_pb2.ExportTraceServiceRequest()
        )
    assert refused.value.status == 400


def test_unstated_confidence_is_a_band_of_its_own_only_when_present() -> None:
    from swarm_learning.domain.evaluated import EvaluatedRow
    from swarm_learning.domain.feature_registry import CONFIDENCE_BANDS, UNSTATED_CONFIDENCE
    from swarm_learning.domain.features import build

    def row(confidence: float | None, at: float) -> EvaluatedRow:
        return EvaluatedRow(
            agent_id="a",
            recommendation_type="t",
            workflow_id=None,
            confidence_score=confidence,
            action_key="x",
            content_keys=(),
            created_at=at,
            approved=True,
        )

    stated = build([row(0.9, 1), row(0.2, 2)])
    assert {slot.name: slot.labels for slot in stated.slots()}["confidence"] == CONFIDENCE_BANDS
    mixed = build([row(0.9, 1), row(None, 2)])
    assert {slot.name: slot.labels for slot in mixed.slots()}["confidence"] == (
        *CONFIDENCE_BANDS,
        UNSTATED_CONFIDENCE,
    )
    assert mixed.item_mask(f"confidence={UNSTATED_CONFIDENCE}").tolist() == [False, True]
    assert mixed.item_mask("confidence=high").tolist() == [True, False]
