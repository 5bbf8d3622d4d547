"""The OTLP receiver through the local API Gateway and the handler: OTLP JSON (the events/ sample),
gzip and its bound, OTLP/HTTP's answers, the mapping of the conventions in the field, and what is
refused (and that a refusal stores nothing)."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import timedelta
from typing import Any

import boto3
import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from swarm_learning.clock import utcnow
from tests.helpers.api import EVENTS_DIR, WORKSPACE, Api, issue_key

PREFIX = "/api/v1/learning"
TRACES = f"{PREFIX}/otlp/v1/traces"
LOGS = f"{PREFIX}/otlp/v1/logs"
SAMPLE_TRACE = "5b8efff798038103d269b633813fc60c"


def sample(name: str, workspace: str = WORKSPACE) -> dict[str, Any]:
    """The OTLP JSON body of an events/ sample, moved to now and to ``workspace``."""
    event = json.loads((EVENTS_DIR / f"{name}.json").read_text())
    body = json.loads(event["body"].replace("ws_123", workspace))
    shift = int((utcnow() - timedelta(minutes=30)).timestamp() * 1e9) - _first_time(body)
    _shift(body, shift)
    return body


def _first_time(node: Any) -> int:
    times: list[int] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            times += [int(v) for k, v in item.items() if k.endswith("UnixNano")]
            stack += list(item.values())
        elif isinstance(item, list):
            stack += item
    return min(times)


def _shift(node: Any, by: int) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("UnixNano"):
                node[key] = str(int(value) + by)
            else:
                _shift(value, by)
    elif isinstance(node, list):
        for item in node:
            _shift(item, by)


def post(
    api: Api,
    path: str,
    body: bytes | str,
    *,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    response = api.functions.gateway.request(
        "POST",
        path,
        headers={
            "Content-Type": content_type,
            "Authorization": f"Bearer {api.api_key}",
            "X-Workspace-Id": WORKSPACE,
            **(headers or {}),
        },
        body=body.encode() if isinstance(body, str) else body,
    )
    payload = response["body"] or ""
    data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode()
    headers_out = {k: v[0] for k, v in (response.get("multiValueHeaders") or {}).items()}
    headers_out.update(response.get("headers") or {})
    return response["statusCode"], headers_out, data


def recommendations(api: Api, agent_id: str, workspace: str = WORKSPACE) -> list[dict[str, Any]]:
    status, page = api.call(
        "GET", f"{PREFIX}/recommendations/agent/{agent_id}", query={"workspace_id": workspace, "limit": 100}
    )
    assert status == 200, page
    found = []
    for item in page["items"]:  # each in full, with its outcome
        status, full = api.call(
            "GET", f"{PREFIX}/recommendations/{item['recommendation_id']}", query={"workspace_id": workspace}
        )
        assert status == 200, full
        found.append(full)
    return found


def stored_items() -> int:
    return len(boto3.client("dynamodb").scan(TableName="RecommendationsTable")["Items"])


def test_otlp_json_from_three_conventions(api: Api) -> None:
    export = json.dumps(sample("otlp_export_traces"))
    status, _, body = post(api, TRACES, export)
    assert (status, json.loads(body)) == (200, {})

    [researcher] = recommendations(api, "Senior-Researcher")  # OpenInference AGENT span
    assert researcher["agent_name"] == "Senior Researcher"
    assert researcher["recommendation_type"] == "research"  # the resource's swarm.recommendation_type
    assert researcher["confidence_score"] is None
    assert (researcher["input_tokens"], researcher["output_tokens"]) == (321, 45)  # llm.token_count.*
    assert researcher["latency_ms"] == 2500
    assert researcher["recommendation_content"] == {"output": "Three sources agree."}
    assert researcher["correlation_id"] == researcher["workflow_id"] == SAMPLE_TRACE

    [triage] = recommendations(api, "Triage")  # openai-agents-opentelemetry: "agent: Triage"
    assert triage["execution_status"] == "failed"
    assert triage["recommendation_type"] == "research"

    [billing] = recommendations(api, "Billing")  # semconv invoke_agent, evaluated by a span event
    assert billing["workflow_id"] == "conv-42"
    assert billing["confidence_score"] == 0.8
    assert billing["status"] == "approved"  # score.label "pass"
    assert billing["outcome"]["overall_quality_score"] == 80  # 4.0 on swarm.evaluation.score.max 5
    assert billing["outcome"]["quality_scores"] == {"relevance": 80}
    assert billing["outcome"]["evaluator_feedback"] == "On topic"

    # Re-exported: the same three recommendations, nothing written twice.
    before = stored_items()
    status, _, body = post(api, TRACES, export)
    assert (status, json.loads(body), stored_items()) == (200, {}, before)


def test_an_evaluation_before_its_span_waits_for_it(api: Api) -> None:
    status, _, body = post(api, LOGS, json.dumps(sample("otlp_export_logs")))
    assert (status, json.loads(body)) == (200, {})
    assert recommendations(api, "Senior-Researcher") == []
    post(api, TRACES, json.dumps(sample("otlp_export_traces")))
    [researcher] = recommendations(api, "Senior-Researcher")
    assert researcher["status"] == "approved"
    assert researcher["outcome"]["overall_quality_score"] == 85


def test_a_second_evaluation_is_rejected_in_partial_success(api: Api) -> None:
    post(api, TRACES, json.dumps(sample("otlp_export_traces")))
    logs = sample("otlp_export_logs")
    post(api, LOGS, json.dumps(logs))
    record = logs["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    record["attributes"][1]["value"] = {"doubleValue": 0.1}
    record["timeUnixNano"] = str(int(record["timeUnixNano"]) + 1_000_000_000)
    status, _, body = post(api, LOGS, json.dumps(logs))
    answer = json.loads(body)
    assert status == 200
    assert answer["partialSuccess"]["rejectedLogRecords"] == "1"
    assert "already been evaluated" in answer["partialSuccess"]["errorMessage"]
    [researcher] = recommendations(api, "Senior-Researcher")
    assert researcher["outcome"]["overall_quality_score"] == 85  # the first evaluation stands


def test_a_malformed_span_is_rejected_alone(api: Api) -> None:
    body = sample("otlp_export_traces")
    billing = body["resourceSpans"][0]["scopeSpans"][1]["spans"][1]
    billing["attributes"].append({"key": "swarm.confidence", "value": {"stringValue": "very"}})
    billing["attributes"] = [
        a for a in billing["attributes"] if a["key"] != "swarm.confidence" or "stringValue" in a["value"]
    ]
    status, _, answer = post(api, TRACES, json.dumps(body))
    partial = json.loads(answer)["partialSuccess"]
    assert status == 200
    assert partial["rejectedSpans"] == "1"
    assert "swarm.confidence" in partial["errorMessage"]
    assert recommendations(api, "Billing") == []
    assert len(recommendations(api, "Triage")) == 1


def test_protobuf_with_gzip_answers_in_protobuf(api: Api) -> None:
    request = trace_service_pb2.ExportTraceServiceRequest()
    from google.protobuf import json_format

    document = sample("otlp_export_traces")
    for resource in document["resourceSpans"]:
        for scope in resource["scopeSpans"]:
            for span in scope["spans"]:
                for field in ("traceId", "spanId", "parentSpanId"):
                    if field in span:
                        span[field] = base64.b64encode(bytes.fromhex(span[field])).decode()
                for _event in span.get("events", []):
                    pass
    json_format.ParseDict(document, request)
    status, headers, body = post(
        api,
        TRACES,
        gzip.compress(request.SerializeToString()),
        content_type="application/x-protobuf",
        headers={"Content-Encoding": "gzip"},
    )
    assert status == 200
    assert headers["Content-Type"] == "application/x-protobuf"
    answer = trace_service_pb2.ExportTraceServiceResponse.FromString(body)
    assert not answer.HasField("partial_success")
    assert len(recommendations(api, "Billing")) == 1


def test_undecodable_bodies_are_400_and_a_gzip_bomb_413(api: Api) -> None:
    status, _headers, body = post(
        api, TRACES, b"\x0a\xff\xff\xff\xff\x0f", content_type="application/x-protobuf"
    )
    assert status == 400
    assert "does not decode" in status_pb2.Status.FromString(body).message
    status, _, body = post(api, TRACES, "{not json")
    assert (status, json.loads(body)["code"]) == (400, 3)
    status, _, _ = post(api, TRACES, b"\x1f\x8b\x08\x00garbage", headers={"Content-Encoding": "gzip"})
    assert status == 400
    bomb = gzip.compress(b"\x00" * (64 * 1024 * 1024))  # 64 MiB of zeros in ~64 KiB
    assert len(bomb) < 100_000
    status, _, body = post(
        api, TRACES, bomb, content_type="application/x-protobuf", headers={"Content-Encoding": "gzip"}
    )
    assert status == 413
    assert "inflates to more than" in status_pb2.Status.FromString(body).message
    status, _, _ = post(api, TRACES, b"x", content_type="text/plain")
    assert status == 415
    assert stored_items() == 0


def test_keys_and_workspaces(api: Api) -> None:
    body = json.dumps(sample("otlp_export_traces"))
    # No key, a wrong key: the gateway's 401.
    response = api.functions.gateway.request(
        "POST", TRACES, headers={"Content-Type": "application/json"}, body=body.encode()
    )
    assert response["statusCode"] == 401
    status, _, _ = post(api, TRACES, body, headers={"Authorization": "Bearer swl_wrong_key"})
    assert status == 401
    # A key for another workspace: 403 whether the workspace is named by the header or the resource.
    other = api.as_key(issue_key(("ws_elsewhere",)))
    status, _, answer = post(other, TRACES, body)
    assert status == 403
    assert json.loads(answer)["error"] == "workspace_forbidden"
    response = other.functions.gateway.request(
        "POST",
        TRACES,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {other.api_key}"},
        body=body.encode(),
    )
    assert response["statusCode"] == 403  # swarm.workspace_id = ws_test on the resource
    assert json.loads(response["body"])["code"] == 7
    assert stored_items() == 0


def _second_evaluation(logs: dict[str, Any], name: str) -> dict[str, Any]:
    changed = json.loads(json.dumps(logs))
    record = changed["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    record["attributes"][0]["value"] = {"stringValue": name}
    return changed


def test_one_evaluation_waits_per_span(api: Api) -> None:
    logs = sample("otlp_export_logs")
    assert post(api, LOGS, json.dumps(logs))[0] == 200
    assert json.loads(post(api, LOGS, json.dumps(logs))[2]) == {}  # the same one again: a retry
    status, _, body = post(api, LOGS, json.dumps(_second_evaluation(logs, "Fluency")))
    partial = json.loads(body)["partialSuccess"]
    assert (status, partial["rejectedLogRecords"]) == (200, "1")
    assert "already waiting" in partial["errorMessage"]


def test_an_early_evaluation_past_its_bound_is_dropped(api: Api, fixed_clock: Any) -> None:
    assert post(api, LOGS, json.dumps(sample("otlp_export_logs")))[0] == 200
    fixed_clock.advance(timedelta(seconds=3601))  # OTLP_EARLY_EVALUATION_SECONDS
    assert post(api, TRACES, json.dumps(sample("otlp_export_traces")))[0] == 200
    [researcher] = recommendations(api, "Senior-Researcher")
    assert researcher["status"] == "pending"
    # A new evaluation of the run is applied at once.
    assert json.loads(post(api, LOGS, json.dumps(sample("otlp_export_logs")))[2]) == {}
    assert recommendations(api, "Senior-Researcher")[0]["status"] == "approved"


def test_throttling_answers_503_with_retry_after_and_a_retry_stores_once(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    from swarm_learning.dal.store import get_store

    store = get_store()
    original = store.link_spans

    def throttled(*args: Any, **kwargs: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
            "BatchWriteItem",
        )

    export = json.dumps(sample("otlp_export_traces"))
    monkeypatch.setattr(store, "link_spans", throttled)
    status, headers, body = post(api, TRACES, export)
    assert (status, headers["Retry-After"], json.loads(body)["code"]) == (503, "2", 14)
    monkeypatch.setattr(store, "link_spans", original)
    # The exporter sends the same export again: the tracks already stored replay, the links are written.
    status, _, body = post(api, TRACES, export)
    assert (status, json.loads(body)) == (200, {})
    assert len(recommendations(api, "Billing")) == 1
    assert recommendations(api, "Billing")[0]["status"] == "approved"


def test_odd_attribute_values_are_rejected_alone_never_a_5xx(api: Api) -> None:
    body = sample("otlp_export_traces")
    billing = body["resourceSpans"][0]["scopeSpans"][1]["spans"][1]
    odd_values = [
        {"boolValue": True},
        {"doubleValue": 1e308},
        {"arrayValue": {"values": [{"stringValue": "x"}, {"intValue": "3"}]}},
        {"kvlistValue": {"values": [{"key": "k", "value": {"bytesValue": "AAE="}}]}},
        {"stringValue": "\u202e" * 200},
        {},
    ]
    spans = []
    for number, value in enumerate(odd_values):
        span = json.loads(json.dumps(billing))
        span["spanId"] = f"{number + 1:016x}"
        for attribute in span["attributes"]:
            if attribute["key"] in ("swarm.confidence", "gen_ai.agent.name", "gen_ai.conversation.id"):
                attribute["value"] = value
        span["attributes"].append({"key": "swarm.recommendation_type", "value": value})
        span["attributes"].append({"key": "gen_ai.output.messages", "value": value})
        spans.append(span)
    body["resourceSpans"][0]["scopeSpans"][1]["spans"] = spans
    status, _, answer = post(api, TRACES, json.dumps(body))
    assert status == 200, answer
    partial = json.loads(answer).get("partialSuccess", {})
    assert 0 < int(partial["rejectedSpans"]) <= len(odd_values)


def test_the_workspaces_default_type_names_spans_that_give_none(api: Api) -> None:
    status, _ = api.call(
        "PUT",
        f"{PREFIX}/workspace-settings",
        body={"workspace_id": WORKSPACE, "default_recommendation_type": "triage"},
    )
    assert status == 200
    body = sample("otlp_export_traces")
    for resource in body["resourceSpans"]:  # no swarm.recommendation_type on the resource
        resource["resource"]["attributes"] = [
            a for a in resource["resource"]["attributes"] if a["key"] != "swarm.recommendation_type"
        ]
    assert post(api, TRACES, json.dumps(body))[0] == 200
    assert recommendations(api, "Billing")[0]["recommendation_type"] == "triage"
