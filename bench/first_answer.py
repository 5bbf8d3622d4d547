"""Time to the first answer of `make run` on a fresh clone, with a warm package cache: this commit
against an earlier one (today's way: `make run` installed the whole test toolchain first), in one run.

    .venv/bin/python -m bench.first_answer [--before <git ref>] [--rounds 1]

Each round clones the repository (``git clone`` of this checkout, then ``git checkout <ref>``) into a
temporary directory, starts ``make run`` there (its own process group, its data in a temporary
``LOCALDEV_STATE_DIR``) and polls ``GET /api/v1/learning/health`` until it answers 200; the time
is from starting make to that answer. Then the whole group gets SIGTERM. The package caches (pip's,
uv's) are whatever this machine has: warm once either way has run here before. Rounds alternate
the two commits.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.report import machine_line, markdown_table, verdict

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 15.0
TIMEOUT_SECONDS = 1200


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(port: int) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://127.0.0.1:{port}/api/v1/learning/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def first_answer(ref: str, scratch: Path) -> float:
    clone = scratch / f"clone-{ref}-{time.monotonic_ns()}"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "checkout", "--quiet", ref], cwd=clone, check=True)
    port = _free_port()
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("VIRTUAL_ENV", "MAKEFLAGS", "MAKELEVEL")
    }
    environment["LOCALDEV_STATE_DIR"] = str(scratch / f"state-{port}")
    log = (scratch / f"make-{port}.log").open("wb")
    started = time.perf_counter()
    process = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=clone,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        while not _answers(port):
            if process.poll() is not None:
                raise RuntimeError(
                    f"make run at {ref} ended: {(scratch / f'make-{port}.log').read_text()[-2000:]}"
                )
            if time.perf_counter() - started > TIMEOUT_SECONDS:
                raise RuntimeError(f"make run at {ref}: no answer in {TIMEOUT_SECONDS} s")
            time.sleep(0.1)
        return time.perf_counter() - started
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=120)
        log.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", default="d979fdb", help="the commit to compare with (today's way)")
    parser.add_argument("--after", default="HEAD")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(argv)
    after = subprocess.run(
        ["git", "rev-parse", "--short", args.after], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()

    seconds: dict[str, list[float]] = {args.before: [], after: []}
    with tempfile.TemporaryDirectory() as scratch:
        for round_ in range(args.rounds):
            order = (args.before, after) if round_ % 2 == 0 else (after, args.before)
            for ref in order:
                seconds[ref].append(first_answer(ref, Path(scratch)))

    print(machine_line([]).rstrip("; "))
    print(
        f"command: python -m bench.first_answer {shlex.join(sys.argv[1:] if argv is None else argv)}".rstrip()
    )
    rows = [
        [ref, ", ".join(f"{s:.1f}" for s in samples), f"{statistics.median(samples):.1f}"]
        for ref, samples in seconds.items()
    ]
    print()
    print(markdown_table(["commit", "seconds to the first answer (each round)", "median"], rows))
    best = statistics.median(seconds[after])
    print(f"\n{verdict(best <= TARGET_SECONDS)}: {best:.1f} s at {after} (target <= {TARGET_SECONDS:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
