"""Where a dashboard view's time goes on the server: each API request the views make, its CPU time
and its DynamoDB calls, on the local runtime seeded with simulated history.

    python -m bench.dashboard_requests [--days 21] [--workflows-per-day 12] [--runs 5]

Seeds ``ws_demo`` as ``bench.dashboard`` does (in-process, ``localdev.history.seed_history``), then
sends every request of ``REQUESTS`` through the local API gateway in-process (authorizer, handler,
embedded DynamoDB; no HTTP, no browser): one warm-up, then ``--runs`` calls each, round-robin.
CPU is the process's (every thread: the handlers read with thread pools); DynamoDB calls are
counted per operation by a botocore handler installed before any client exists.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import threading
import time
from collections import Counter
from contextlib import redirect_stdout
from typing import Any

from botocore.handlers import BUILTIN_HANDLERS

from bench.report import header, markdown_table, results_file, seeded_workspace, seeded_workspace_arguments
from localdev import runtime

WORKSPACE = "ws_demo"
# What dashboard/js/views/*.js ask for; GET /stats is the overview's before it summed its series.
REQUESTS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("(overview, before)", "GET", "/stats", {"days": 30}),
    ("overview", "GET", "/series/workspace", {"days": 30}),
    ("overview", "GET", "/learning-cycles", {"limit": 20}),
    ("overview, agents", "GET", "/trust-scores", {}),
    ("agents", "GET", "/series/trust", {"days": 30, "limit": 100}),
    ("agent detail", "GET", "/trust-scores/CONT-01", {}),
    ("agent detail", "GET", "/trust-scores/CONT-01/history", {"limit": 120}),
    ("agent detail", "GET", "/agent-profiles/CONT-01", {}),
    ("agent detail", "GET", "/recommendations/agent/CONT-01", {"limit": 20}),
    ("patterns", "GET", "/patterns", {"limit": 500}),
    ("patterns", "POST", "/decision-rules/suggest", {"context": {}}),
    ("cycles", "GET", "/learning-cycles", {"limit": 50}),
    ("routing", "GET", "/series/routing", {"days": 30}),
    ("routing", "GET", "/routing/decisions", {"days": 30, "limit": 50}),
]

_calls: Counter[str] = Counter()
_lock = threading.Lock()


def _count(model: Any, **_: Any) -> None:
    with _lock:
        _calls[model.name] += 1


def main() -> int:
    args = seeded_workspace_arguments(__doc__).parse_args()

    # Into botocore's built-in handlers before any session exists: every client counts.
    BUILTIN_HANDLERS.insert(0, ("provide-client-params.dynamodb", _count))
    runtime.configure_environment()

    with runtime.embedded_aws() as functions:
        key, seeded, seeding = seeded_workspace(WORKSPACE, args)

        def send(method: str, path: str, params: dict[str, Any]) -> None:
            query = {k: [str(v)] for k, v in params.items()} if method == "GET" else {}
            body = json.dumps({"workspace_id": WORKSPACE, **params}) if method == "POST" else None
            if method == "GET":
                query["workspace_id"] = [WORKSPACE]
            with redirect_stdout(io.StringIO()):  # the handlers' logs and metrics
                response = functions.gateway.request(
                    method,
                    f"/api/v1/learning{path}",
                    query=query,
                    headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                    body=body,
                )
            assert response["statusCode"] < 300, (path, response["statusCode"], response["body"][:200])

        for _, method, path, params in REQUESTS:
            send(method, path, params)  # warm-up: handlers, clients, caches
        cpu: list[list[float]] = [[] for _ in REQUESTS]
        wall: list[list[float]] = [[] for _ in REQUESTS]
        calls: list[Counter[str]] = [Counter() for _ in REQUESTS]
        for _ in range(args.runs):
            for i, (_, method, path, params) in enumerate(REQUESTS):
                _calls.clear()
                clock, processor = time.perf_counter(), time.process_time()
                send(method, path, params)
                wall[i].append(time.perf_counter() - clock)
                cpu[i].append(time.process_time() - processor)
                calls[i] = Counter(_calls)

    with results_file(args.save):
        report(args, seeded, seeding, cpu, wall, calls)
    return 0


def report(
    args: argparse.Namespace,
    seeded: Any,
    seeding: float,
    cpu: list[list[float]],
    wall: list[list[float]],
    calls: list[Counter[str]],
) -> None:
    print(header(["boto3", "moto", "aws-lambda-powertools"], "bench.dashboard_requests"))
    print(
        f"seeded: {seeded.days} days, {seeded.tracked} recommendations, {seeded.routing_decisions} routing "
        f"decisions, {seeded.learning_cycles} cycles ({seeding:.0f} s); {args.runs} calls per request\n"
    )
    rows = [
        (
            view,
            f"{method} {path}",
            f"{statistics.median(cpu[i]) * 1000:.0f}",
            f"{statistics.median(wall[i]) * 1000:.0f}",
            sum(calls[i].values()),
            ", ".join(f"{n} {op}" for op, n in sorted(calls[i].items())),
        )
        for i, (view, method, path, _) in enumerate(REQUESTS)
    ]
    print(
        markdown_table(
            ["view", "request", "CPU ms (median)", "wall ms (median)", "DynamoDB calls", "by operation"], rows
        )
    )


if __name__ == "__main__":
    sys.exit(main())
