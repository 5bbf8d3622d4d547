"""The whole in-memory cycle by size, each size in a fresh interpreter: rate and peak memory, and its targets."""

from __future__ import annotations

import gc
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench.report import ROOT, Target, markdown_table, verdict
from swarm_learning.domain.cycle import run_cycle
from swarm_learning.domain.features import FeatureBuilder

if TYPE_CHECKING:
    pass

from bench.learning_speed.rows import (
    BEST_OF_SMALL,
    CONSENSUS_SHARE,
    SEED,
    SMALL_SIZE,
    SYNTHETIC_AGENTS,
    SYNTHETIC_CONTENT_KEYS,
    SYNTHETIC_START,
    SYNTHETIC_TYPES,
    WORKFLOW_SIZE,
    BenchmarkError,
    best_of,
    mib,
    synthetic_rows,
)

TARGET_RATE = 100_000  # recommendations per second through the in-memory cycle


TARGET_PEAK_BYTES = 1_500_000_000  # 1.5 GB (decimal: the stricter reading) at 1M rows


TARGET_PEAK_ROWS = 1_000_000


@dataclass(frozen=True)
class CycleRun:
    n: int
    runs: int
    generate: float  # best pass that only consumes the generator
    total: float  # best generator + extend + build + run_cycle
    extend: float  # of the best total: FeatureBuilder.extend, generator included
    build: float
    cycle: float  # run_cycle
    patterns: int
    baseline_rss: int  # bytes: ru_maxrss after imports
    peak_rss: int  # bytes: ru_maxrss after the timed passes
    traced_peak: int  # bytes: tracemalloc's peak over one more pass

    @property
    def cycle_seconds(self) -> float:
        """Builder + build + run_cycle, net of the generator."""
        return self.total - self.generate

    @property
    def rate(self) -> float:
        return self.n / self.cycle_seconds

    @property
    def peak_above_baseline(self) -> int:
        return self.peak_rss - self.baseline_rss

    def memory_met(self) -> bool | None:
        return self.peak_rss <= TARGET_PEAK_BYTES if self.n <= TARGET_PEAK_ROWS else None


def max_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def one_cycle(n: int, seed: int) -> tuple[float, float, float, int]:
    """Extend, build and run_cycle on a fresh stream: the three durations and the pattern count."""
    started = time.perf_counter()
    builder = FeatureBuilder().extend(synthetic_rows(n, seed=seed))
    extended = time.perf_counter()
    table = builder.build()
    del builder
    built = time.perf_counter()
    result = run_cycle("ws_bench", table, iteration_id="iter_bench", started_at=SYNTHETIC_START)
    done = time.perf_counter()
    return extended - started, built - extended, done - built, result.patterns_discovered


def child_cycle(n: int, seed: int) -> dict[str, Any]:
    """Runs in the child: everything ``CycleRun`` holds, as JSON-ready values."""
    baseline = max_rss_bytes()
    generate: list[float] = []
    totals: list[tuple[float, float, float, float, int]] = []
    for _ in range(best_of(n)):
        started = time.perf_counter()
        deque(synthetic_rows(n, seed=seed), maxlen=0)
        generate.append(time.perf_counter() - started)
        extend, build, cycle, patterns = one_cycle(n, seed)
        totals.append((extend + build + cycle, extend, build, cycle, patterns))
        gc.collect()
    peak = max_rss_bytes()
    tracemalloc.start()
    one_cycle(n, seed)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    total, extend, build, cycle, patterns = min(totals)
    return {
        "n": n,
        "runs": len(totals),
        "generate": min(generate),
        "total": total,
        "extend": extend,
        "build": build,
        "cycle": cycle,
        "patterns": patterns,
        "baseline_rss": baseline,
        "peak_rss": peak,
        "traced_peak": traced_peak,
    }


def measure_cycle(n: int, seed: int) -> CycleRun:
    """Run one size in a fresh interpreter (this script, ``--child-cycle``) and read its answer."""
    command = [sys.executable, "-m", "bench.learning_speed", "--child-cycle", str(n), "--seed", str(seed)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise BenchmarkError(f"the child for n={n} failed:\n{done.stderr}")
    return CycleRun(**json.loads(done.stdout.strip().splitlines()[-1]))


def cycle_met(run: CycleRun) -> bool:
    return run.rate >= TARGET_RATE and run.memory_met() is not False


def cycle_section(runs: Sequence[CycleRun]) -> str:
    main = markdown_table(
        ["n", "generate s", "cycle s", "rec/s", "peak RSS MiB", "target met"],
        [
            [
                f"{r.n:,}",
                f"{r.generate:.3f}",
                f"{r.cycle_seconds:.3f}",
                f"{r.rate:,.0f}",
                mib(r.peak_above_baseline),
                verdict(cycle_met(r)),
            ]
            for r in runs
        ],
    )
    detail = markdown_table(
        [
            "n",
            "runs (best kept)",
            "extend, net of generator s",
            "build s",
            "run_cycle s",
            "patterns",
            "baseline RSS MiB",
            "process peak RSS MiB",
            "tracemalloc peak MiB",
        ],
        [
            [
                f"{r.n:,}",
                f"{r.runs}",
                f"{r.extend - r.generate:.3f}",
                f"{r.build:.3f}",
                f"{r.cycle:.3f}",
                f"{r.patterns}",
                mib(r.baseline_rss),
                mib(r.peak_rss),
                mib(r.traced_peak),
            ]
            for r in runs
        ],
    )
    return "\n\n".join(
        [
            "### In-memory cycle: FeatureBuilder().extend(rows).build() + run_cycle, rows streamed",
            f"Synthetic rows ({SYNTHETIC_AGENTS} agents with Zipf weights, {len(SYNTHETIC_TYPES)} types, workflows of "
            f"{WORKFLOW_SIZE}, {CONSENSUS_SHARE:.0%} consensus workflows, {len(SYNTHETIC_CONTENT_KEYS)} content "
            f"keys, seed {SEED}), each size in a fresh interpreter. Generate s: a pass that only consumes the "
            "generator; cycle s: generator + extend + build + run_cycle, less generate s; rec/s = n / cycle s. "
            "Peak RSS MiB: ru_maxrss after the timed passes less ru_maxrss after imports. Target: >= "
            f"{TARGET_RATE:,} rec/s, and a process peak RSS <= {TARGET_PEAK_BYTES / 1e9:.1f} GB "
            f"({mib(TARGET_PEAK_BYTES)} MiB) up to {TARGET_PEAK_ROWS:,} rows. Best of {BEST_OF_SMALL} up to "
            f"{SMALL_SIZE:,} rows, one run above.",
            main,
            "Where the cycle's time and memory go (the tracemalloc peak comes from one more, untimed pass):",
            detail,
        ]
    )


def cycle_targets(runs: Sequence[CycleRun]) -> list[Target]:
    targets: list[Target] = [
        (f"in-memory cycle >= {TARGET_RATE:,} rec/s at {r.n:,} rows", f"{r.rate:,.0f}", r.rate >= TARGET_RATE)
        for r in runs
    ]
    targets.extend(
        (
            f"process peak RSS <= {TARGET_PEAK_BYTES / 1e9:.1f} GB at {r.n:,} rows",
            f"{mib(r.peak_rss)} MiB ({mib(r.peak_above_baseline)} MiB above baseline)",
            r.memory_met(),
        )
        for r in runs
        if r.n == TARGET_PEAK_ROWS
    )
    return targets
