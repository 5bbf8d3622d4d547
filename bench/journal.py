"""What the local server's journal costs a write: HTTP request time with the journal off, on, and on
with ``fsync``, in one run.

    .venv/bin/python -m bench.journal [--blocks 12] [--per-block 25]

One real local server (``localdev.server``, the embedded DynamoDB, a ``localdev.persistence.Store``
in a temporary directory) on a free port; one keep-alive HTTP client sends
``POST /recommendations/track`` (one TransactWriteItems, journaled as one line) and
``POST /outcomes/evaluate`` (a Query and a transaction) in blocks, the three modes round-robin block
by block so each sees the same machine and a store of about the same size. Times are the client's,
from sending the request to reading the whole answer. The ratio is each mode's median over the
journal-off median.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import shlex
import statistics
import sys
import tempfile
import threading
import time
import warnings
from contextlib import redirect_stdout
from pathlib import Path

from bench.report import machine_line, markdown_table, verdict
from localdev import persistence
from localdev.devkey import ServerFiles, dev_key
from localdev.runtime import embedded_aws
from localdev.server import LocalApiServer

TARGET_RATIO = 1.2
MODES = ("journal off", "journal on", "journal on + fsync")
WORKSPACE = "ws_demo"


def _track_body(number: int) -> bytes:
    return json.dumps(
        {
            "workspace_id": WORKSPACE,
            "agent_id": f"AGENT-{number % 8}",
            "agent_name": "Bench",
            "recommendation_type": "strategy",
            "recommendation_content": {"n": number},
            "confidence_score": 0.7,
            "reasoning": "bench",
        }
    ).encode()


def _evaluate_body(recommendation_id: str) -> bytes:
    return json.dumps(
        {
            "workspace_id": WORKSPACE,
            "recommendation_id": recommendation_id,
            "quality_scores": {"accuracy": 80},
            "overall_quality_score": 80,
        }
    ).encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--blocks", type=int, default=12, help="blocks per mode")
    parser.add_argument("--per-block", type=int, default=25, help="tracks (and evaluations) per block")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message="No application metrics to publish")

    times: dict[tuple[str, str], list[float]] = {(m, r): [] for m in MODES for r in ("track", "evaluate")}
    with tempfile.TemporaryDirectory() as scratch, embedded_aws() as functions:
        server = LocalApiServer(("127.0.0.1", 0), functions, quiet=True)
        server.access_log = False
        store = persistence.Store(Path(scratch) / "store", server.invoke_lock)
        store.open()
        with redirect_stdout(io.StringIO()):
            key, _ = dev_key(ServerFiles(Path(scratch) / "files"), (WORKSPACE,))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=60)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

        def post(path: str, body: bytes) -> tuple[float, dict]:
            started = time.perf_counter()
            connection.request("POST", f"/api/v1/learning{path}", body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            took = time.perf_counter() - started
            assert response.status < 300, (response.status, payload[:200])
            return took, json.loads(payload)

        number = 0
        for block in range(args.blocks + 1):  # the first round warms the handlers up, unrecorded
            for mode in MODES:
                assert store.journal is not None
                persistence.journal_to(None if mode == "journal off" else store.journal)
                store.journal.fsync = mode.endswith("fsync")
                for _ in range(args.per_block):
                    number += 1
                    took, tracked = post("/recommendations/track", _track_body(number))
                    evaluated, _ = post("/outcomes/evaluate", _evaluate_body(tracked["recommendation_id"]))
                    if block:
                        times[(mode, "track")].append(took)
                        times[(mode, "evaluate")].append(evaluated)
        journal_lines = store.journal.lines if store.journal else 0
        connection.close()
        server.shutdown()
        server.server_close()
        store.close()

    print(machine_line(["moto", "boto3"]))
    print(f"command: python -m bench.journal {shlex.join(sys.argv[1:] if argv is None else argv)}".rstrip())
    print(
        f"{args.blocks} blocks x {args.per_block} tracks + evaluations per mode, round-robin; "
        f"{journal_lines} journal lines written\n"
    )
    rows = []
    worst = 0.0
    for request in ("track", "evaluate"):
        base = statistics.median(times[("journal off", request)])
        for mode in MODES:
            samples = times[(mode, request)]
            ratio = statistics.median(samples) / base
            if mode == "journal on":
                worst = max(worst, ratio)
            rows.append(
                [
                    request,
                    mode,
                    f"{statistics.median(samples) * 1000:.2f}",
                    f"{statistics.quantiles(samples, n=20)[-1] * 1000:.2f}",
                    f"{ratio:.3f}x",
                ]
            )
    print(markdown_table(["request", "mode", "median ms", "p95 ms", "median / off"], rows))
    print(
        f"\n{verdict(worst <= TARGET_RATIO)}: journal on {worst:.3f}x the request time (target <= {TARGET_RATIO}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
