"""What each local speed-up of moto (``localdev.moto_patches``) still gains, now that the views are
fast: the same seeded workload with all of them, with none, and with all but one, in one run.

    .venv/bin/python -m bench.moto_patches [--days 7] [--workflows-per-day 12] [--runs 3]

Each configuration runs in a fresh process (the patches replace moto's classes process-wide;
``LOCALDEV_MOTO_PATCHES`` picks them): it seeds ``ws_demo`` with ``--days`` of simulated history
in-process (``localdev.history.seed_history``: tracks, evaluations, trust refreshes, learning
cycles: the writes), then sends every request of the dashboard's views (``bench.dashboard_requests
.REQUESTS``: the reads) through the local API gateway, one warm-up and ``--runs`` rounds. Reported:
the seeding's CPU seconds and the sum over the requests of each one's median CPU, each against
all patches on. A patch whose removal costs nothing measurable on either is not earning its place.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
import warnings
from contextlib import redirect_stdout
from typing import Any

from bench.report import machine_line, markdown_table

PATCHES = ("transactions", "expressions", "reads")
WORKSPACE = "ws_demo"


def configurations() -> list[tuple[str, str]]:
    """(label, LOCALDEV_MOTO_PATCHES)."""
    return [
        ("all", ",".join(PATCHES)),
        *((f"all but {name}", ",".join(p for p in PATCHES if p != name)) for name in PATCHES),
        ("none", "none"),
    ]


def child(days: int, workflows_per_day: int, runs: int) -> dict[str, Any]:
    """One configuration's workload, in this process."""
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    from bench.dashboard_requests import REQUESTS
    from localdev import moto_patches, runtime
    from localdev.devkey import issue_dev_key
    from localdev.history import seed_history

    runtime.configure_environment()
    with runtime.embedded_aws() as functions:
        key = issue_dev_key((WORKSPACE,))
        started = time.process_time()
        with redirect_stdout(io.StringIO()):
            seed_history(WORKSPACE, days=days, workflows_per_day=workflows_per_day)
        seeding = time.process_time() - started

        def send(method: str, path: str, params: dict[str, Any]) -> None:
            query = {k: [str(v)] for k, v in params.items()} if method == "GET" else {}
            body = json.dumps({"workspace_id": WORKSPACE, **params}) if method == "POST" else None
            if method == "GET":
                query["workspace_id"] = [WORKSPACE]
            with redirect_stdout(io.StringIO()):
                response = functions.gateway.request(
                    method,
                    f"/api/v1/learning{path}",
                    query=query,
                    headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                    body=body,
                )
            assert response["statusCode"] < 300, (path, response["statusCode"])

        cpu: list[list[float]] = [[] for _ in REQUESTS]
        for round_ in range(runs + 1):
            for index, (_, method, path, params) in enumerate(REQUESTS):
                started = time.process_time()
                send(method, path, params)
                if round_:
                    cpu[index].append(time.process_time() - started)
        return {
            "installed": list(moto_patches.installed),
            "seeding_cpu": seeding,
            "reads_cpu": sum(statistics.median(samples) for samples in cpu),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--workflows-per-day", type=int, default=12)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.days, args.workflows_per_day, args.runs)))
        return 0

    results: dict[str, dict[str, Any]] = {}
    for label, chosen in configurations():
        ran = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.moto_patches",
                "--child",
                f"--days={args.days}",
                f"--workflows-per-day={args.workflows_per_day}",
                f"--runs={args.runs}",
            ],
            env={**os.environ, "LOCALDEV_MOTO_PATCHES": chosen},
            capture_output=True,
            text=True,
            check=True,
        )
        results[label] = json.loads(ran.stdout.strip().splitlines()[-1])

    base = results["all"]
    print(machine_line(["moto", "boto3"]))
    print(
        f"command: python -m bench.moto_patches {shlex.join(sys.argv[1:] if argv is None else argv)}".rstrip()
    )
    print(
        f"seeded {args.days} days x {args.workflows_per_day} workflows; {args.runs} rounds of the dashboard's requests\n"
    )
    rows = [
        [
            label,
            ", ".join(result["installed"]) or "—",
            f"{result['seeding_cpu']:.1f}",
            f"{result['seeding_cpu'] / base['seeding_cpu']:.2f}x",
            f"{result['reads_cpu'] * 1000:.0f}",
            f"{result['reads_cpu'] / base['reads_cpu']:.2f}x",
        ]
        for label, result in results.items()
    ]
    print(
        markdown_table(
            [
                "configuration",
                "installed",
                "seeding CPU s",
                "vs all",
                "reads CPU ms (sum of medians)",
                "vs all",
            ],
            rows,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
