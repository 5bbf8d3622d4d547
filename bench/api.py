"""API benchmark: the Lambda handlers against the raw DynamoDB calls they imply.

    python -m bench.api [--calls 1000]        (from the repository root)

Everything runs on the embedded AWS of ``localdev.runtime`` (moto's DynamoDB with the tables of
template.yaml, the handlers loaded as Lambda loads them). The command prints a machine line, the
command, and markdown tables:

latency      handler vs. raw boto3 for track, evaluate and a by-agent query: median, p99, ratio
round trips  DynamoDB requests per call on every request path, and whether any of them is a Scan
import       each handler module's import time in a fresh interpreter vs. ``import boto3``
profile      where the handler's time goes outside the DynamoDB client (cProfile, by component)
targets      PASS/FAIL against the targets of the benchmark issue

docs/benchmarks.md explains the method and records a run.
"""

from __future__ import annotations

import argparse
import contextvars
import copy
import cProfile
import gc
import hashlib
import json
import math
import os
import shlex
import statistics
import subprocess
import sys
import sysconfig
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any, cast

import boto3
from botocore.client import BaseClient
from botocore.handlers import BUILTIN_HANDLERS
from moto.core.model_instances import reset_model_data

from bench.report import machine_line, markdown_table, verdict
from localdev import runtime
from localdev import template as tpl
from localdev.lambda_context import LocalLambdaContext
from swarm_learning.config import get_settings
from swarm_learning.dal.items import CLIENT_CONFIG, serialize
from swarm_learning.dal.keys import (
    AGENT_SK,
    ALL_SCOPE,
    BY_AGENT,
    OUTCOME_SK,
    REC_SK,
    agent_key,
    agent_type_key,
    bucket_sort_key,
    day_of,
    epoch,
    recommendation_key,
    shard_key,
    shard_of,
    stats_key,
    workflow_key,
    workspace_key,
)
from swarm_learning.domain.counters import derive_outcome, evaluation_counters, tracking_counters
from swarm_learning.domain.evaluated import canonical_action, content_keys
from swarm_learning.ids import new_outcome_id, new_recommendation_id
from swarm_learning.vocabulary import ExecutionStatus

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / "layers" / "learning"

PREFIX = "/api/v1/learning"
TRACK_PATH = f"{PREFIX}/recommendations/track"
EVALUATE_PATH = f"{PREFIX}/outcomes/evaluate"
WORKSPACE = "ws_bench"
AGENT = "STRAT-01"
IDEMPOTENCY_KEY = "bench-key-0001"

# The request bodies of tests/conftest.py: the seed's example recommendation and evaluation.
TRACK_BODY: dict[str, Any] = {
    "workspace_id": WORKSPACE,
    "agent_id": AGENT,
    "agent_name": "MoveArchitect",
    "correlation_id": "workflow_456",
    "workflow_id": "move_123",
    "recommendation_type": "strategy",
    "recommendation_content": {"channels": ["linkedin"]},
    "confidence_score": 0.85,
    "reasoning": "Based on cohort analysis",
    "evidence": {"source": "psychographics_analysis"},
}
SCORES: dict[str, Any] = {
    "quality_scores": {"accuracy": 90.0, "relevance": 85.0},
    "overall_quality_score": 87.5,
    "evaluator_feedback": "Excellent recommendation",
}

TARGET_TRACK_RATIO = 1.3
TARGET_EVALUATE_RATIO = 1.5
TARGET_ROUND_TRIPS = 2
TARGET_IMPORT_RATIO = 2.0


class BenchmarkError(RuntimeError):
    """The benchmark could not measure what it claims to (an unexpected answer or request)."""


# ---- counting DynamoDB requests -------------------------------------------------------------------
class DynamoDBTraffic:
    """Every DynamoDB request any client sends, retries included.

    The hooks go into botocore's built-in handlers, which every new botocore session registers:
    the store's client (boto3's default session), the idempotency layer's own session and client,
    and the raw client alike. ``before-send`` fires once per HTTP attempt, i.e. per round trip.
    """

    def __init__(self) -> None:
        self.operations: list[str] = []
        self.seen: Counter[str] = Counter()
        self._params: list[tuple[str, dict[str, Any]]] | None = None

    def install(self) -> None:
        if boto3.DEFAULT_SESSION is not None:
            raise BenchmarkError("install the request counter before any boto3 session exists")
        BUILTIN_HANDLERS.insert(0, ("before-send.dynamodb", self._on_send))
        BUILTIN_HANDLERS.insert(0, ("provide-client-params.dynamodb", self._on_params))

    def _on_send(self, event_name: str, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        self.operations.append(operation)
        self.seen[operation] += 1

    def _on_params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if self._params is not None:
            self._params.append((model.name, copy.deepcopy(params)))

    @contextmanager
    def requests(self) -> Iterator[list[str]]:
        """The operation names of the requests sent inside the block."""
        self.operations = []
        yield self.operations

    @contextmanager
    def parameters(self) -> Iterator[list[tuple[str, dict[str, Any]]]]:
        """The operation name and parameters of every call made inside the block."""
        self._params = []
        try:
            yield self._params
        finally:
            self._params = None


# Parameters whose values are structure, not data: two paths making "the same requests" agree on
# them exactly. Everything else is compared by type (``{"S": "str"}``), which keeps attribute names
# and DynamoDB types but ignores ids and timestamps.
_STRUCTURAL = frozenset(
    {
        "TableName",
        "IndexName",
        "UpdateExpression",
        "ConditionExpression",
        "KeyConditionExpression",
        "FilterExpression",
        "ExpressionAttributeNames",
        "ReturnValuesOnConditionCheckFailure",
        "ScanIndexForward",
        "ConsistentRead",
        "Limit",
    }
)


def request_shape(value: Any, key: str | None = None) -> Any:
    if key in _STRUCTURAL:
        return value
    if isinstance(value, dict):
        return {k: request_shape(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [request_shape(v) for v in value]
    return type(value).__name__


# ---- the two paths ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Invocation:
    """One prepared handler call: the API Gateway event and a fresh Lambda context."""

    handler: Callable[[dict[str, Any], Any], dict[str, Any]]
    event: dict[str, Any]
    context: LocalLambdaContext

    def __call__(self) -> dict[str, Any]:
        return self.handler(self.event, self.context)


class Api:
    """Builds the events the deployed API would send to each function."""

    def __init__(self, functions: runtime.LocalFunctions) -> None:
        self._functions = functions

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Invocation:
        found = self._functions.api_event(
            method,
            path,
            query={k: [v] for k, v in (query or {}).items()},
            headers={"Content-Type": "application/json", **(headers or {})},
            body=json.dumps(body) if body is not None else None,
            # What API Gateway hands on after the authorizer allowed the key (its decision is
            # cached, so the authorizer is not part of a request's latency); the handler's own
            # access check (caller, body limits, workspace) is measured.
            authorizer={"principalId": "bench", "key_id": "bench", "workspaces": WORKSPACE},
        )
        if found is None:
            raise BenchmarkError(f"no route for {method} {path}")
        spec, event = found
        context = LocalLambdaContext(function_name=spec.logical_id)
        return Invocation(self._functions.handler(spec.logical_id), event, context)


def expect(response: dict[str, Any], status: int) -> Any:
    if response["statusCode"] != status:
        raise BenchmarkError(f"expected {status}, got {response['statusCode']}: {response['body']}")
    return json.loads(response["body"]) if response["body"] else None


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


class RawDynamoDB:
    """The DynamoDB requests each operation implies, built by hand with the items, keys and
    expressions of ``swarm_learning.dal`` and sent with a plain boto3 client: no handler,
    resolver, validation, logging, metrics or domain service. It reuses only pure helpers
    (``serialize``, the keys of ``dal.keys``, the counter formulas and the id minting)."""

    def __init__(self) -> None:
        settings = get_settings()
        self.client: Any = boto3.client("dynamodb", config=CLIENT_CONFIG)
        self._recommendations = settings.recommendations_table
        self._statistics = settings.statistics_table
        self._retention_days = settings.retention_days
        self._shards = settings.workspace_shards
        self._approved_min = settings.outcome_approved_min
        self._partial_min = settings.outcome_partial_min

    def _recommendation_item(self, body: dict[str, Any], now: datetime) -> dict[str, Any]:
        """The recommendation item ``insert_recommendation`` stores (not yet serialized)."""
        rid = new_recommendation_id(now)
        ws, agent, rtype = body["workspace_id"], body["agent_id"], body["recommendation_type"]
        workflow = body.get("workflow_id")
        return {
            "recommendation_id": rid,
            "workspace_id": ws,
            "agent_id": agent,
            "agent_name": body["agent_name"],
            "correlation_id": body.get("correlation_id"),
            "workflow_id": workflow,
            "recommendation_type": rtype,
            "content_json": _json_text(body["recommendation_content"]),
            "evidence_json": _json_text(body.get("evidence", {})),
            "action_key": canonical_action(body["recommendation_content"]),
            "content_keys": list(content_keys(body["recommendation_content"])),
            "confidence_score": body["confidence_score"],
            "reasoning": body.get("reasoning", ""),
            "execution_status": body.get("execution_status", ExecutionStatus.COMPLETED.value),
            "latency_ms": body.get("latency_ms"),
            "status": "pending",
            "created_at": now.isoformat(),
            # what a retry with the same client-minted id is checked against
            "request_fingerprint": hashlib.sha256(_json_text(body).encode()).hexdigest(),
            "pk": recommendation_key(ws, rid),
            "sk": REC_SK,
            "agent_pk": agent_key(ws, agent),
            "agent_type_pk": agent_type_key(ws, agent, rtype),
            "workflow_pk": workflow_key(ws, workflow) if workflow else None,
            "shard_pk": shard_key(ws, shard_of(rid, self._shards)),
            "expires_at": epoch(now + timedelta(days=self._retention_days)),
        }

    def seed(self, body: dict[str, Any]) -> str:
        """A pending recommendation, stored with one PutItem (set-up, never timed: evaluations and
        queries read only the recommendation item, so its counters need not exist)."""
        item = self._recommendation_item(body, datetime.now(UTC))
        self.client.put_item(TableName=self._recommendations, Item=serialize(item))
        return item["recommendation_id"]

    def track(self, body: dict[str, Any]) -> str:
        """One TransactWriteItems: the recommendation, the agent directory entry, 3 buckets."""
        now = datetime.now(UTC)
        item = self._recommendation_item(body, now)
        rid, ws, agent = item["recommendation_id"], item["workspace_id"], item["agent_id"]
        created_at, expires_at = item["created_at"], item["expires_at"]
        directory = {
            "Update": {
                "TableName": self._statistics,
                "Key": serialize({"pk": agent_key(ws, agent), "sk": AGENT_SK}),
                "UpdateExpression": (
                    "SET agent_name = :name, agent_id = :agent, workspace_pk = :ws, "
                    "last_seen_at = :now, first_seen_at = if_not_exists(first_seen_at, :first), "
                    "expires_at = :exp"
                ),
                "ExpressionAttributeValues": serialize(
                    {
                        ":name": body["agent_name"],
                        ":agent": agent,
                        ":ws": workspace_key(ws),
                        ":now": created_at,
                        ":first": created_at,
                        ":exp": expires_at,
                    }
                ),
            }
        }
        counters = tracking_counters(
            ExecutionStatus(item["execution_status"]), item["confidence_score"], item["latency_ms"]
        )
        put = {
            "Put": {
                "TableName": self._recommendations,
                "Item": serialize(item),
                "ConditionExpression": "attribute_not_exists(pk)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        self.client.transact_write_items(
            TransactItems=[
                put,
                directory,
                *self._bucket_updates(ws, agent, rid, item["recommendation_type"], now, counters),
            ]
        )
        return rid

    def evaluate(self, workspace_id: str, recommendation_id: str, scores: dict[str, Any]) -> str:
        """GetItem (consistent) + one TransactWriteItems: settle, outcome, 3 buckets."""
        pk = recommendation_key(workspace_id, recommendation_id)
        found = self.client.get_item(
            TableName=self._recommendations,
            Key=serialize({"pk": pk, "sk": REC_SK}),
            ConsistentRead=True,
        )["Item"]
        agent, rtype = found["agent_id"]["S"], found["recommendation_type"]["S"]
        confidence = float(found["confidence_score"]["N"])
        created_at = datetime.fromisoformat(found["created_at"]["S"])
        now = datetime.now(UTC)
        quality = scores["overall_quality_score"]
        outcome = derive_outcome(quality, approved_min=self._approved_min, partial_min=self._partial_min)
        outcome_id = new_outcome_id(now)
        request = {"workspace_id": workspace_id, "recommendation_id": recommendation_id, **scores}
        fingerprint = hashlib.sha256(_json_text(request).encode()).hexdigest()
        evaluated_at = now.isoformat()
        expires_at = epoch(now + timedelta(days=self._retention_days))
        settle = {
            "Update": {
                "TableName": self._recommendations,
                "Key": serialize({"pk": pk, "sk": REC_SK}),
                "UpdateExpression": (
                    "SET #status = :outcome, outcome_id = :oid, evaluated_at = :at, "
                    "overall_quality_score = :q, expires_at = :exp, evaluation_fingerprint = :fp"
                ),
                "ConditionExpression": "attribute_exists(pk) AND #status = :pending",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": serialize(
                    {
                        ":outcome": outcome.value,
                        ":oid": outcome_id,
                        ":at": evaluated_at,
                        ":q": quality,
                        ":exp": expires_at,
                        ":pending": "pending",
                        ":fp": fingerprint,
                    }
                ),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        outcome_item = {
            "outcome_id": outcome_id,
            "recommendation_id": recommendation_id,
            "agent_id": agent,
            "recommendation_type": rtype,
            "confidence_score": confidence,
            "outcome": outcome.value,
            "quality_scores": scores["quality_scores"],
            "overall_quality_score": quality,
            "evaluator_feedback": scores["evaluator_feedback"],
            "alternatives": [],
            "evaluated_at": evaluated_at,
            "workspace_id": workspace_id,
            "pk": pk,
            "sk": OUTCOME_SK,
            "expires_at": expires_at,
        }
        put = {
            "Put": {
                "TableName": self._recommendations,
                "Item": serialize(outcome_item),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        delay = (now - created_at).total_seconds()
        counters = evaluation_counters(outcome, confidence, quality, delay)
        buckets = self._bucket_updates(workspace_id, agent, recommendation_id, rtype, now, counters)
        self.client.transact_write_items(TransactItems=[settle, put, *buckets])
        return outcome_id

    def query_by_agent(self, workspace_id: str, agent_id: str, limit: int) -> int:
        """One Query on the by_agent index, newest first, expired items filtered out."""
        response = self.client.query(
            TableName=self._recommendations,
            IndexName=BY_AGENT,
            KeyConditionExpression="#p = :p",
            FilterExpression="(attribute_not_exists(#e) OR #e > :now)",
            ExpressionAttributeNames={"#p": "agent_pk", "#e": "expires_at"},
            ExpressionAttributeValues=serialize(
                {":p": agent_key(workspace_id, agent_id), ":now": epoch(datetime.now(UTC))}
            ),
            ScanIndexForward=False,
            Limit=limit,
        )
        return len(response["Items"])

    def delete(self, workspace_id: str, recommendation_ids: Sequence[str]) -> None:
        """Remove recommendations and their outcomes (housekeeping between timed calls)."""
        keys = [
            serialize({"pk": recommendation_key(workspace_id, rid), "sk": sk})
            for rid in recommendation_ids
            for sk in (REC_SK, OUTCOME_SK)
        ]
        self.client.batch_write_item(
            RequestItems={self._recommendations: [{"DeleteRequest": {"Key": key}} for key in keys]}
        )

    def _bucket_updates(
        self,
        workspace_id: str,
        agent_id: str,
        recommendation_id: str,
        recommendation_type: str,
        at: datetime,
        counters: dict[str, float],
    ) -> list[dict[str, Any]]:
        day = day_of(at)
        expires_at = epoch(datetime.fromisoformat(day).replace(tzinfo=UTC)) + 86_400 * (
            self._retention_days + 1
        )
        names = {f"#c{i}": name for i, name in enumerate(counters)}
        values: dict[str, Any] = {f":c{i}": value for i, value in enumerate(counters.values())}
        adds = ", ".join(f"#c{i} :c{i}" for i in range(len(counters)))
        shard = shard_of(recommendation_id, self._shards)
        agent_pk = agent_key(workspace_id, agent_id)
        names["#scope"] = "scope"
        keys = [
            (agent_pk, bucket_sort_key(day, None), ALL_SCOPE),
            (agent_pk, bucket_sort_key(day, recommendation_type), recommendation_type),
            (
                stats_key(workspace_id, shard),
                bucket_sort_key(day, recommendation_type),
                recommendation_type,
            ),
        ]
        return [
            {
                "Update": {
                    "TableName": self._statistics,
                    "Key": serialize({"pk": pk, "sk": sk}),
                    "UpdateExpression": f"ADD {adds} SET expires_at = :exp, #scope = :scope",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": serialize({**values, ":exp": expires_at, ":scope": scope}),
                }
            }
            for pk, sk, scope in keys
        ]


# ---- operations: a handler call and its raw equivalent -------------------------------------------
@dataclass(frozen=True)
class Trial:
    """One handler call and one raw call, prepared so that nothing but the call is timed; ``finish``
    checks both answers and removes what they wrote, so the store stays the same size."""

    handler: Callable[[], dict[str, Any]]
    raw: Callable[[], Any]
    finish: Callable[[dict[str, Any], Any], None]


@dataclass(frozen=True)
class Operation:
    name: str
    prepare: Callable[[], Trial]
    target_ratio: float | None


def track_operation(api: Api, raw: RawDynamoDB) -> Operation:
    def prepare() -> Trial:
        invocation = api.request("POST", TRACK_PATH, body=TRACK_BODY)

        def finish(response: dict[str, Any], raw_id: str) -> None:
            tracked = expect(response, 201)
            raw.delete(WORKSPACE, [tracked["recommendation_id"], raw_id])

        return Trial(invocation, lambda: raw.track(TRACK_BODY), finish)

    return Operation("track", prepare, TARGET_TRACK_RATIO)


def evaluate_operation(api: Api, raw: RawDynamoDB) -> Operation:
    def prepare() -> Trial:
        for_handler, for_raw = raw.seed(TRACK_BODY), raw.seed(TRACK_BODY)
        body = {"workspace_id": WORKSPACE, "recommendation_id": for_handler, **SCORES}
        invocation = api.request("POST", EVALUATE_PATH, body=body)

        def finish(response: dict[str, Any], _: str) -> None:
            expect(response, 200)
            raw.delete(WORKSPACE, [for_handler, for_raw])

        return Trial(invocation, lambda: raw.evaluate(WORKSPACE, for_raw, SCORES), finish)

    return Operation("evaluate", prepare, TARGET_EVALUATE_RATIO)


def agent_query_operation(api: Api, raw: RawDynamoDB, page_items: int) -> Operation:
    """The agent has ``page_items`` recommendations; both paths read them all in one page."""
    for _ in range(page_items):
        raw.seed(TRACK_BODY)
    limit = 25  # the API's default page size

    def prepare() -> Trial:
        invocation = api.request(
            "GET", f"{PREFIX}/recommendations/agent/{AGENT}", query={"workspace_id": WORKSPACE}
        )

        def finish(response: dict[str, Any], raw_count: int) -> None:
            page = expect(response, 200)
            if not page["count"] == raw_count == page_items:
                raise BenchmarkError(f"pages differ: handler {page['count']}, raw {raw_count}")

        return Trial(invocation, lambda: raw.query_by_agent(WORKSPACE, AGENT, limit), finish)

    return Operation(f"by-agent query ({page_items} items)", prepare, None)


# ---- measuring ----------------------------------------------------------------------------------------
@contextmanager
def stdout_to_devnull() -> Iterator[None]:
    """Point file descriptor 1 at /dev/null: the handlers still format and write every log line and
    EMF blob (the Logger's handler holds sys.stdout, so redirecting sys.stdout would not do)."""
    sys.stdout.flush()
    saved = os.dup(1)
    sink = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(sink, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(sink)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (p99 of 1,000 calls is the 10th slowest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass(frozen=True)
class Latency:
    """Per-call milliseconds, in call order: whole calls, and their time inside DynamoDB clients."""

    operation: Operation
    handler_ms: list[float]
    raw_ms: list[float]
    handler_client_ms: list[float]
    raw_client_ms: list[float]

    @staticmethod
    def outside(total: list[float], client: list[float]) -> float:
        """Median time spent outside the client."""
        return statistics.median(t - c for t, c in zip(total, client, strict=True))

    @property
    def median_ratio(self) -> float:
        return statistics.median(self.handler_ms) / statistics.median(self.raw_ms)

    @property
    def p99_ratio(self) -> float:
        return percentile(self.handler_ms, 0.99) / percentile(self.raw_ms, 0.99)

    @property
    def passed(self) -> bool | None:
        target = self.operation.target_ratio
        return None if target is None else self.median_ratio <= target


def verify_same_requests(operation: Operation, traffic: DynamoDBTraffic) -> None:
    """Both paths must send the same operations with the same item shapes and expressions."""
    trial = operation.prepare()
    with traffic.parameters() as handler_calls:
        response = trial.handler()
    with traffic.parameters() as raw_calls:
        result = trial.raw()
    trial.finish(response, result)
    handler_shape = [(name, request_shape(params)) for name, params in handler_calls]
    raw_shape = [(name, request_shape(params)) for name, params in raw_calls]
    if handler_shape != raw_shape:
        raise BenchmarkError(
            f"{operation.name}: the raw path does not send the handler's requests\n"
            f"handler: {json.dumps(handler_shape, indent=1)}\nraw: {json.dumps(raw_shape, indent=1)}"
        )


FunctionKey = tuple[str, int, str]


class ClientClock:
    """Times every call into a DynamoDB client: botocore's validation and serialization, the
    embedded store, the response parsing. Both paths send the same requests, so this is the same
    work on both; what a path spends outside it is its own.

    Every client call runs on one dedicated thread, so the embedded store always works at the same
    interpreter stack depth, whichever path calls it. Without that, the same transaction costs moto
    up to ~14% more or less depending only on how deep the caller's stack is (its expression-tree
    walks and item copies recurse; CPython 3.11 allocates and frees a frame-stack chunk each time a
    recursion crosses a chunk boundary), which would put a stack-depth accident into the comparison.
    The hop costs both paths the same.

    With a profiler set, each client call also pauses it, so the profile holds only what runs
    outside the client. Pausing cuts short the frames on the stack during a client call (the
    profiler forgets them; they are collected in ``spanning``); their callees' self times stay exact.
    """

    def __init__(self) -> None:
        self.ns = 0
        self.profiler: cProfile.Profile | None = None
        self.spanning: set[FunctionKey] = set()

    @contextmanager
    def installed(self) -> Iterator[None]:
        original = BaseClient._make_api_call  # type: ignore[attr-defined]
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dynamodb-client")

        def make_api_call(client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
            profiler = self.profiler
            if profiler is not None:
                profiler.disable()
                frame: FrameType | None = sys._getframe(1)
                while frame is not None:
                    code = frame.f_code
                    self.spanning.add((code.co_filename, code.co_firstlineno, code.co_name))
                    frame = frame.f_back
            start = time.perf_counter_ns()
            try:
                context = contextvars.copy_context()
                return worker.submit(context.run, original, client, operation_name, api_params).result()
            finally:
                self.ns += time.perf_counter_ns() - start
                if profiler is not None:
                    profiler.enable()

        BaseClient._make_api_call = make_api_call  # type: ignore[attr-defined]
        try:
            yield
        finally:
            BaseClient._make_api_call = original  # type: ignore[attr-defined]
            worker.shutdown()

    def profiled(self, profiler: cProfile.Profile, call: Callable[[], Any]) -> tuple[Any, int]:
        """The call's result and the ns it spent inside clients, profiled outside them."""
        self.profiler, self.ns = profiler, 0
        profiler.enable()
        try:
            return call(), self.ns
        finally:
            profiler.disable()
            self.profiler = None


@dataclass(frozen=True)
class Timed:
    result: Any
    ns: int
    client_ns: int
    operations: list[str]


def _timed(run: Callable[[], Any], traffic: DynamoDBTraffic, clock: ClientClock) -> Timed:
    """The call's result, its duration and time inside clients (ns), and the requests it sent."""
    with traffic.requests() as operations:
        clock.ns = 0
        start = time.perf_counter_ns()
        result = run()
        elapsed = time.perf_counter_ns() - start
    return Timed(result, elapsed, clock.ns, operations)


def release_store_objects() -> None:
    """moto registers every model instance it creates (for its dashboard) and never lets go of one:
    drop that registry after each pair, as moto's own reset does, so the heap (and with it the cost
    of garbage collection) stays the same size through the run."""
    reset_model_data()


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Move everything alive now (moto, botocore's models, the loaded handlers, the warm tables) to
    the permanent generation. Collections keep running on what the calls allocate, but full ones
    no longer walk the embedded store's heap, which a Lambda process does not have."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def measure_latency(operation: Operation, traffic: DynamoDBTraffic, *, calls: int, warmup: int) -> Latency:
    """Handler and raw calls alternate (AB, BA, AB, ...) so drift and noise hit both alike; every
    pair is checked to have sent the same DynamoDB operations."""
    verify_same_requests(operation, traffic)
    clock = ClientClock()

    def pair(index: int) -> tuple[Timed, Timed]:
        trial = operation.prepare()
        if index % 2:
            raw = _timed(trial.raw, traffic, clock)
            handler = _timed(trial.handler, traffic, clock)
        else:
            handler = _timed(trial.handler, traffic, clock)
            raw = _timed(trial.raw, traffic, clock)
        if handler.operations != raw.operations:
            raise BenchmarkError(
                f"{operation.name}: handler sent {handler.operations}, raw sent {raw.operations}"
            )
        trial.finish(handler.result, raw.result)
        release_store_objects()
        return handler, raw

    with clock.installed():
        for index in range(warmup):
            pair(index)
        with frozen_heap():
            pairs = [pair(index) for index in range(calls)]
    return Latency(
        operation,
        handler_ms=[h.ns / 1e6 for h, _ in pairs],
        raw_ms=[r.ns / 1e6 for _, r in pairs],
        handler_client_ms=[h.client_ns / 1e6 for h, _ in pairs],
        raw_client_ms=[r.client_ns / 1e6 for _, r in pairs],
    )


# ---- round trips ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RoundTrips:
    request: str
    operations: tuple[str, ...]
    targeted: bool

    @property
    def passed(self) -> bool | None:
        return len(self.operations) <= TARGET_ROUND_TRIPS if self.targeted else None


def count_round_trips(api: Api, traffic: DynamoDBTraffic) -> list[RoundTrips]:
    """One call on every request path of the API; the first six carry the round-trip target."""
    rows: list[RoundTrips] = []
    in_workspace = {"workspace_id": WORKSPACE}

    def call(label: str, invocation: Invocation, status: int, *, targeted: bool) -> Any:
        with traffic.requests() as operations:
            response = invocation()
        rows.append(RoundTrips(label, tuple(operations), targeted))
        return expect(response, status)

    def keyed_track() -> Invocation:
        return api.request("POST", TRACK_PATH, body=TRACK_BODY, headers={"Idempotency-Key": IDEMPOTENCY_KEY})

    plain = call(
        "track, no Idempotency-Key", api.request("POST", TRACK_PATH, body=TRACK_BODY), 201, targeted=True
    )
    first = call("track, new Idempotency-Key", keyed_track(), 201, targeted=True)
    again = call("track, retried with the same key", keyed_track(), 201, targeted=True)
    if again != first:
        raise BenchmarkError(f"the retry answered {again}, the first call {first}")
    rid = plain["recommendation_id"]
    evaluation = {"workspace_id": WORKSPACE, "recommendation_id": rid, **SCORES}
    call("evaluate", api.request("POST", EVALUATE_PATH, body=evaluation), 200, targeted=True)
    by_agent = f"{PREFIX}/recommendations/agent/{AGENT}"
    call("by-agent query", api.request("GET", by_agent, query=in_workspace), 200, targeted=True)
    call(
        "get by id",
        api.request("GET", f"{PREFIX}/recommendations/{rid}", query=in_workspace),
        200,
        targeted=True,
    )

    # Every other path: no round-trip target, but part of the no-Scan check.
    one_type = {**in_workspace, "recommendation_type": TRACK_BODY["recommendation_type"]}
    call("by-agent query, one type", api.request("GET", by_agent, query=one_type), 200, targeted=False)
    call(
        "agent stats",
        api.request("GET", f"{PREFIX}/agents/{AGENT}/stats", query=in_workspace),
        200,
        targeted=False,
    )
    call("workspace stats", api.request("GET", f"{PREFIX}/stats", query=in_workspace), 200, targeted=False)
    workflow = {
        "workspace_id": WORKSPACE,
        "workflow_id": TRACK_BODY["workflow_id"],
        "overall_quality_score": 80,
    }
    call(
        "evaluate workflow (2 tracked, 1 already settled)",
        api.request("POST", f"{PREFIX}/outcomes/evaluate-workflow", body=workflow),
        200,
        targeted=False,
    )
    invalid = {**TRACK_BODY, "confidence_score": 2}
    call("track, invalid body (422)", api.request("POST", TRACK_PATH, body=invalid), 422, targeted=False)
    unknown = f"{PREFIX}/recommendations/rec_{'0' * 26}"
    call("get by id, unknown id (404)", api.request("GET", unknown, query=in_workspace), 404, targeted=False)
    return rows


# ---- import time ------------------------------------------------------------------------------------------
_MARKER = "-- bench: timed import starts --"
_IMPORT_HANDLER = """\
import importlib.util, sys, time
sys.path.insert(0, {layer!r})
sys.stderr.write({marker!r} + "\\n")
start = time.perf_counter()
spec = importlib.util.spec_from_file_location({name!r}, {path!r})
module = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = module
spec.loader.exec_module(module)
print(time.perf_counter() - start)
"""
_IMPORT_BOTO3 = """\
import sys, time
sys.stderr.write({marker!r} + "\\n")
start = time.perf_counter()
import boto3
print(time.perf_counter() - start)
"""


@dataclass(frozen=True)
class ImportSubject:
    label: str
    code: str
    environment: dict[str, str]
    function: str | None = None  # logical id; None for the boto3 baseline
    tracing: bool = True

    def run(self, *options: str) -> subprocess.CompletedProcess[str]:
        """A fresh, isolated interpreter (-I: no PYTHONPATH, no user site, no cwd on the path)."""
        return subprocess.run(
            [sys.executable, "-I", *options, "-c", self.code],
            env=self.environment,
            capture_output=True,
            text=True,
            check=True,
        )

    def seconds(self) -> float:
        return float(self.run().stdout.strip().splitlines()[-1])


def lambda_environment(spec: tpl.FunctionSpec, *, tracing: bool) -> dict[str, str]:
    """What Lambda gives the function: the template's variables, the runtime's own (a task root
    makes Powertools' Tracer take its in-Lambda path: X-Ray SDK loaded, libraries patched; the SDK
    then touches /tmp/.aws-xray/initialized, as it does in Lambda)."""
    credentials = {k: v for k, v in runtime.LOCAL_ENVIRONMENT.items() if k.startswith("AWS_")}
    environment = {
        "PATH": os.environ.get("PATH", ""),
        **spec.environment,
        **credentials,
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "AWS_LAMBDA_FUNCTION_NAME": spec.logical_id,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    }
    if not tracing:
        environment["POWERTOOLS_TRACE_DISABLED"] = "true"
    return environment


def import_subjects() -> list[ImportSubject]:
    specs = tpl.functions(tpl.load_template())
    subjects = [
        ImportSubject(
            "import boto3",
            _IMPORT_BOTO3.format(marker=_MARKER),
            lambda_environment(specs[0], tracing=True),
        )
    ]
    for spec in specs:
        module_file = spec.handler.rsplit(".", 1)[0]
        code = _IMPORT_HANDLER.format(
            layer=str(LAYER),
            marker=_MARKER,
            name=f"function_{spec.logical_id}",
            path=str(spec.code_dir / f"{module_file}.py"),
        )
        label = f"{spec.logical_id} ({spec.code_dir.relative_to(ROOT)}/{module_file}.py)"
        for tracing in (True, False):  # side by side, so each pair of runs sees the same machine
            environment = lambda_environment(spec, tracing=tracing)
            subjects.append(ImportSubject(label, code, environment, spec.logical_id, tracing))
    return subjects


@dataclass(frozen=True)
class ImportTime:
    subject: ImportSubject
    milliseconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.milliseconds)


def measure_imports(subjects: Sequence[ImportSubject], runs: int) -> list[ImportTime]:
    """Round-robin over the subjects, after one discarded round that warms the disk cache and
    writes the bytecode caches (Lambda's layer ships compiled bytecode too)."""
    samples: dict[str, list[float]] = {f"{s.label}/{s.tracing}": [] for s in subjects}
    for round_ in range(runs + 1):
        for subject in subjects:
            seconds = subject.seconds()
            if round_:
                samples[f"{subject.label}/{subject.tracing}"].append(seconds * 1000)
    return [ImportTime(s, samples[f"{s.label}/{s.tracing}"]) for s in subjects]


def import_breakdown(subject: ImportSubject, runs: int) -> dict[str, float]:
    """``-X importtime`` self time (ms) of the timed import, by top-level package; median of runs."""
    per_run: list[defaultdict[str, float]] = []
    for _ in range(runs):
        lines = subject.run("-X", "importtime").stderr.splitlines()
        totals: defaultdict[str, float] = defaultdict(float)
        for line in lines[lines.index(_MARKER) + 1 :]:
            if not line.startswith("import time:") or "imported package" in line:
                continue
            self_us, _, name = line.removeprefix("import time:").split("|")
            totals[_package_label(name.strip().split(".")[0])] += int(self_us) / 1000
        per_run.append(totals)
    packages = set().union(*per_run)
    return {package: statistics.median(run.get(package, 0.0) for run in per_run) for package in packages}


def _package_label(top_level: str) -> str:
    if top_level in sys.stdlib_module_names or top_level.startswith("_"):
        return f"{top_level.lstrip('_')} (stdlib)"
    return top_level


# ---- profile ----------------------------------------------------------------------------------------------

_STDLIB = Path(sysconfig.get_paths()["stdlib"])


def component(key: FunctionKey) -> str:
    """Who a function belongs to, for the profile's self-time table."""
    filename, _, function = key
    if filename.startswith("<frozen "):  # a frozen standard-library module
        return f"{filename.removeprefix('<frozen ').rstrip('>').lstrip('_')} (stdlib)"
    if filename.startswith("<"):
        return "generated code"
    if filename == "~":  # a C function
        if "pydantic_core" in function:
            return "pydantic"
        if "_json" in function:
            return "json (stdlib)"
        if "'write' of '_io" in function or "builtins.print" in function:
            return "stdout writes"
        return "C builtins (other)"
    path = Path(filename)
    if "site-packages" in path.parts:
        inside = path.parts[path.parts.index("site-packages") + 1 :]
        package = inside[0]
        if package == "aws_lambda_powertools":
            area = inside[2] if inside[1] == "utilities" and len(inside) > 3 else inside[1]
            return f"powertools {area.removesuffix('.py')}"
        if package in ("pydantic", "pydantic_core"):
            return "pydantic"
        if inside[:2] == ("boto3", "dynamodb"):
            return "boto3 TypeSerializer/TypeDeserializer"
        return package
    if path.is_relative_to(ROOT):
        if "swarm_learning" in path.parts:
            return "swarm_learning (domain, storage)"
        if "functions" in path.parts:
            return "functions/*/app.py"
        return f"{path.parent.relative_to(ROOT)} (benchmark, local runtime)"
    if path.is_relative_to(_STDLIB):
        return f"{path.relative_to(_STDLIB).parts[0].removesuffix('.py')} (stdlib)"
    return "other"


def function_label(key: FunctionKey) -> str:
    filename, line, function = key
    if filename == "~":
        return function
    path = Path(filename)
    for base in (ROOT, _STDLIB):
        if path.is_relative_to(base):
            path = path.relative_to(base)
            break
    else:
        if "site-packages" in path.parts:
            path = Path(*path.parts[path.parts.index("site-packages") + 1 :])
    return f"{path}:{line}({function})"


# cProfile's record of a function: (primitive calls, calls, self s, cumulative s, {caller: record}).
Record = tuple[int, int, float, float, dict[FunctionKey, tuple[int, int, float, float]]]


@dataclass(frozen=True)
class Profile:
    """cProfile's records of the handler path outside the DynamoDB client, summed over ``calls``;
    the raw path's self time outside the client; and each path's time inside the client."""

    operation: str
    calls: int
    handler: dict[FunctionKey, Record]
    spanning: frozenset[FunctionKey]
    raw_seconds: float
    handler_client_ns: int
    raw_client_ns: int

    def ms(self, seconds: float) -> float:
        return seconds * 1000 / self.calls

    @property
    def handler_ms(self) -> float:
        return self.ms(sum(record[2] for record in self.handler.values()))

    def by_component(self) -> defaultdict[str, float]:
        """Self time per component; a C builtin's time goes to the component of its caller."""
        totals: defaultdict[str, float] = defaultdict(float)
        for key, (_, _, self_s, _, callers) in self.handler.items():
            owner = component(key)
            if owner != "C builtins (other)":
                totals[owner] += self.ms(self_s)
                continue
            for caller, edge in callers.items():
                totals[component(caller)] += self.ms(edge[2])
            totals[owner] += self.ms(self_s - sum(edge[2] for edge in callers.values()))
        return totals

    def candidates(self) -> list[tuple[FunctionKey, float, float]]:
        """(function, cumulative ms, self ms) per call of the handler's libraries and code; the
        standard library, C builtins and the benchmark's frames are left out."""
        return [
            (key, self.ms(record[3]), self.ms(record[2]))
            for key, record in self.handler.items()
            if key[0] != "~"
            and not Path(key[0]).is_relative_to(_STDLIB)
            and not component(key).endswith("(benchmark, local runtime)")
        ]


@dataclass(frozen=True)
class ProfiledOperation:
    """An operation profiled in chunks of calls. Every figure reported is the median over the
    chunks, so one stalled call (a collection, a busy machine) cannot inflate a component."""

    operation: str
    chunks: list[Profile]

    @property
    def calls(self) -> int:
        return sum(chunk.calls for chunk in self.chunks)

    def median(self, figure: Callable[[Profile], float]) -> float:
        return statistics.median(figure(chunk) for chunk in self.chunks)

    def components(self) -> dict[str, float]:
        per_chunk = [chunk.by_component() for chunk in self.chunks]
        names: set[str] = set().union(*per_chunk)
        return {name: statistics.median(totals.get(name, 0.0) for totals in per_chunk) for name in names}

    def heaviest(self, count: int) -> list[tuple[FunctionKey, float, float]]:
        """The functions with the highest cumulative time, leaving out those cut by a client call."""
        spanning: set[FunctionKey] = set().union(*(chunk.spanning for chunk in self.chunks))
        per_chunk = [{key: (cumulative, own) for key, cumulative, own in c.candidates()} for c in self.chunks]
        keys = set().union(*per_chunk) - spanning
        rows = [
            (
                key,
                statistics.median(found.get(key, (0.0, 0.0))[0] for found in per_chunk),
                statistics.median(found.get(key, (0.0, 0.0))[1] for found in per_chunk),
            )
            for key in keys
        ]
        return sorted(rows, key=lambda row: -row[1])[:count]


def _records(profile: cProfile.Profile) -> dict[FunctionKey, Record]:
    profile.create_stats()
    return cast(dict[FunctionKey, Record], profile.stats)


PROFILE_CHUNKS = 5


def profile_operation(operation: Operation, calls: int) -> ProfiledOperation:
    clock = ClientClock()

    def chunk(size: int) -> Profile:
        handler_profile, raw_profile = cProfile.Profile(), cProfile.Profile()
        handler_client_ns = raw_client_ns = 0
        for _ in range(size):
            trial = operation.prepare()
            response, client_ns = clock.profiled(handler_profile, trial.handler)
            handler_client_ns += client_ns
            result, client_ns = clock.profiled(raw_profile, trial.raw)
            raw_client_ns += client_ns
            trial.finish(response, result)
            release_store_objects()
        return Profile(
            operation=operation.name,
            calls=size,
            handler=_records(handler_profile),
            spanning=frozenset(clock.spanning),
            raw_seconds=sum(record[2] for record in _records(raw_profile).values()),
            handler_client_ns=handler_client_ns,
            raw_client_ns=raw_client_ns,
        )

    with clock.installed(), frozen_heap():
        size = max(1, calls // PROFILE_CHUNKS)
        return ProfiledOperation(operation.name, [chunk(size) for _ in range(PROFILE_CHUNKS)])

    # ---- report -----------------------------------------------------------------------------------------------


def latency_section(latencies: Sequence[Latency], calls: int, warmup: int) -> str:
    rows = []
    for result in latencies:
        target = result.operation.target_ratio
        rows.append(
            [
                result.operation.name,
                f"{statistics.median(result.handler_ms):.2f}",
                f"{statistics.median(result.raw_ms):.2f}",
                f"{result.median_ratio:.2f}x",
                f"{percentile(result.handler_ms, 0.99):.2f}",
                f"{percentile(result.raw_ms, 0.99):.2f}",
                f"{result.p99_ratio:.2f}x",
                f"{statistics.median(result.handler_ms) - statistics.median(result.raw_ms):+.2f}",
                "—" if target is None else f"<= {target}x",
                verdict(result.passed),
            ]
        )
    headers = [
        "operation",
        "handler median ms",
        "raw median ms",
        "median ratio",
        "handler p99 ms",
        "raw p99 ms",
        "p99 ratio",
        "overhead ms (median)",
        "target (median)",
        "result",
    ]
    split_rows = []
    for result in latencies:
        handler_out = result.outside(result.handler_ms, result.handler_client_ms)
        raw_out = result.outside(result.raw_ms, result.raw_client_ms)
        split_rows.append(
            [
                result.operation.name,
                f"{statistics.median(result.handler_client_ms):.2f}",
                f"{statistics.median(result.raw_client_ms):.2f}",
                f"{handler_out:.2f}",
                f"{raw_out:.2f}",
                f"{handler_out - raw_out:+.2f}",
            ]
        )
    split = markdown_table(
        [
            "operation",
            "handler in client ms",
            "raw in client ms",
            "handler outside ms",
            "raw outside ms",
            "handler's own overhead ms",
        ],
        split_rows,
    )
    return (
        f"### Latency: handler vs. raw boto3, in-process ({calls} calls each after {warmup} warm-up, "
        "alternating)\n\n"
        f"{markdown_table(headers, rows)}\n\n"
        "Handler: as deployed (metrics on, logs at INFO; the Tracer is off, as outside Lambda), its stdout "
        "sent to /dev/null. Raw: the same DynamoDB requests (checked parameter by parameter) from a plain "
        "boto3 client. Overhead: handler median minus raw median.\n\n"
        "The same calls split at the DynamoDB client (medians; in client: botocore and the embedded "
        "store, the same requests on both paths; outside: everything else). The handler's own "
        "overhead does not depend on how fast the store is.\n\n"
        f"{split}"
    )


def round_trip_section(rows: Sequence[RoundTrips], seen: Counter[str]) -> str:
    table = markdown_table(
        ["request", "round trips", "DynamoDB operations", "target", "result"],
        [
            [
                row.request,
                str(len(row.operations)),
                ", ".join(row.operations) or "(none)",
                f"<= {TARGET_ROUND_TRIPS}" if row.targeted else "—",
                verdict(row.passed),
            ]
            for row in rows
        ],
    )
    everything = ", ".join(f"{name} {count}" for name, count in sorted(seen.items()))
    return (
        "### DynamoDB round trips per call (botocore before-send, all clients)\n\n"
        f"{table}\n\nEvery request of the whole run, by operation: {everything}. "
        f"Scan: {seen.get('Scan', 0)}."
    )


XRAY_PACKAGES = ("aws_xray_sdk", "wrapt")


def import_section(
    times: Sequence[ImportTime], breakdown_on: dict[str, float], breakdown_off: dict[str, float]
) -> str:
    baseline = next(t for t in times if t.subject.function is None).median
    traced = {t.subject.function: t for t in times if t.subject.function and t.subject.tracing}
    rows = []
    for result in times:
        subject = result.subject
        spread = f"{min(result.milliseconds):.0f} to {max(result.milliseconds):.0f}"
        if subject.function is None:
            rows.append([subject.label, "—", f"{result.median:.1f}", spread, "1.00x", "—", "—", "(baseline)"])
            continue
        ratio = result.median / baseline
        note = ""
        if not subject.tracing:
            on = traced[subject.function]
            # Paired by round (the two runs are adjacent), which cancels most of the machine's drift.
            saved = statistics.median(
                a - b for a, b in zip(on.milliseconds, result.milliseconds, strict=True)
            )
            note = f"on - off: {saved:.1f} ms ({saved / on.median:.0%} of the traced import)"
        rows.append(
            [
                subject.label,
                "on (as deployed)" if subject.tracing else "off",
                f"{result.median:.1f}",
                spread,
                f"{ratio:.2f}x",
                f"<= {TARGET_IMPORT_RATIO}x" if subject.tracing else "—",
                verdict(ratio <= TARGET_IMPORT_RATIO) if subject.tracing else "—",
                note,
            ]
        )
    runs = len(times[0].milliseconds)
    table = markdown_table(
        ["module", "tracing", "median ms", "min to max ms", "vs import boto3", "target", "result", "note"],
        rows,
    )

    def ms(breakdown: dict[str, float], package: str) -> str:
        return f"{breakdown.get(package, 0.0):.1f}"

    packages = sorted(breakdown_on.keys() | breakdown_off.keys(), key=lambda p: -breakdown_on.get(p, 0.0))
    shown = [p for p in packages if max(breakdown_on.get(p, 0.0), breakdown_off.get(p, 0.0)) >= 2.0]
    breakdown_rows = [[p, ms(breakdown_on, p), ms(breakdown_off, p)] for p in shown]
    rest_on = sum(v for p, v in breakdown_on.items() if p not in shown)
    rest_off = sum(v for p, v in breakdown_off.items() if p not in shown)
    total_on, total_off = sum(breakdown_on.values()), sum(breakdown_off.values())
    breakdown_rows.append(["everything else", f"{rest_on:.1f}", f"{rest_off:.1f}"])
    breakdown_rows.append(["total (-X importtime inflates it)", f"{total_on:.1f}", f"{total_off:.1f}"])
    breakdown = markdown_table(["package", "self ms, tracing on", "self ms, tracing off"], breakdown_rows)

    sdk = sum(breakdown_on.get(p, 0.0) for p in XRAY_PACKAGES)
    patched_only = sorted((p for p in breakdown_on if p not in breakdown_off), key=lambda p: -breakdown_on[p])
    patched = sum(breakdown_on[p] for p in patched_only)
    named = [p for p in patched_only if breakdown_on[p] >= 0.5]
    others = f" and {len(patched_only) - len(named)} more" if len(patched_only) > len(named) else ""
    tracing_share = (
        f"Tracer/X-Ray SDK share of the traced TrackFunction import, by `-X importtime` self time "
        f"(which overstates packages of many small modules; the on - off rows above are wall time): "
        f"{' + '.join(XRAY_PACKAGES)} {sdk:.1f} ms (loaded with tracing off too), plus {patched:.1f} ms "
        f"of modules imported only to be patched ({', '.join(named) or 'none'}{others}): "
        f"{(sdk + patched) / total_on:.0%} of {total_on:.1f} ms."
    )
    return (
        f"### Import time in a fresh interpreter (median of {runs} runs, round-robin)\n\n{table}\n\n"
        "#### TrackFunction import by package (`-X importtime` self time, median of 3 runs)\n\n"
        f"{breakdown}\n\n{tracing_share}"
    )


def profile_section(profiles: Sequence[ProfiledOperation], top: int) -> str:
    by_component = {p.operation: p.components() for p in profiles}
    everywhere: defaultdict[str, float] = defaultdict(float)
    for totals in by_component.values():
        for name, ms in totals.items():
            everywhere[name] += ms
    ranked = sorted(everywhere, key=lambda name: -everywhere[name])
    shown = [name for name in ranked if everywhere[name] / len(profiles) >= 0.02]
    rows = [[name, *(f"{by_component[p.operation].get(name, 0.0):.2f}" for p in profiles)] for name in shown]
    rest = [sum(v for k, v in by_component[p.operation].items() if k not in shown) for p in profiles]
    figures: list[tuple[str, Callable[[Profile], float]]] = [
        ("handler, outside the client (profiled)", lambda c: c.handler_ms),
        ("raw, outside the client (profiled)", lambda c: c.ms(c.raw_seconds)),
        ("handler, inside the client (unprofiled)", lambda c: c.handler_client_ns / 1e6 / c.calls),
        ("raw, inside the client (unprofiled)", lambda c: c.raw_client_ns / 1e6 / c.calls),
    ]
    rows.append(["everything else", *(f"{ms:.2f}" for ms in rest)])
    rows += [[label, *(f"{p.median(figure):.2f}" for p in profiles)] for label, figure in figures]
    table = markdown_table(["ms per call", *(p.operation for p in profiles)], rows)
    function_rows = [
        [profile.operation, function_label(key), f"{cumulative:.3f}", f"{own:.3f}"]
        for profile in profiles
        for key, cumulative, own in profile.heaviest(top)
    ]
    functions = markdown_table(["operation", "function", "cumulative ms", "self ms"], function_rows)
    return (
        f"### Where the handler's time goes outside the DynamoDB client (cProfile, {profiles[0].calls} "
        f"calls each, median of {PROFILE_CHUNKS} chunks)\n\n"
        "Self time per call by component (a C builtin counts for its caller). The profiler inflates "
        "Python-heavy code: read shares, not absolute values. Time inside client calls (botocore and "
        "the embedded store) is timed without the profiler.\n\n"
        f"{table}\n\n#### The handler's heaviest functions (per call, not cut by a client call)\n\n{functions}"
    )


def targets_section(
    latencies: Sequence[Latency],
    round_trips: Sequence[RoundTrips],
    seen: Counter[str],
    times: Sequence[ImportTime],
) -> tuple[str, bool]:
    rows = [
        [
            f"{r.operation.name} handler <= {r.operation.target_ratio}x raw (median)",
            f"{r.median_ratio:.2f}x",
            verdict(r.passed),
        ]
        for r in latencies
        if r.operation.target_ratio is not None
    ]
    targeted = [r for r in round_trips if r.targeted]
    worst = max(targeted, key=lambda r: len(r.operations))
    rows.append(
        [
            f"<= {TARGET_ROUND_TRIPS} DynamoDB round trips per call ({len(targeted)} request paths)",
            f"max {len(worst.operations)} ({worst.request})",
            verdict(all(r.passed for r in targeted)),
        ]
    )
    rows.append(
        ["no Scan on any request path", f"{seen.get('Scan', 0)} Scan requests", verdict("Scan" not in seen)]
    )
    baseline = next(t for t in times if t.subject.function is None).median
    traced = [t for t in times if t.subject.function is not None and t.subject.tracing]
    slowest = max(traced, key=lambda t: t.median)
    rows.append(
        [
            f"handler import <= {TARGET_IMPORT_RATIO}x import boto3 (tracing on)",
            f"max {slowest.median / baseline:.2f}x ({slowest.subject.function})",
            verdict(all(t.median / baseline <= TARGET_IMPORT_RATIO for t in traced)),
        ]
    )
    passed = all(row[2] == "PASS" for row in rows)
    return "### Targets\n\n" + markdown_table(["target", "measured", "result"], rows), passed


# ---- main -------------------------------------------------------------------------------------------------
def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=1000, help="timed calls per path and operation")
    parser.add_argument("--warmup", type=int, default=50, help="untimed calls per path first")
    parser.add_argument(
        "--page-items", type=int, default=5, help="recommendations the by-agent query returns"
    )
    parser.add_argument(
        "--import-runs", type=int, default=9, help="fresh interpreters per import measurement"
    )
    parser.add_argument(
        "--profile-calls", type=int, default=200, help="profiled calls per operation (0: skip)"
    )
    parser.add_argument("--top-functions", type=int, default=8, help="functions listed per operation")
    parser.add_argument("--strict", action="store_true", help="exit with status 1 when a target fails")
    args = parser.parse_args(argv)
    if args.calls < 1 or args.import_runs < 1 or not 1 <= args.page_items <= 25:
        parser.error("--calls and --import-runs must be positive, --page-items within 1..25")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_arguments(argv)
    command = shlex.join(["python", "-m", "bench.api", *(sys.argv[1:] if argv is None else argv)])
    # The Query function flushes no application metric; Powertools warns about it once per process.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    traffic = DynamoDBTraffic()
    traffic.install()
    started = time.monotonic()

    def progress(message: str) -> None:
        print(f"[{time.monotonic() - started:5.0f} s] {message}", file=sys.stderr, flush=True)

    builders: list[Callable[[Api, RawDynamoDB], Operation]] = [
        track_operation,
        evaluate_operation,
        lambda api, raw: agent_query_operation(api, raw, args.page_items),
    ]
    latencies: list[Latency] = []
    profiles: list[ProfiledOperation] = []
    with stdout_to_devnull():
        for build in builders:
            # A fresh store per operation: moto's Query walks the whole table, so its cost grows
            # with whatever earlier operations left behind. Every operation starts from small
            # tables, and every timed call leaves them as it found them.
            with runtime.embedded_aws() as functions:
                operation = build(Api(functions), RawDynamoDB())
                progress(f"latency: {operation.name}, {args.warmup} + {args.calls} calls per path")
                latencies.append(measure_latency(operation, traffic, calls=args.calls, warmup=args.warmup))
                if args.profile_calls:
                    progress(f"profile: {operation.name}, {args.profile_calls} calls per path")
                    profiles.append(profile_operation(operation, args.profile_calls))
        progress("round trips: every request path")
        with runtime.embedded_aws() as functions:
            round_trips = count_round_trips(Api(functions), traffic)

    progress(f"import time: {args.import_runs} + 1 fresh interpreters per module")
    subjects = import_subjects()
    times = measure_imports(subjects, args.import_runs)
    track_on, track_off = (s for s in subjects if s.function == "TrackFunction")
    breakdown_on, breakdown_off = import_breakdown(track_on, 3), import_breakdown(track_off, 3)

    targets, passed = targets_section(latencies, round_trips, traffic.seen, times)
    sections = [
        machine_line(("boto3", "moto", "aws-lambda-powertools", "pydantic", "aws-xray-sdk")),
        f"command: {command}",
        latency_section(latencies, args.calls, args.warmup),
        round_trip_section(round_trips, traffic.seen),
        import_section(times, breakdown_on, breakdown_off),
        *([profile_section(profiles, args.top_functions)] if profiles else []),
        targets,
    ]
    progress("done")
    print("\n\n".join(sections))
    return 1 if args.strict and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
