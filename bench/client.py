"""Client benchmark: what tracking costs the orchestrator, and what batching buys.

    python -m bench.client [--calls 5000] [--rate 2000] [--events 400]     (from the repository root)

The local server (embedded DynamoDB, the real handlers) runs in a child process, so the measured
caller shares its interpreter only with the client's own worker thread, as in an orchestrator.
The command prints a machine line, the command, and markdown tables:

caller       track() on the calling thread, while the background worker sends to the server:
             median / p99 / max in µs per call, paced at --rate calls/s and unpaced
throughput   events/s stored by the local server: the batched client (flush at the end) vs one
             HTTP call per event (POST /recommendations/track, /outcomes/evaluate), same run
dynamodb     DynamoDB requests and written items per 100 events (60 tracks of 3 agents and 2 types,
             40 evaluations), batched vs one by one, and a retried track; counted in-process
targets      PASS/FAIL against the issue's targets

docs/benchmarks.md records a run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from bench.report import Target, add_results_option, header, markdown_table, results_file, targets_section
from swarm_learning_client import SwarmLearningClient, new_outcome_id, new_recommendation_id

WORKSPACE = "ws_bench"
AGENTS = ("STRAT-01", "CONTENT-02", "ANALYST-03")
TYPES = ("strategy", "content")
TARGET_MEDIAN_US, TARGET_P99_US, TARGET_SPEEDUP = 20.0, 200.0, 5.0


# ---- the server, in a child process --------------------------------------------------------------
def _serve(connection: Any) -> None:
    """Child process: the embedded AWS and the local server; sends back (url, key), serves until
    told to stop."""
    import os

    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the handlers' logs, for the process's life
    from localdev import runtime

    runtime.configure_environment()
    from localdev.server import serving
    from swarm_learning.services.keys.service import KeyRequest, get_key_service

    with runtime.embedded_aws() as functions, serving(functions, port=0, quiet=True) as server:
        key = get_key_service().issue(KeyRequest(name="bench", workspaces=[WORKSPACE])).api_key
        connection.send((server.url, key))
        connection.recv()  # until the parent is done


@contextmanager
def local_server() -> Iterator[tuple[str, str]]:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_serve, args=(child,), daemon=True)
    process.start()
    try:
        yield parent.recv()
    finally:
        parent.send("stop")
        process.join(30)


# ---- events ---------------------------------------------------------------------------------------
def track_fields(n: int) -> dict[str, Any]:
    return {
        "agent_id": AGENTS[n % len(AGENTS)],
        "recommendation_type": TYPES[n % len(TYPES)],
        "recommendation_content": {"channels": ["linkedin", "email"][: 1 + n % 2], "n": n},
        "confidence_score": 0.5 + (n % 50) / 100,
        "reasoning": "Based on cohort analysis",
        "workflow_id": f"move_{n // 4}",
    }


def track_body(n: int, recommendation_id: str | None = None) -> dict[str, Any]:
    fields = track_fields(n)
    body = {
        "workspace_id": WORKSPACE,
        "agent_id": fields["agent_id"],
        "agent_name": fields["agent_id"],
        "recommendation_type": fields["recommendation_type"],
        "recommendation_content": fields["recommendation_content"],
        "confidence_score": fields["confidence_score"],
        "reasoning": fields["reasoning"],
        "workflow_id": fields["workflow_id"],
    }
    if recommendation_id:
        body["recommendation_id"] = recommendation_id
    return body


# ---- caller cost ----------------------------------------------------------------------------------
def caller_cost(url: str, key: str, calls: int, rate: float | None) -> dict[str, Any]:
    """track() timed on the calling thread while the worker sends (pacing by sleeping: an
    orchestrator waits on its agents between recommendations)."""
    client = SwarmLearningClient(url, key, workspace_id=WORKSPACE, max_queue_size=max(10_000, calls))
    fields = [track_fields(n) for n in range(calls)]
    for n in range(200):  # warm-up: the worker thread, the connection, the id encoder
        client.track(**fields[n % calls])
    client.flush(60)
    durations = []
    interval = 1 / rate if rate else 0.0
    started = time.perf_counter()
    clock = time.perf_counter_ns
    for n in range(calls):
        before = clock()
        client.track(**fields[n])
        durations.append(clock() - before)
        if interval:
            time.sleep(interval)
    elapsed = time.perf_counter() - started
    stats = client.stats()
    # The local server ingests far fewer events/s than a tight loop tracks: what it has not
    # taken after a few seconds is abandoned (counted), not waited for.
    client.close(timeout=5)
    durations.sort()
    return {
        "median": statistics.median(durations) / 1000,
        "p99": durations[int(len(durations) * 0.99) - 1] / 1000,
        "max": durations[-1] / 1000,
        "rate": calls / elapsed,
        "batches": stats.batches,
        "queued": stats.queued,
        "dropped": stats.dropped,
    }


# ---- throughput -----------------------------------------------------------------------------------
def batched_throughput(url: str, key: str, events: int) -> tuple[float, int]:
    client = SwarmLearningClient(url, key, workspace_id=WORKSPACE, max_queue_size=events * 2)
    tracks = events // 2
    started = time.perf_counter()
    for n in range(tracks):
        rid = client.track(**track_fields(n))
        client.evaluate(rid, overall_quality_score=float(40 + n % 60))
    assert client.flush(600), "not everything was sent"
    elapsed = time.perf_counter() - started
    stats = client.stats()
    client.close()
    assert stats.failed == 0, stats
    return 2 * tracks / elapsed, stats.batches


def single_throughput(url: str, key: str, events: int) -> tuple[float, int]:
    http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    tracks = events // 2
    started = time.perf_counter()
    for n in range(tracks):
        rid = new_recommendation_id()
        response = http.post("/api/v1/learning/recommendations/track", json=track_body(n, rid))
        assert response.status_code == 201, response.text
        evaluation = {
            "workspace_id": WORKSPACE,
            "recommendation_id": rid,
            "outcome_id": new_outcome_id(),
            "overall_quality_score": float(40 + n % 60),
        }
        response = http.post("/api/v1/learning/outcomes/evaluate", json=evaluation)
        assert response.status_code == 200, response.text
    elapsed = time.perf_counter() - started
    http.close()
    return 2 * tracks / elapsed, 2 * tracks


# ---- DynamoDB requests ----------------------------------------------------------------------------
def dynamodb_requests() -> list[tuple[str, int, int]]:
    """(path, requests, items written) for 100 events, counted in-process on the embedded AWS."""
    import json

    import boto3
    from botocore.handlers import BUILTIN_HANDLERS

    from localdev import runtime

    calls: Counter[str] = Counter()
    written = [0]

    def count(model: Any, params: dict[str, Any], **_: Any) -> None:
        if params.get("TableName") == "ApiKeysTable":  # the authorizer's lookup, cached in API Gateway
            return
        calls[model.name] += 1
        if model.name == "TransactWriteItems":
            written[0] += len(params["TransactItems"])
        elif model.name in ("PutItem", "UpdateItem", "DeleteItem"):
            written[0] += 1

    # Into botocore's built-in handlers, before any session exists: every client counts (the
    # store's, and Powertools idempotency's own).
    assert boto3.DEFAULT_SESSION is None, "count before any boto3 session exists"
    BUILTIN_HANDLERS.insert(0, ("provide-client-params.dynamodb", count))
    runtime.configure_environment()
    from swarm_learning.services.keys.service import KeyRequest, get_key_service

    rows = []
    with runtime.embedded_aws() as functions:
        key = get_key_service().issue(KeyRequest(name="bench", workspaces=[WORKSPACE])).api_key

        def post(path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
            response = functions.gateway.request(
                "POST",
                f"/api/v1/learning{path}",
                query={},
                headers={
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {key}",
                    **(headers or {}),
                },
                body=json.dumps(body),
            )
            assert response["statusCode"] < 300, response["body"]
            return json.loads(response["body"])

        def measure(label: str, action: Any) -> None:
            calls.clear()
            written[0] = 0
            action()
            rows.append((label, sum(calls.values()), written[0], dict(calls)))

        ids = [new_recommendation_id() for _ in range(60)]

        def one_by_one() -> None:
            for n, rid in enumerate(ids):
                post("/recommendations/track", track_body(n, rid))
            for n, rid in enumerate(ids[:40]):
                post(
                    "/outcomes/evaluate",
                    {"workspace_id": WORKSPACE, "recommendation_id": rid, "overall_quality_score": 80.0 - n},
                )

        batch_ids = [new_recommendation_id() for _ in range(60)]
        events: list[dict[str, Any]] = [
            {"type": "track", **{k: v for k, v in track_body(n, rid).items() if k != "workspace_id"}}
            for n, rid in enumerate(batch_ids)
        ]
        events += [
            {"type": "evaluate", "recommendation_id": rid, "overall_quality_score": 80.0 - n}
            for n, rid in enumerate(batch_ids[:40])
        ]

        def batched() -> None:
            answer = post("/events/batch", {"workspace_id": WORKSPACE, "events": events})
            assert all(r["status"] == 201 for r in answer["results"]), answer

        measure("100 events one by one (60 POST track + 40 POST evaluate)", one_by_one)
        measure("100 events in one POST /events/batch", batched)
        retry_id = new_recommendation_id()
        measure(
            "a retry-safe track, client-minted id",
            lambda: post("/recommendations/track", track_body(0, retry_id)),
        )
        measure(
            "a retried track, client-minted id (answered 200 as stored)",
            lambda: post("/recommendations/track", track_body(0, retry_id)),
        )
        measure(
            "a retry-safe track, Idempotency-Key (Powertools)",
            lambda: post("/recommendations/track", track_body(0), {"Idempotency-Key": "bench-retry-0001"}),
        )
        measure(
            "a retried track, Idempotency-Key (Powertools)",
            lambda: post("/recommendations/track", track_body(0), {"Idempotency-Key": "bench-retry-0001"}),
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=5_000, help="track() calls timed per caller run")
    parser.add_argument("--rate", type=float, default=2_000.0, help="paced caller: track() calls per second")
    parser.add_argument("--events", type=int, default=400, help="events per throughput run")
    args = add_results_option(parser).parse_args()
    with results_file(args.save):
        report(args)


def report(args: argparse.Namespace) -> None:
    print(header(["httpx", "boto3", "moto", "aws-lambda-powertools"], "bench.client"))

    with local_server() as (url, key):
        paced = caller_cost(url, key, args.calls, args.rate)
    with local_server() as (url, key):
        unpaced = caller_cost(url, key, args.calls, None)
    with local_server() as (url, key):  # a fresh server: the same table for both senders
        batched_rate, batched_requests = batched_throughput(url, key, args.events)
        single_rate, single_requests = single_throughput(url, key, args.events)

    print(
        f"\n### Caller cost of track() while the worker sends ({args.calls:,} calls, local server in a child process)\n"
    )
    print(
        markdown_table(
            [
                "caller",
                "median µs",
                "p99 µs",
                "max µs",
                "calls/s",
                "batches sent meanwhile",
                "queued at the end",
                "dropped",
            ],
            [
                (
                    label,
                    f"{r['median']:.1f}",
                    f"{r['p99']:.1f}",
                    f"{r['max']:.0f}",
                    f"{r['rate']:,.0f}",
                    r["batches"],
                    r["queued"],
                    r["dropped"],
                )
                for label, r in ((f"paced at {args.rate:,.0f}/s", paced), ("unpaced (tight loop)", unpaced))
            ],
        )
    )
    speedup = batched_rate / single_rate
    print(
        f"\n### Ingestion throughput against the local server ({args.events:,} events: half tracks, half evaluations)\n"
    )
    print(
        markdown_table(
            ["sender", "events/s", "HTTP requests", "speed-up"],
            [
                (
                    "batched client (background worker, flush at the end)",
                    f"{batched_rate:,.0f}",
                    batched_requests,
                    f"{speedup:.1f}x",
                ),
                ("one HTTP call per event", f"{single_rate:,.0f}", single_requests, "1.0x"),
            ],
        )
    )
    print(
        "\n### DynamoDB requests per call path (botocore, every client; the authorizer's key lookup excluded)\n"
    )
    rows = dynamodb_requests()
    print(
        markdown_table(
            ["what", "requests", "items in the write requests", "by operation"],
            [
                (label, n, items, ", ".join(f"{op} {c}" for op, c in sorted(ops.items())))
                for label, n, items, ops in rows
            ],
        )
    )
    targets: list[Target] = [
        (
            f"track() median <= {TARGET_MEDIAN_US:.0f} µs (paced)",
            f"{paced['median']:.1f} µs",
            paced["median"] <= TARGET_MEDIAN_US,
        ),
        (
            f"track() p99 <= {TARGET_P99_US:.0f} µs (paced)",
            f"{paced['p99']:.1f} µs",
            paced["p99"] <= TARGET_P99_US,
        ),
        (f"batched >= {TARGET_SPEEDUP:.0f}x events/s", f"{speedup:.1f}x", speedup >= TARGET_SPEEDUP),
    ]
    print("\n" + targets_section(targets, result_header="verdict"))


if __name__ == "__main__":
    main()
