"""The embedded AWS environment: moto's DynamoDB with the template's tables, and the handlers
loaded exactly as Lambda loads them (``<CodeUri>/<module>.<function>`` with the layer on the path)."""

from __future__ import annotations

import gc
import importlib.util
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import InitVar, dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

import boto3

from localdev import template as tpl
from localdev.apigw import rest_event
from localdev.gateway import LocalGateway
from localdev.lambda_context import LocalLambdaContext

if TYPE_CHECKING:  # moto is imported when an embedded AWS starts
    from localdev import moto_state

REGION = "us-east-1"
# Locally the alert events (swarm_learning.vocabulary.AlertKind) are delivered to the console.
ALERT_CONSOLE = "AlertConsole"
ALERT_PATTERN = {
    "source": ["swarm.learning"],
    "detail-type": [
        "AgentTrustDeclined",
        "AgentTrustRecovered",
        "AgentTrustThresholdCrossed",
        "LearningCycleBelowTarget",
        "LearningCycleFailed",
        "RoutingUnderperforming",
    ],
}
LOCAL_GC_THRESHOLD = 50_000  # allocations between young collections (CPython's default: 700)
log = logging.getLogger("localdev")

# Fake credentials so no call can ever reach a real account, plus quiet local defaults.
LOCAL_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
    # Locally the dashboard is served from the API's own origin (/dashboard/): no CORS at all.
    "DASHBOARD_ORIGIN": "",
}


def configure_environment(extra: dict[str, str] | None = None) -> dict[str, Any]:
    """Set the variables the template gives the functions (tables named by logical id).

    Returns the parsed template. Call before importing any handler or creating any client.
    """
    template = tpl.load_template()
    os.environ.update(local_environment(template, extra))
    layer = str(tpl.LAYER_DIR)
    if layer not in sys.path:
        sys.path.insert(0, layer)
    return template


def local_environment(template: dict[str, Any], extra: dict[str, str] | None = None) -> dict[str, str]:
    """The variables ``configure_environment`` sets."""
    environment: dict[str, str] = {}
    for spec in tpl.functions(template):
        environment.update(spec.environment)
    environment.pop("POWERTOOLS_SERVICE_NAME", None)
    return {**environment, **LOCAL_ENVIRONMENT, "POWERTOOLS_SERVICE_NAME": "learning-local", **(extra or {})}


def create_tables(template: dict[str, Any]) -> None:
    """Create every table of the template, as the template defines it (keys, indexes, TTL)."""
    client = boto3.client("dynamodb", region_name=REGION)
    for name, props in tpl.tables(template).items():
        definition = {
            key: props[key]
            for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
            if key in props
        }
        client.create_table(TableName=name, **definition)
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)


def create_event_routes(specs: list[tpl.FunctionSpec]) -> dict[str, str]:
    """EventBridge as deployed, locally: the template's buses and rules in moto, each rule targeting
    a queue (moto delivers matching events to it) that ``LocalFunctions.deliver_events`` drains into
    the rule's function. Returns ``function logical id -> queue url``."""
    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    queues: dict[str, str] = {}
    buses = {"default"}
    for spec in specs:
        for rule in spec.event_rules:
            if rule.bus not in buses:
                events.create_event_bus(Name=rule.bus)
                buses.add(rule.bus)
            url = sqs.create_queue(QueueName=f"local-{rule.name}")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            events.put_rule(Name=rule.name, EventBusName=rule.bus, EventPattern=json.dumps(rule.pattern))
            events.put_targets(
                Rule=rule.name, EventBusName=rule.bus, Targets=[{"Id": "function", "Arn": arn}]
            )
            queues[spec.logical_id] = url
    for queue in {spec.dead_letter_queue for spec in specs if spec.dead_letter_queue}:
        sqs.create_queue(QueueName=queue)
    # The alerts the functions publish: printed on the console, one line each (deliver_events).
    bus = next((r.bus for s in specs for r in s.event_rules if r.bus != "default"), None)
    if bus is not None:
        url = sqs.create_queue(QueueName="local-alerts")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="LocalAlertConsole", EventBusName=bus, EventPattern=json.dumps(ALERT_PATTERN))
        events.put_targets(
            Rule="LocalAlertConsole", EventBusName=bus, Targets=[{"Id": "console", "Arn": arn}]
        )
        queues[ALERT_CONSOLE] = url
    return queues


def alert_line(event: Mapping[str, Any]) -> str:
    """One console line for an alert event: what, where, the figures and where to look."""
    detail = event.get("detail") or {}

    def shown(value: Any) -> str:
        return "-" if value is None else f"{value:.3g}" if isinstance(value, float) else str(value)

    agent = f" agent {detail['agent_id']}" if detail.get("agent_id") else ""
    return (
        f"alert {event.get('detail-type')}: workspace {detail.get('workspace_id')}{agent}, "
        f"{shown(detail.get('before'))} -> {shown(detail.get('after'))} (n = {detail.get('evidence_n')}), "
        f"/dashboard/{detail.get('dashboard_path', '')}"
    )


def load_handler(spec: tpl.FunctionSpec) -> tuple[ModuleType, Callable[..., Any]]:
    """Import ``<CodeUri>/<module>.py`` under a unique module name; return it and its handler."""
    module_file, handler_name = spec.handler.rsplit(".", 1)
    module_name = f"function_{spec.logical_id}"
    module = sys.modules.get(module_name)
    if module is None:
        path = spec.code_dir / f"{module_file}.py"
        loader_spec = importlib.util.spec_from_file_location(module_name, path)
        assert loader_spec
        assert loader_spec.loader
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[module_name] = module
        loader_spec.loader.exec_module(module)
    return module, getattr(module, handler_name)


def reset_process_state() -> None:
    """Forget cached settings, clients and stores (between tests, or after changing env): every
    ``functools.cache``/``lru_cache`` function of the layer package and of the loaded handlers."""
    for module in list(sys.modules.values()):
        name = getattr(module, "__name__", "")
        if name == "swarm_learning" or name.startswith(("swarm_learning.", "function_")):
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


def _job_name(logical_id: str) -> str:
    words = re.findall(r"[A-Z][a-z0-9]*", logical_id.removesuffix("Function"))
    return "-".join(w.lower() for w in words)


@dataclass
class LocalFunctions:
    """The template's functions, loaded and invokable in-process."""

    specs: list[tpl.FunctionSpec]
    event_queues: dict[str, str] = field(default_factory=dict)
    gateway: LocalGateway = field(init=False)
    # Set by embedded_aws(), for empty_aws(): moto's state and the environment once it was built.
    baseline: moto_state.Baseline | None = field(default=None, init=False, repr=False)
    environment: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    auth: InitVar[tpl.ApiAuth | None] = None

    def __post_init__(self, auth: tpl.ApiAuth | None) -> None:
        self.gateway = LocalGateway(self, auth or tpl.api_auth(tpl.load_template()))

    def handler(self, logical_id: str) -> Callable[..., Any]:
        spec = next(s for s in self.specs if s.logical_id == logical_id)
        return load_handler(spec)[1]

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        context = LocalLambdaContext(function_name=logical_id)
        return self.handler(logical_id)(event, context)

    def events_pending(self) -> bool:
        """Whether an event waits in a function's queue. Asked before and after every request the
        local server answers, so it reads moto's queues directly (what ``ApproximateNumberOfMessages``
        counts) instead of building a client and asking each queue through botocore."""
        from localdev import moto_state

        return moto_state.messages_waiting(REGION, self.event_queues.values()) > 0

    def deliver_events(self) -> int:
        """Invoke the functions whose rules matched the events published so far, until none are left
        (a function may publish more); returns how many were delivered to functions (alert events
        are printed on stderr, one line each). A failing invocation is
        logged and dropped: its iteration record already says it failed."""
        sqs = boto3.client("sqs", region_name=REGION)
        delivered = 0
        while True:
            batch = 0
            for logical_id, url in self.event_queues.items():
                for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                    if logical_id == ALERT_CONSOLE:  # printed, not a function's delivery
                        print(alert_line(json.loads(message["Body"])), file=sys.stderr, flush=True)
                        continue
                    try:
                        self.invoke_async(logical_id, json.loads(message["Body"]))
                    except Exception:
                        log.exception("%s failed on an event; it is in its dead-letter queue", logical_id)
                    batch += 1
            delivered += batch
            if not batch:
                return delivered

    def invoke_async(self, logical_id: str, event: dict[str, Any]) -> Any:
        """Invoke as EventBridge and the scheduler do (asynchronously): when the function raises,
        its event goes to the function's dead-letter queue, then the error propagates."""
        try:
            return self.invoke(logical_id, event)
        except Exception:
            spec = next(s for s in self.specs if s.logical_id == logical_id)
            if spec.dead_letter_queue:
                sqs = boto3.client("sqs", region_name=REGION)
                url = sqs.get_queue_url(QueueName=spec.dead_letter_queue)["QueueUrl"]
                sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event))
            raise

    def dead_letters(self, logical_id: str) -> list[dict[str, Any]]:
        """The events in a function's dead-letter queue (read without removing them)."""
        spec = next(s for s in self.specs if s.logical_id == logical_id)
        if spec.dead_letter_queue is None:
            return []
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.get_queue_url(QueueName=spec.dead_letter_queue)["QueueUrl"]
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        return [json.loads(m["Body"]) for m in messages.get("Messages", [])]

    def jobs(self) -> dict[str, str]:
        """Scheduled functions by job name: ``TrustRefreshFunction`` -> ``trust-refresh``."""
        return {_job_name(s.logical_id): s.logical_id for s in self.specs if s.schedules}

    def run_job(self, job: str, event: dict[str, Any] | None = None) -> Any:
        """Invoke a scheduled function now, as its schedule would (``time`` = now)."""
        logical_id = self.jobs()[job]
        from swarm_learning.clock import utcnow

        scheduled = {"job": job.replace("-", "_"), "time": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")}
        return self.invoke_async(logical_id, {**scheduled, **(event or {})})

    def api_event(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        body: str | None = None,
        source_ip: str = "127.0.0.1",
        authorizer: Mapping[str, Any] | None = None,
    ) -> tuple[tpl.FunctionSpec, dict[str, Any]] | None:
        """The function API Gateway would call for ``method path`` and the event it would send,
        or None when the template defines no such route. ``authorizer``: the context an authorizer
        allowed the request with (``gateway.request`` runs the real authorizer instead)."""
        found = self.route(method, path)
        if found is None:
            return None
        return found[0], self.route_event(
            found,
            method,
            path,
            query=query,
            headers=headers,
            body=body,
            source_ip=source_ip,
            authorizer=authorizer,
        )

    @staticmethod
    def route_event(
        found: tuple[tpl.FunctionSpec, tpl.Route, dict[str, str]],
        method: str,
        path: str,
        *,
        query: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        body: str | None = None,
        source_ip: str = "127.0.0.1",
        authorizer: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The event API Gateway sends to the function of a matched route (``route()``)."""
        _, route, params = found
        return rest_event(
            method=method,
            path=path,
            resource=route.path,
            path_parameters=params,
            query=query,
            headers=headers,
            body=body,
            source_ip=source_ip,
            authorizer=authorizer,
        )

    def _resource_routes(self, path: str) -> list[tuple[tpl.FunctionSpec, tpl.Route, dict[str, str]]]:
        """The routes of the resource API Gateway matches ``path`` to: literal segments win over
        parameters (``/recommendations/track`` before ``/recommendations/{id}``), whatever the
        method; the method is then looked up on that resource only."""
        matches = [
            (spec, route, params)
            for spec in self.specs
            for route in spec.routes
            if (params := route.match(route.method, path)) is not None
        ]
        if not matches:
            return []
        best = max(m[1].literal_segments for m in matches)
        resource = next(m[1].path for m in matches if m[1].literal_segments == best)
        return [m for m in matches if m[1].path == resource]

    def allowed_methods(self, path: str) -> list[str]:
        """The methods the template serves on ``path``'s resource (empty for an unknown path)."""
        return sorted({route.method for _, route, _ in self._resource_routes(path)})

    def route(self, method: str, path: str) -> tuple[tpl.FunctionSpec, tpl.Route, dict[str, str]] | None:
        """The function serving ``method path``, or None when its resource has no such method."""
        return next((m for m in self._resource_routes(path) if m[1].method == method.upper()), None)


def empty_aws(functions: LocalFunctions) -> None:
    """Back to the state ``embedded_aws()`` started in, without rebuilding it: the template's tables
    and the queues empty (those created since dropped), the other services' moto backends (API
    Gateway, CloudFormation ...) forgotten, a new gateway (no cached authorizer decisions) and no
    cached settings or clients. Tests sharing one embedded AWS call it between tests: milliseconds,
    where building one costs a second."""
    if functions.baseline is None:
        raise RuntimeError("empty_aws() needs the LocalFunctions of an embedded_aws() block")
    restore_aws(functions, functions.baseline)


def save_aws() -> moto_state.Baseline:
    """The embedded AWS's tables as they are now, items included (copied), and its queues and
    services: for ``restore_aws``. Tests that share a store seeded once for a module save it once
    and put it back before each test instead of seeding again."""
    from localdev import moto_state

    return moto_state.capture(REGION)


def restore_aws(functions: LocalFunctions, saved: moto_state.Baseline) -> None:
    """Back to ``saved`` (``save_aws``) as ``empty_aws`` goes back to the empty one: the tables as
    saved (copied again, so the saved state stays as it was), the queues empty, services used since
    forgotten, no cached settings, clients or authorizer decisions."""
    from localdev import moto_state

    moto_state.restore(saved)
    os.environ.update(functions.environment)
    reset_process_state()
    functions.gateway = LocalGateway(functions, functions.gateway.auth)


_active: LocalFunctions | None = None  # moto keeps one state per process: one embedded AWS


@contextmanager
def embedded_aws(extra_environment: dict[str, str] | None = None) -> Iterator[LocalFunctions]:
    """Environment set, moto started, tables created, handlers loaded. Inside another block (a test
    session's shared one), the same embedded AWS, emptied (``empty_aws``): starting moto again
    would wipe the outer block's state."""
    global _active
    template = configure_environment(extra_environment)
    if _active is not None:
        _active.environment = local_environment(template, extra_environment)
        empty_aws(_active)
        yield _active
        return
    from moto import mock_aws

    from localdev import moto_patches, moto_state

    moto_patches.install()  # the local speed-ups, on the moto version they were written for
    # The embedded tables are a large, long-lived heap (~300,000 objects for the dashboard's demo
    # workspace) and a read allocates thousands of short-lived ones: at the interpreter's default
    # threshold (700) collections took about a fifth of a trust listing's time, the full ones
    # rescanning the tables. Collect young objects less often while the embedded AWS runs.
    thresholds = gc.get_threshold()
    gc.set_threshold(LOCAL_GC_THRESHOLD, *thresholds[1:])
    try:
        with mock_aws():
            create_tables(template)
            reset_process_state()
            specs = tpl.functions(template)
            functions = LocalFunctions(specs, create_event_routes(specs), tpl.api_auth(template))
            for spec in functions.specs:
                load_handler(spec)
            functions.baseline = moto_state.capture(REGION)
            functions.environment = local_environment(template, extra_environment)
            _active = functions
            try:
                yield functions
            finally:
                _active = None
    finally:
        gc.set_threshold(*thresholds)
