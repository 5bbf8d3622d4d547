"""OTLP function: POST /otlp/v1/traces and /otlp/v1/logs, OpenTelemetry GenAI spans and evaluation
results from an unmodified OTLP/HTTP exporter (docs/otlp.md)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from swarm_learning.api import otlp
from swarm_learning.api.access import WORKSPACE_HEADER, allowed_workspaces
from swarm_learning.api.handler import api_handler
from swarm_learning.api.http import API_PREFIX, ERROR_RESPONSES, register_error_handlers, resolver_options
from swarm_learning.api.observability import logger, metrics
from swarm_learning.config import get_settings
from swarm_learning.domain import otel
from swarm_learning.ids import IDENTIFIER_PATTERN
from swarm_learning.services.tracking.otlp import ExportOutcome, get_receiver, workspace_of

app = APIGatewayRestResolver(**resolver_options(cors=False))  # exporters, not browsers
register_error_handlers(app)

RETRY_AFTER_SECONDS = "2"
# DynamoDB refusing for capacity: the exporter is told to send the whole export again (a re-export
# stores nothing twice), as it is for events the ingestion answered 503.
_THROTTLING = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
    }
)
_RESPONSES = {
    200: {
        "description": (
            "Export...ServiceResponse, in the request's encoding; partial_success counts what was "
            "rejected and says why"
        )
    },
    503: {"description": "Not (all) stored this time; send the export again after Retry-After"},
    **ERROR_RESPONSES,
}


@app.post(
    f"{API_PREFIX}/otlp/v1/traces",
    summary="Receive OpenTelemetry spans (OTLP/HTTP)",
    description=(
        "An ExportTraceServiceRequest as application/x-protobuf or OTLP JSON, optionally gzip. "
        "Agent runs (gen_ai.operation.name = invoke_agent, OpenInference AGENT spans, "
        "`agent: <name>` spans) become tracked recommendations, with their children's token usage; "
        "gen_ai.evaluation.result span events become evaluations. The workspace is the "
        "X-Workspace-Id header, else the resource attribute swarm.workspace_id. Mapping: docs/otlp.md."
    ),
    responses=_RESPONSES,
    tags=["OpenTelemetry"],
)
def export_traces():  # type: ignore[no-untyped-def]
    return _export(trace_service_pb2.ExportTraceServiceRequest(), _traces)


@app.post(
    f"{API_PREFIX}/otlp/v1/logs",
    summary="Receive OpenTelemetry evaluation results (OTLP/HTTP)",
    description=(
        "An ExportLogsServiceRequest as application/x-protobuf or OTLP JSON, optionally gzip. Log "
        "records named gen_ai.evaluation.result (event_name or the event.name attribute) evaluate "
        "the recommendation their span became, or wait for it (docs/otlp.md); other records are "
        "accepted and ignored."
    ),
    responses=_RESPONSES,
    tags=["OpenTelemetry"],
)
def export_logs():  # type: ignore[no-untyped-def]
    return _export(logs_service_pb2.ExportLogsServiceRequest(), _logs)


def _export(request: Message, handle: Callable[[Message, str | None, str], Response]) -> Response:
    event = app.current_event.raw_event
    media_type = otlp.JSON
    try:
        media_type = otlp.media_type_of(event)
        body = otlp.read_body(event, max_bytes=get_settings().otlp_max_decompressed_bytes)
        header = _workspace_header(event)
        return handle(otlp.parse(body, request), header, media_type)
    except otlp.OtlpRequestError as error:
        return _error(error.status, error.message, media_type)
    except ClientError as error:
        if error.response["Error"]["Code"] not in _THROTTLING:
            raise
        logger.warning("OTLP export throttled", extra={"error_code": error.response["Error"]["Code"]})
        return _error(503, "throttled; send the export again", media_type)


def _traces(request: Message, header: str | None, media_type: str) -> Response:
    assert isinstance(request, trace_service_pb2.ExportTraceServiceRequest)
    outcome = ExportOutcome()
    by_workspace: dict[str, list[otel.Span]] = {}
    for span in otlp.spans_of(request):
        workspace = workspace_of(span.resource, header)
        if workspace is None:
            outcome.reject(
                span.key, f"span {span.span_id}: no workspace (X-Workspace-Id or swarm.workspace_id)"
            )
            continue
        by_workspace.setdefault(workspace, []).append(span)
    _authorize(by_workspace)
    receiver = get_receiver()
    for workspace, spans in by_workspace.items():
        receiver.export_spans(workspace, spans, outcome)
    _measure(outcome, "OtlpSpansRejected")
    if outcome.retry:
        return _error(503, "part of the export was not stored this time; send it again", media_type)
    return _ok(otlp.trace_response(len(outcome.rejected), outcome.message), media_type)


def _logs(request: Message, header: str | None, media_type: str) -> Response:
    assert isinstance(request, logs_service_pb2.ExportLogsServiceRequest)
    outcome = ExportOutcome()
    by_workspace: dict[str, list[tuple[int, otel.LogRecord]]] = {}
    for position, record in enumerate(otlp.log_records_of(request)):
        if not otel.is_evaluation(record.event_name, record.attributes):
            continue  # not an evaluation: accepted, not this service's to keep
        workspace = workspace_of(record.resource, header)
        if workspace is None:
            outcome.reject(position, "no workspace (X-Workspace-Id or swarm.workspace_id)")
            continue
        by_workspace.setdefault(workspace, []).append((position, record))
    _authorize(by_workspace)
    receiver = get_receiver()
    for workspace, records in by_workspace.items():
        receiver.export_logs(workspace, records, outcome)
    _measure(outcome, "OtlpLogRecordsRejected")
    if outcome.retry:
        return _error(503, "part of the export was not stored this time; send it again", media_type)
    return _ok(otlp.logs_response(len(outcome.rejected), outcome.message), media_type)


def _workspace_header(event: dict[str, Any]) -> str | None:
    value = next((v for k, v in (event.get("headers") or {}).items() if k.lower() == WORKSPACE_HEADER), None)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _authorize(workspaces: Iterable[str]) -> None:
    """Every workspace the export writes to must be one the key allows: otherwise 403, nothing stored."""
    allowed = allowed_workspaces(app.current_event.raw_event) or frozenset()
    for workspace in workspaces:
        if not re.fullmatch(IDENTIFIER_PATTERN, workspace):
            raise otlp.OtlpRequestError(400, f"workspace {workspace[:70]!r} is not a valid workspace id")
        if workspace not in allowed:
            raise otlp.OtlpRequestError(403, "this API key may not use that workspace")
    named = list(workspaces)
    if len(named) == 1:
        logger.append_keys(workspace_id=named[0])


def _measure(outcome: ExportOutcome, rejected_metric: str) -> None:
    logger.info(
        "OTLP export",
        extra={"tracked": outcome.tracked, "evaluated": outcome.evaluated, "rejected": len(outcome.rejected)},
    )
    metrics.add_metric(name="RecommendationsTracked", unit=MetricUnit.Count, value=outcome.tracked)
    metrics.add_metric(name="OutcomesEvaluated", unit=MetricUnit.Count, value=outcome.evaluated)
    metrics.add_metric(name=rejected_metric, unit=MetricUnit.Count, value=len(outcome.rejected))


def _ok(message: Message, media_type: str) -> Response:
    return Response(status_code=200, content_type=media_type, body=_body(message, media_type))


def _body(message: Message, media_type: str) -> bytes | str:
    """Protobuf as bytes (sent base64-encoded, a binary media type); JSON as text."""
    encoded = otlp.encode(message, media_type)
    return encoded if media_type == otlp.PROTOBUF else encoded.decode()


def _error(status: int, message: str, media_type: str) -> Response:
    logger.info("OTLP export refused", extra={"status": status, "reason": message[:200]})
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if status in (429, 503) else None
    return Response(
        status_code=status,
        content_type=media_type,
        body=_body(otlp.status(status, message), media_type),
        headers=headers,
    )


lambda_handler = api_handler(app)
