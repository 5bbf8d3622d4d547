"""Read ``template.yaml``: tables, functions, their environment and their API routes."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
LAYER_DIR = ROOT / "layers" / "learning"


# libyaml's safe loader when PyYAML was built with it: parsing the template is ~7x faster.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CfnLoader(_SafeLoader):
    """YAML loader that keeps CloudFormation short-form tags (``!Ref X`` -> ``{"Ref": "X"}``)."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The parsed template: parsed once per version of the file, a private copy per call."""
    stat = path.stat()
    return copy.deepcopy(_parsed(path.resolve(), stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=4)
def _parsed(path: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    with path.open() as handle:
        return yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway resource path, e.g. /api/v1/learning/recommendations/{recommendation_id}
    public: bool = False  # served without the authorizer (the event's Auth sets Authorizer NONE)

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method.upper() != self.method:
            return None
        pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path)) + "$"
        found = re.match(pattern, path)
        return found.groupdict() if found else None

    @property
    def literal_segments(self) -> int:
        return sum(1 for part in self.path.split("/") if part and not part.startswith("{"))


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    routes: list[Route] = field(default_factory=list)
    schedules: list[dict[str, Any]] = field(default_factory=list)
    event_rules: list[EventRule] = field(default_factory=list)
    dead_letter_queue: str | None = None  # logical id of the queue failed async invocations go to


@dataclass(frozen=True)
class EventRule:
    """An EventBridge rule that invokes a function: the bus it listens on and its pattern."""

    name: str
    bus: str
    pattern: dict[str, Any]


def tables(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``logical id -> Properties`` of every DynamoDB table."""
    return {
        name: resource["Properties"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::DynamoDB::Table"
    }


def _resolve(value: Any, template: dict[str, Any]) -> str:
    """Resolve the intrinsics used in environment variables: a table's ``Ref`` is its logical id
    (the local table name), a parameter's is its default."""
    if isinstance(value, dict) and "Ref" in value:
        name = value["Ref"]
        parameter = template.get("Parameters", {}).get(name)
        return str(parameter["Default"]) if parameter else name
    return str(value)


def functions(template: dict[str, Any]) -> list[FunctionSpec]:
    globals_env = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    specs = []
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        variables = {**globals_env, **props.get("Environment", {}).get("Variables", {})}
        events = list(props.get("Events", {}).values())
        specs.append(
            FunctionSpec(
                logical_id=name,
                code_dir=ROOT / props["CodeUri"],
                handler=props["Handler"],
                environment={k: _resolve(v, template) for k, v in variables.items()},
                routes=[
                    Route(
                        e["Properties"]["Method"].upper(),
                        e["Properties"]["Path"],
                        public=e["Properties"].get("Auth", {}).get("Authorizer") == "NONE",
                    )
                    for e in events
                    if e["Type"] == "Api"
                ],
                schedules=[e["Properties"] for e in events if e["Type"] in ("Schedule", "ScheduleV2")],
                dead_letter_queue=(
                    props["DeadLetterQueue"]["TargetArn"]["Fn::GetAtt"][0]
                    if "DeadLetterQueue" in props
                    else None
                ),
                event_rules=[
                    EventRule(
                        name=f"{name}{event_name}",
                        bus=_resolve(e["Properties"].get("EventBusName", "default"), template),
                        pattern=e["Properties"]["Pattern"],
                    )
                    for event_name, e in props.get("Events", {}).items()
                    if e["Type"] == "EventBridgeRule"
                ],
            )
        )
    return specs


@dataclass(frozen=True)
class ApiAuth:
    """The API's authorizer as the template declares it, and its gateway responses."""

    authorizer_function: str
    identity_header: str
    cache_seconds: int
    gateway_responses: dict[str, dict[str, Any]]
    binary_media_types: tuple[str, ...] = ()


def _function_of(reference: dict[str, Any]) -> str:
    """The function a ``!GetAtt F.Arn`` or a ``!Ref F.Alias`` (its published alias) names."""
    if "Fn::GetAtt" in reference:
        return str(reference["Fn::GetAtt"][0])
    return str(reference["Ref"]).split(".", 1)[0]


def api_auth(template: dict[str, Any], api: str = "LearningApi") -> ApiAuth:
    props = template["Resources"][api]["Properties"]
    auth = props["Auth"]
    authorizer = auth["Authorizers"][auth["DefaultAuthorizer"]]
    identity = authorizer["Identity"]
    return ApiAuth(
        authorizer_function=_function_of(authorizer["FunctionArn"]),
        identity_header=identity["Headers"][0],
        cache_seconds=int(_resolve(identity.get("ReauthorizeEvery", 300), template)),
        gateway_responses=props.get("GatewayResponses", {}),
        binary_media_types=tuple(props.get("BinaryMediaTypes", [])),
    )
