"""The API's OpenAPI document, merged from the three functions' resolvers by Powertools."""

from __future__ import annotations

import json
from typing import Any

from localdev import template as tpl
from localdev.runtime import configure_environment

OPENAPI_FILE = tpl.ROOT / "docs" / "openapi.json"


def openapi_document() -> str:
    """The document as committed: stable key order, trailing newline."""
    configure_environment()
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    from swarm_learning import __version__
    from swarm_learning.api.access import OTLP_RESOURCES, PUBLIC_RESOURCES

    merger = APIGatewayRestResolver(enable_validation=True)
    merger.configure_openapi_merge(
        path=str(tpl.ROOT / "functions"),
        pattern="app.py",
        recursive=True,
        title="Swarm learning API",
        version=__version__,
        description=(
            "Track AI agents' recommendations and their outcomes; read the statistics that trust, "
            "routing and meta-learning build on. Every request names its workspace, and its API key "
            "must allow that workspace."
        ),
        security_schemes={
            "ApiKey": HTTPBearer(
                bearerFormat="swl_<key_id>_<secret>",
                description="An API key issued by `python -m admin keys create` (docs/security.md).",
            )
        },
        security=[{"ApiKey": []}],
        on_conflict="error",
    )
    schema = json.loads(merger.get_openapi_merge_json_schema())
    # Powertools drops an empty per-route ``security``; the public routes need it to say "no key".
    for path in PUBLIC_RESOURCES:
        for operation in schema["paths"][path].values():
            operation["security"] = []
    # The OTLP receivers read their body themselves (protobuf or OTLP JSON): say what it is.
    for path in OTLP_RESOURCES:
        _document_otlp(schema["paths"][path]["post"], path.rsplit("/", 1)[-1])
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def _document_otlp(operation: dict[str, Any], signal: str) -> None:
    message = {"traces": "Trace", "logs": "Logs"}[signal]
    proto = f"opentelemetry.proto.collector.{signal[:-1] if signal == 'traces' else signal}.v1"
    binary = {"schema": {"type": "string", "format": "binary"}}
    otlp_json = {"schema": {"type": "object", "description": "OTLP JSON (hex trace and span ids)"}}
    operation["requestBody"] = {
        "required": True,
        "description": f"{proto}.Export{message}ServiceRequest; Content-Encoding: gzip accepted.",
        "content": {"application/x-protobuf": binary, "application/json": otlp_json},
    }
    answer = {"application/x-protobuf": binary, "application/json": {"schema": {"type": "object"}}}
    operation["responses"]["200"]["content"] = answer
    status = {
        "application/x-protobuf": binary,
        "application/json": {"schema": {"type": "object", "description": "google.rpc.Status"}},
    }
    for code in ("400", "413", "415", "503"):
        if code in operation["responses"]:
            operation["responses"][code]["content"] = status


ALERT_EVENTS_FILE = tpl.ROOT / "docs" / "alert-events.schema.json"


def alert_events_schema() -> str:
    """The JSON schema of the alert events on the learning bus (docs/alerts.md): the EventBridge
    envelope, one detail-type per alert kind, and the detail every alert carries."""
    configure_environment()
    from swarm_learning.models.alerts import ALERT_SOURCE, AlertDetail
    from swarm_learning.vocabulary import AlertKind

    detail = AlertDetail.model_json_schema(ref_template="#/$defs/{model}")
    definitions = detail.pop("$defs", {})
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/swarm-learning/alert-events.schema.json",
        "title": "Swarm learning alert event",
        "description": (
            "An alert as EventBridge delivers it from the learning bus: the detail-type is the alert's "
            "kind, the detail the alert (also an item of GET /alerts)."
        ),
        "type": "object",
        "required": ["source", "detail-type", "detail"],
        "properties": {
            "source": {"const": ALERT_SOURCE},
            "detail-type": {"enum": [kind.value for kind in AlertKind]},
            "detail": {"$ref": "#/$defs/AlertDetail"},
        },
        "$defs": {**definitions, "AlertDetail": detail},
    }
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
