"""The Python client's models against the service's contract (docs/openapi.json, generated from the
handlers and checked fresh by tests/integration/test_openapi.py).

- Every call the client makes is an operation of the contract, and every success schema of that
  operation parses into what the client returns: instances built from the schema with every field
  filled in, and with only the required fields (nullable ones null).
- Every field the service answers is known to the client: a field of a model, or named as left in
  ``raw`` (``UNMODELLED``), or as a list answer's envelope the reader drops. A field added to a
  service model fails here until the client knows it.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from swarm_learning_client import _http, models, sender

OPENAPI = json.loads((Path(__file__).resolve().parents[2] / "docs" / "openapi.json").read_text())
SCHEMAS: dict[str, Any] = OPENAPI["components"]["schemas"]
PREFIX = "/api/v1/learning"

# One sample call per function of the client's HTTP module (its arguments don't matter here).
CALLS: dict[str, _http.Call[Any]] = {
    "select_agents": _http.select_agents("ws", "strategy", ["A", "B"], 1, "explore", None, True),
    "evaluate_routing": _http.evaluate_routing("ws", None, None, None, None),
    "decision_boost": _http.decision_boost("ws", "A", "strategy"),
    "trust": _http.trust("ws", "A"),
    "trusted_agents": _http.trusted_agents("ws", 0.5),
    "suggest_rules": _http.suggest_rules("ws", {}),
    "trigger_learning_cycle": _http.trigger_learning_cycle("ws", None, None),
    "learning_cycle": _http.learning_cycle("ws", "iter_01JD3A0000AAAAAAAAAAAAAAAA"),
    "patterns": _http.patterns("ws", None, None),
    "agent_profile": _http.agent_profile("ws", "A"),
    "alerts": _http.alerts("ws", None, None, None, None),
    "agent_stats": _http.agent_stats("ws", "A", None),
    "workspace_stats": _http.workspace_stats("ws", None),
    "workspace_settings": _http.workspace_settings("ws"),
    "put_workspace_settings": _http.put_workspace_settings("ws", None, None, None),
}
# Readers that hand back the service's JSON as it is (nothing to drift from).
RAW_JSON_CALLS = {"agent_stats", "workspace_stats"}

MODELS = [
    cls
    for _, cls in inspect.getmembers(models, inspect.isclass)
    if cls.__module__ == models.__name__ and hasattr(cls, "SCHEMAS")
]


def test_every_function_of_the_http_module_has_a_sample_call() -> None:
    builders = {
        name
        for name, value in inspect.getmembers(_http, inspect.isfunction)
        if value.__module__ == _http.__name__
        and inspect.signature(value).return_annotation.startswith("Call[")
    }
    assert builders == set(CALLS)


def _operation(call: _http.Call[Any]) -> dict[str, Any]:
    for template, operations in OPENAPI["paths"].items():
        pattern = re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, PREFIX + call.path) and call.method.lower() in operations:
            return operations[call.method.lower()]
    raise AssertionError(f"{call.method} {call.path} is not an operation of docs/openapi.json")


def _success_schemas(call: _http.Call[Any]) -> list[str]:
    responses = _operation(call)["responses"]
    refs = {
        response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        for status, response in responses.items()
        if status.startswith("2")
    }
    assert refs, call.path
    return sorted(refs)


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _instance(schema: dict[str, Any], *, full: bool, depth: int = 0) -> Any:
    """A value the schema accepts: every property filled in (``full``), or only the required ones
    with nullable values null."""
    schema = _resolve(schema)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = schema[key]
            non_null = [o for o in options if o.get("type") != "null"]
            if not full and len(non_null) < len(options):
                return None
            return _instance(non_null[0], full=full, depth=depth)
    if "allOf" in schema:
        return _instance(schema["allOf"][0], full=full, depth=depth)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        required = set(schema.get("required", ()))
        value = {
            name: _instance(sub, full=full, depth=depth + 1)
            for name, sub in schema.get("properties", {}).items()
            if full or name in required
        }
        extra = schema.get("additionalProperties")
        if full and isinstance(extra, dict) and depth < 4:
            value["key"] = _instance(extra, full=full, depth=depth + 1)
        return value
    if kind == "array":
        return [_instance(schema.get("items", {}), full=full, depth=depth + 1)] if depth < 6 else []
    if kind == "string":
        return {"date-time": "2026-11-24T09:00:00Z", "date": "2026-11-24"}.get(schema.get("format", ""), "x")
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 0.5))
    if kind == "boolean":
        return True
    return {}  # any JSON


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("full", [True, False], ids=["every-field", "required-only"])
def test_every_success_schema_of_each_call_parses_into_the_client(name: str, full: bool) -> None:
    call = CALLS[name]
    for schema_name in _success_schemas(call):
        answer = _instance(SCHEMAS[schema_name], full=full)
        parsed = call.read(answer)
        items = parsed if isinstance(parsed, list) else [parsed]
        for item in items:
            if name in RAW_JSON_CALLS:
                assert item == answer
            else:
                assert item.raw in (answer, *answer.get("items", ()))


def _known(cls: type) -> set[str]:
    fields = {f.name for f in dataclasses.fields(cls)} - {"raw"}
    properties = {name for name, value in vars(cls).items() if isinstance(value, property)}
    return fields | properties | set(cls.UNMODELLED)


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_every_field_the_service_answers_is_known_to_the_client(cls: type) -> None:
    every: set[str] = set()
    for schema_name in cls.SCHEMAS:
        answered = set(_resolve(SCHEMAS[schema_name])["properties"])
        every |= answered
        unknown = answered - _known(cls)
        assert not unknown, (
            f"{schema_name} answers {sorted(unknown)}, which the client's {cls.__name__} does not know: "
            "model them, or name them in its UNMODELLED"
        )
    # And the client names nothing the service no longer answers.
    assert set(cls.UNMODELLED) <= every, sorted(set(cls.UNMODELLED) - every)


def _list_answers() -> Iterator[tuple[str, str]]:
    for name, call in sorted(CALLS.items()):
        for schema_name in _success_schemas(call):
            if "items" in _resolve(SCHEMAS[schema_name]).get("properties", {}):
                yield name, schema_name


@pytest.mark.parametrize(("name", "schema_name"), list(_list_answers()))
def test_list_answers_hold_client_models_and_name_what_they_drop(name: str, schema_name: str) -> None:
    call = CALLS[name]
    schema = _resolve(SCHEMAS[schema_name])
    assert set(schema["properties"]) - {"items"} == call.envelope, schema_name
    item = _resolve(schema["properties"]["items"]["items"])
    assert any(item is _resolve(SCHEMAS[s]) for cls in MODELS for s in cls.SCHEMAS), schema_name


def test_the_models_a_model_holds_are_checked_too() -> None:
    routing = _resolve(SCHEMAS["RoutingDecision"])
    assert routing["properties"]["chosen"]["items"]["$ref"].endswith("/RoutedAgent")
    assert models.RoutedAgent in MODELS


def test_the_batch_sender_knows_every_field_of_the_batch_answer() -> None:
    assert set(_resolve(SCHEMAS["IngestBatchResponse"])["properties"]) == sender.BATCH_ANSWER_FIELDS
    assert set(_resolve(SCHEMAS["EventResult"])["properties"]) == sender.RESULT_FIELDS
    assert set(_resolve(SCHEMAS["EventError"])["properties"]) == sender.RESULT_ERROR_FIELDS


def test_a_field_the_service_adds_fails_until_the_client_knows_it() -> None:
    """The check above, on a service that grew a field: it names the field and the model."""
    grown = {**SCHEMAS["PatternView"], "properties": {**SCHEMAS["PatternView"]["properties"], "novelty": {}}}
    unknown = set(grown["properties"]) - _known(models.Pattern)
    assert unknown == {"novelty"}
