"""OTLP receiver benchmark: the same recommendations and evaluations through /otlp/v1/traces and
/otlp/v1/logs (protobuf, as the SDK's exporters send them) and through /events/batch (JSON).

    python -m bench.otlp [--runs 2000] [--per-request 100]      (from the repository root)

Both paths run in one process on the embedded AWS of ``localdev.runtime`` (moto's DynamoDB with the
template's tables), through the local API Gateway, the authorizer (its decision cached) and the
handlers, without sockets. Each agent run is an ``invoke_agent`` span with one ``chat`` child
carrying token usage; its batch twin is the track event the mapping makes of it (same fields,
same deterministic id) in another workspace, and likewise for the evaluations. Prints the machine
line, the command and a markdown table: events per second, milliseconds per request and DynamoDB
requests per event for each path, and the OTLP path's ratio to the batch path in this run.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from bench.report import machine_line, markdown_table
from localdev import runtime

PREFIX = "/api/v1/learning"
AGENTS = ("planner", "researcher", "writer", "critic")
OTLP_WORKSPACE, BATCH_WORKSPACE = "ws_bench_otlp", "ws_bench_batch"


def _value(value: Any) -> common_pb2.AnyValue:
    if isinstance(value, str):
        return common_pb2.AnyValue(string_value=value)
    if isinstance(value, float):
        return common_pb2.AnyValue(double_value=value)
    return common_pb2.AnyValue(int_value=value)


def _attributes(values: dict[str, Any]) -> list[common_pb2.KeyValue]:
    return [common_pb2.KeyValue(key=k, value=_value(v)) for k, v in values.items()]


def _ids(run: int) -> tuple[bytes, bytes, bytes]:
    trace_id = (run // len(AGENTS) + 1).to_bytes(16, "big")
    return trace_id, (2 * run + 1).to_bytes(8, "big"), (2 * run + 2).to_bytes(8, "big")


def trace_requests(runs: int, per_request: int, start: datetime) -> list[bytes]:
    """ExportTraceServiceRequests of ``per_request`` agent runs (each with a chat child)."""
    bodies = []
    for first in range(0, runs, per_request):
        spans = []
        for run in range(first, min(first + per_request, runs)):
            trace_id, run_id, chat_id = _ids(run)
            begin = int((start + timedelta(milliseconds=run)).timestamp() * 1e9)
            agent = AGENTS[run % len(AGENTS)]
            spans.append(
                trace_pb2.Span(
                    trace_id=trace_id,
                    span_id=run_id,
                    name=f"invoke_agent {agent}",
                    start_time_unix_nano=begin,
                    end_time_unix_nano=begin + 900_000_000,
                    attributes=_attributes(
                        {
                            "gen_ai.operation.name": "invoke_agent",
                            "gen_ai.agent.name": agent,
                            "swarm.recommendation_type": "analysis",
                            "swarm.confidence": 0.7,
                            "gen_ai.output.messages": json.dumps(
                                [
                                    {
                                        "role": "assistant",
                                        "parts": [{"type": "text", "content": f"answer {run % 7}"}],
                                    }
                                ]
                            ),
                        }
                    ),
                    status=trace_pb2.Status(
                        code=trace_pb2.Status.STATUS_CODE_ERROR
                        if run % 10 == 0
                        else trace_pb2.Status.STATUS_CODE_OK
                    ),
                )
            )
            spans.append(
                trace_pb2.Span(
                    trace_id=trace_id,
                    span_id=chat_id,
                    parent_span_id=run_id,
                    name="chat model",
                    start_time_unix_nano=begin + 100_000_000,
                    end_time_unix_nano=begin + 800_000_000,
                    attributes=_attributes(
                        {
                            "gen_ai.operation.name": "chat",
                            "gen_ai.usage.input_tokens": 120,
                            "gen_ai.usage.output_tokens": 30,
                        }
                    ),
                )
            )
        request = trace_service_pb2.ExportTraceServiceRequest(
            resource_spans=[trace_pb2.ResourceSpans(scope_spans=[trace_pb2.ScopeSpans(spans=spans)])]
        )
        bodies.append(request.SerializeToString())
    return bodies


def log_requests(runs: int, per_request: int, start: datetime) -> list[bytes]:
    bodies = []
    for first in range(0, runs, per_request):
        records = []
        for run in range(first, min(first + per_request, runs)):
            trace_id, run_id, _ = _ids(run)
            records.append(
                logs_pb2.LogRecord(
                    time_unix_nano=int((start + timedelta(minutes=5, milliseconds=run)).timestamp() * 1e9),
                    event_name="gen_ai.evaluation.result",
                    trace_id=trace_id,
                    span_id=run_id,
                    attributes=_attributes(
                        {
                            "gen_ai.evaluation.name": "Correctness",
                            "gen_ai.evaluation.score.value": 0.2 + (run % 8) / 10,
                        }
                    ),
                )
            )
        request = logs_service_pb2.ExportLogsServiceRequest(
            resource_logs=[logs_pb2.ResourceLogs(scope_logs=[logs_pb2.ScopeLogs(log_records=records)])]
        )
        bodies.append(request.SerializeToString())
    return bodies


def batch_twins(trace_bodies: list[bytes], log_bodies: list[bytes]) -> tuple[list[str], list[str]]:
    """The /events/batch bodies of the same recommendations and evaluations: the events the
    mapping makes of the spans and records (swarm_learning.domain.otel), in the batch workspace."""
    from swarm_learning.api import otlp
    from swarm_learning.domain import otel

    tracks, evaluations = [], []
    for body in trace_bodies:
        request = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
        spans = list(otlp.spans_of(request))
        events = []
        for span in spans:
            if otel.is_agent_run(span):
                children = [otel.span_tokens(s) for s in spans if s.parent_span_id == span.span_id]
                fields = otel.track_fields(
                    span,
                    workspace_id=BATCH_WORKSPACE,
                    default_type="agent_run",
                    tokens=otel.run_tokens(span, [c for c in children if c is not None]),
                )
                events.append({k: v for k, v in fields.items() if k != "workspace_id"})
        tracks.append(json.dumps({"workspace_id": BATCH_WORKSPACE, "events": events}))
    # What the batch client would know: the recommendation id each run became.
    run_ids = {
        span.key: otel.recommendation_id(span)
        for body in trace_bodies
        for span in otlp.spans_of(trace_service_pb2.ExportTraceServiceRequest.FromString(body))
        if otel.is_agent_run(span)
    }
    for body in log_bodies:
        request = logs_service_pb2.ExportLogsServiceRequest.FromString(body)
        events = []
        for record in otlp.log_records_of(request):
            assert record.trace_id
            assert record.span_id
            evaluation = otel.Evaluation(
                record.trace_id, record.span_id, record.time_unix_nano, record.attributes
            )
            fields = otel.evaluation_fields(
                evaluation, workspace_id=BATCH_WORKSPACE, recommendation_id=run_ids[evaluation.key]
            )
            events.append({k: v for k, v in fields.items() if k != "workspace_id"})
        evaluations.append(json.dumps({"workspace_id": BATCH_WORKSPACE, "events": events}))
    return tracks, evaluations


def measure_pair(
    paths: dict[str, tuple[Callable[[Any], dict[str, Any]], list[Any]]], calls: Counter[str]
) -> dict[str, tuple[float, int]]:
    """Seconds and DynamoDB requests of each path, their requests interleaved one for one so a
    drift of the shared machine weighs on both alike."""
    spent = dict.fromkeys(paths, 0.0)
    requests = dict.fromkeys(paths, 0)
    for position in range(max(len(bodies) for _, bodies in paths.values())):
        for name, (send, bodies) in paths.items():
            if position >= len(bodies):
                continue
            before = sum(calls.values())
            started = time.perf_counter()
            answer = send(bodies[position])
            spent[name] += time.perf_counter() - started
            requests[name] += sum(calls.values()) - before
            assert answer["statusCode"] in (200, 207), answer
    return {name: (spent[name], requests[name]) for name in paths}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=2000, help="agent runs (recommendations), each evaluated")
    parser.add_argument(
        "--per-request", type=int, default=100, help="runs per export (and per batch, at most 100)"
    )
    args = parser.parse_args(argv)
    per_request = min(args.per_request, 100)

    # The handlers' INFO lines and metrics would bury the table (both paths log alike).
    quiet = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    with runtime.embedded_aws(quiet) as functions:
        from swarm_learning.dal.store import get_store
        from swarm_learning.services.keys.service import KeyRequest, get_key_service

        key = (
            get_key_service()
            .issue(KeyRequest(name="bench", workspaces=[OTLP_WORKSPACE, BATCH_WORKSPACE]))
            .api_key
        )
        calls: Counter[str] = Counter()
        get_store().client.meta.events.register(
            "before-call.dynamodb", lambda model, **_: calls.update([model.name])
        )
        start = datetime.now(UTC) - timedelta(minutes=10)
        traces, logs = (
            trace_requests(args.runs, per_request, start),
            log_requests(args.runs, per_request, start),
        )
        batch_tracks, batch_evaluations = batch_twins(traces, logs)
        headers = {"Authorization": f"Bearer {key}"}

        def otlp_post(path: str) -> Callable[[bytes], dict[str, Any]]:
            return lambda body: functions.gateway.request(
                "POST",
                f"{PREFIX}/otlp/v1/{path}",
                headers={
                    **headers,
                    "Content-Type": "application/x-protobuf",
                    "X-Workspace-Id": OTLP_WORKSPACE,
                },
                body=body,
            )

        def batch_post(body: str) -> dict[str, Any]:
            return functions.gateway.request(
                "POST",
                f"{PREFIX}/events/batch",
                headers={**headers, "Content-Type": "application/json"},
                body=body,
            )

        batch_post(batch_tracks[0])  # warm both paths (imports, authorizer cache) on the first request
        otlp_post("traces")(traces[0])
        results: dict[str, tuple[float, int]] = {}
        results.update(
            measure_pair(
                {
                    "batch tracks": (batch_post, batch_tracks[1:]),
                    "otlp traces": (otlp_post("traces"), traces[1:]),
                },
                calls,
            )
        )
        results.update(
            measure_pair(
                {
                    "batch evaluations": (batch_post, batch_evaluations),
                    "otlp logs": (otlp_post("logs"), logs),
                },
                calls,
            )
        )
        stored = {}
        for workspace in (OTLP_WORKSPACE, BATCH_WORKSPACE):
            answer = functions.gateway.request(
                "GET", f"{PREFIX}/stats", query={"workspace_id": [workspace]}, headers=headers
            )
            counts = json.loads(answer["body"])["overall"]["counts"]
            stored[workspace] = (counts["tracked"], counts["evaluated"])
        assert stored[OTLP_WORKSPACE] == stored[BATCH_WORKSPACE] == (args.runs, args.runs), stored

    events = {
        "batch tracks": args.runs - per_request,
        "otlp traces": args.runs - per_request,
        "batch evaluations": args.runs,
        "otlp logs": args.runs,
    }
    requests = {
        "batch tracks": len(traces) - 1,
        "otlp traces": len(traces) - 1,
        "batch evaluations": len(logs),
        "otlp logs": len(logs),
    }
    rows = []
    for name, (seconds, dynamodb) in results.items():
        twin = {"otlp traces": "batch tracks", "otlp logs": "batch evaluations"}.get(name)
        rate = events[name] / seconds
        ratio = f"{rate / (events[twin] / results[twin][0]):.2f}" if twin else "1.00"
        rows.append(
            (
                name,
                events[name],
                f"{rate:,.0f}",
                f"{seconds / requests[name] * 1000:.0f}",
                f"{dynamodb / events[name]:.2f}",
                ratio,
            )
        )
    print(machine_line(["moto", "boto3", "protobuf", "opentelemetry-proto", "aws-lambda-powertools"]))
    print(f"command: python -m bench.otlp {shlex.join(sys.argv[1:] if argv is None else argv)}".rstrip())
    print()
    print(
        markdown_table(
            ["path", "events", "events/s", "ms/request", "DynamoDB requests/event", "vs /events/batch"], rows
        )
    )


if __name__ == "__main__":
    main()
