"""Handler against raw latency, paired call by call, and the DynamoDB round trips of every request path."""

from __future__ import annotations

import contextvars
import cProfile
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

from botocore.client import BaseClient
from moto.core.model_instances import reset_model_data

from bench.api.calls import (
    AGENT,
    EVALUATE_PATH,
    IDEMPOTENCY_KEY,
    PREFIX,
    SCORES,
    TARGET_ROUND_TRIPS,
    TRACK_BODY,
    TRACK_PATH,
    WORKSPACE,
    Api,
    BenchmarkError,
    DynamoDBTraffic,
    Invocation,
    expect,
    request_shape,
)
from bench.api.raw import Operation
from bench.report import alternating, percentile


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
        handler, raw = alternating(
            index, lambda: _timed(trial.handler, traffic, clock), lambda: _timed(trial.raw, traffic, clock)
        )
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
