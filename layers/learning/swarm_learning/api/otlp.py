"""OTLP/HTTP at the edge: bodies in, answers out (the OTLP specification's "OTLP/HTTP").

A body is ``application/x-protobuf`` or ``application/json`` (OTLP JSON: hex trace and span ids,
lowerCamelCase keys), optionally ``Content-Encoding: gzip``. It is decoded with the official
``opentelemetry-proto`` classes (JSON through protobuf's ``json_format``) into the plain records of
``swarm_learning.domain.otel``. A gzip body is inflated as a bounded stream: past the limit the
request is refused (413) without the rest ever being inflated. Answers are in the request's own
encoding: the ``Export...ServiceResponse`` with ``partial_success``, or a ``google.rpc.Status`` for
an error.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from google.rpc import status_pb2
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from swarm_learning.domain import otel
from swarm_learning.models.common import json_depth

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
GZIP_MAGIC = b"\x1f\x8b"
MAX_JSON_DEPTH = 64  # attribute values nest (kvlist, array); deeper is refused before parsing
MAX_VALUE_DEPTH = 16  # nesting kept when an attribute value becomes Python
_ID_FIELDS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")


class OtlpRequestError(Exception):
    """A request refused as a whole, with its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Body:
    media_type: str  # PROTOBUF or JSON: the answer is sent the same way
    data: bytes


def _headers(event: Mapping[str, Any]) -> dict[str, str]:
    return {k.lower(): v for k, v in (event.get("headers") or {}).items() if isinstance(v, str)}


def media_type_of(event: Mapping[str, Any]) -> str:
    """PROTOBUF or JSON, as the request says (415 otherwise): the answer is sent the same way."""
    media_type = _headers(event).get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type in ("application/protobuf", PROTOBUF):
        return PROTOBUF
    if media_type != JSON:
        raise OtlpRequestError(415, f"send {PROTOBUF} or {JSON} (got {media_type or 'no Content-Type'})")
    return JSON


def read_body(event: Mapping[str, Any], *, max_bytes: int) -> Body:
    """The request's body, decoded from base64 and inflated (at most ``max_bytes``)."""
    headers = _headers(event)
    media_type = media_type_of(event)
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise OtlpRequestError(400, "the body is not valid base64") from None
    else:
        data = raw.encode("utf-8", errors="surrogateescape") if isinstance(raw, str) else bytes(raw)
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip", ""):
        raise OtlpRequestError(415, f"Content-Encoding {encoding} is not supported; send gzip or none")
    # API Gateway may already have inflated a gzip body and passed the header on: look at the bytes.
    if encoding == "gzip" and data.startswith(GZIP_MAGIC):
        data = inflate(data, max_bytes=max_bytes)
    elif len(data) > max_bytes:
        raise OtlpRequestError(413, f"the body is over {max_bytes} bytes")
    return Body(media_type, data)


def inflate(data: bytes, *, max_bytes: int) -> bytes:
    """Gunzip ``data`` (every member) as a stream that never produces more than ``max_bytes``."""
    out = bytearray()
    remaining = data
    while remaining:
        stream = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        pending = remaining
        try:
            while pending and not stream.eof:
                out += stream.decompress(pending, max_bytes + 1 - len(out))
                if len(out) > max_bytes:
                    raise OtlpRequestError(413, f"the body inflates to more than {max_bytes} bytes")
                pending = stream.unconsumed_tail
        except zlib.error as error:
            raise OtlpRequestError(400, f"the gzip body does not decode: {error}") from None
        if not stream.eof:
            raise OtlpRequestError(400, "the gzip body is truncated")
        remaining = stream.unused_data
    return bytes(out)


def parse(body: Body, message: Message) -> Message:
    """``body`` into ``message`` (an Export...ServiceRequest); 400 when it does not decode."""
    if body.media_type == PROTOBUF:
        try:
            message.ParseFromString(body.data)
        except (DecodeError, RecursionError, ValueError) as error:
            raise OtlpRequestError(400, f"the protobuf body does not decode: {error}") from None
        return message
    try:
        document = json.loads(body.data)
    except (ValueError, RecursionError) as error:
        raise OtlpRequestError(400, f"the JSON body does not decode: {error}") from None
    if not isinstance(document, dict):
        raise OtlpRequestError(400, "the JSON body must be an object (an Export...ServiceRequest)")
    if json_depth(document) > MAX_JSON_DEPTH:
        raise OtlpRequestError(400, f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        json_format.ParseDict(_ids_as_base64(document), message, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as error:
        raise OtlpRequestError(400, f"the JSON body is not OTLP JSON: {error}") from None
    return message


def _ids_as_base64(document: Any) -> Any:
    """OTLP JSON writes trace and span ids in hex where protobuf's JSON mapping expects base64."""
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _ID_FIELDS and isinstance(value, str) and value:
                    try:
                        node[key] = base64.b64encode(bytes.fromhex(value)).decode()
                    except ValueError:
                        raise OtlpRequestError(400, f"{key} {value[:40]!r} is not hex") from None
                else:
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return document


# ---- protobuf -> plain records ------------------------------------------------------------------
def spans_of(request: trace_service_pb2.ExportTraceServiceRequest) -> Iterator[otel.Span]:
    for resource_spans in request.resource_spans:
        resource = attributes_of(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield otel.Span(
                    trace_id=span.trace_id.hex(),
                    span_id=span.span_id.hex(),
                    parent_span_id=span.parent_span_id.hex() or None,
                    name=span.name,
                    start_unix_nano=span.start_time_unix_nano,
                    end_unix_nano=span.end_time_unix_nano,
                    error=span.status.code == trace_pb2.Status.STATUS_CODE_ERROR,
                    attributes=attributes_of(span.attributes),
                    resource=resource,
                    events=tuple(
                        otel.SpanEvent(event.name, event.time_unix_nano, attributes_of(event.attributes))
                        for event in span.events
                    ),
                )


def log_records_of(request: logs_service_pb2.ExportLogsServiceRequest) -> Iterator[otel.LogRecord]:
    for resource_logs in request.resource_logs:
        resource = attributes_of(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                yield otel.LogRecord(
                    trace_id=record.trace_id.hex() or None,
                    span_id=record.span_id.hex() or None,
                    time_unix_nano=record.time_unix_nano or record.observed_time_unix_nano,
                    event_name=record.event_name,
                    attributes=attributes_of(record.attributes),
                    resource=resource,
                )


def attributes_of(pairs: Any) -> dict[str, Any]:
    return {pair.key: value_of(pair.value) for pair in pairs}


def value_of(value: common_pb2.AnyValue, depth: int = 0) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [value_of(v, depth + 1) for v in value.array_value.values] if depth < MAX_VALUE_DEPTH else None
    if kind == "kvlist_value":
        if depth >= MAX_VALUE_DEPTH:
            return None
        return {pair.key: value_of(pair.value, depth + 1) for pair in value.kvlist_value.values}
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind)


# ---- answers ------------------------------------------------------------------------------------
def encode(message: Message, media_type: str) -> bytes:
    if media_type == PROTOBUF:
        return message.SerializeToString()
    return json_format.MessageToJson(message, indent=None).encode()


def trace_response(rejected: int, message: str) -> trace_service_pb2.ExportTraceServiceResponse:
    response = trace_service_pb2.ExportTraceServiceResponse()
    if rejected or message:
        response.partial_success.rejected_spans = rejected
        response.partial_success.error_message = message
    return response


def logs_response(rejected: int, message: str) -> logs_service_pb2.ExportLogsServiceResponse:
    response = logs_service_pb2.ExportLogsServiceResponse()
    if rejected or message:
        response.partial_success.rejected_log_records = rejected
        response.partial_success.error_message = message
    return response


def status(code: int, message: str) -> status_pb2.Status:
    """The error body: google.rpc.Status, its code the gRPC code closest to the HTTP status."""
    grpc_codes = {400: 3, 401: 16, 403: 7, 413: 8, 415: 3, 429: 8, 503: 14}
    return status_pb2.Status(code=grpc_codes.get(code, 2), message=message)
