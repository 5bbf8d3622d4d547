"""Learning speed benchmark: how fast the learning cycle turns evaluated recommendations into patterns.

    python -m bench.learning_speed [--sizes 10000,100000,1000000] [--fpgrowth-max 1000000]
                                   [--e2e 10000] [--strict]       (from the repository root)

It prints a machine line, the command and markdown tables:

cycle        the whole in-memory cycle (``FeatureBuilder().extend(rows).build()`` then ``run_cycle``) on
             n synthetic evaluated rows streamed from a generator (never a list of all rows). Each size
             runs in a fresh interpreter (this script with a hidden flag), which times a pass that only
             consumes the generator and the cycle on the same stream; the cycle's time is the total
             less the generator's, so rec/s is what the layer does, not what the generator costs.
             Peak memory is the child's ``ru_maxrss`` (the process's RSS high-water mark) above its
             baseline after imports, and the whole process's; then one more pass under
             ``tracemalloc`` gives its peak of traced allocations (Python objects and numpy buffers).
mining       the miner (``patterns.frequent_itemsets``, from the FeatureTable) against mlxtend's
             FP-growth (``max_len=2``, the same minimum support of 20 rows) on the one-hot DataFrame
             of exactly the items the miner uses, on the same table; building that DataFrame is not
             timed (it is mlxtend's input format, not its work). The two sets of itemsets and their
             support counts must be identical, or the benchmark exits with status 1.
end to end   ``LearningCycleFunction`` invoked in-process on 10,000 evaluated recommendations in the
             embedded AWS of ``localdev.runtime`` (moto's DynamoDB with the template's tables): the
             read (``LearningStore.iter_evaluated``) against the rest (features, cycle, state and
             iteration writes). moto is an in-process emulator, so this is the local cost, not
             Lambda's.
targets      PASS/FAIL against the targets of the benchmark issue

Every random draw comes from ``random.Random(seed)``, so two runs see the same rows; ratios are
measured in the same run. docs/benchmarks.md explains the method and records a run.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.report import machine_line, markdown_table, verdict
from swarm_learning.domain.cycle import run_cycle
from swarm_learning.domain.evaluated import EvaluatedRow
from swarm_learning.domain.features import FeatureBuilder, FeatureTable
from swarm_learning.domain.patterns import MiningConfig, frequent_itemsets

ROOT = Path(__file__).resolve().parent.parent

if TYPE_CHECKING:
    import pandas as pd

    from localdev.planted import PlantedRecommendation

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
SEED = 20_250_601
MIN_SUPPORT = MiningConfig().min_support  # the miner's default, in rows
BEST_OF_SMALL = 3  # runs per measurement at sizes <= SMALL_SIZE (best kept); 1 above
SMALL_SIZE = 100_000

TARGET_RATE = 100_000  # recommendations per second through the in-memory cycle
TARGET_PEAK_BYTES = 1_500_000_000  # 1.5 GB (decimal: the stricter reading) at 1M rows
TARGET_PEAK_ROWS = 1_000_000
TARGET_MINER_RATIO = 1.0  # miner time / mlxtend time

# ---- the synthetic swarm -----------------------------------------------------------------------
SYNTHETIC_START = datetime(2025, 6, 1, tzinfo=UTC)
SYNTHETIC_SPAN_SECONDS = 7 * 86_400.0
SYNTHETIC_AGENTS = 200  # drawn with Zipf weights (1/rank): a few busy agents, a long tail
SYNTHETIC_TYPES = ("strategy", "content", "research", "analytics", "campaign")
SYNTHETIC_CONTENT_KEYS = (
    "action",
    "channels",
    "budget",
    "audience",
    "deadline",
    "tone",
    "region",
    "format",
    "language",
    "priority",
)
WORKFLOW_SIZE = 3  # rows per workflow
CONSENSUS_SHARE = 0.2  # workflows whose rows all propose one action
EXPERT_AGENTS = 2  # AGENT-000 and AGENT-001 are experts on "content"
OWN_ACTIONS = 4_096  # pool of action keys of rows proposing their own action
SHARED_ACTIONS = 64
KEY_SETS = 128  # pool of content-key tuples
CHUNK = 4_096  # rows drawn per batch of rng.choices
JITTER_SECONDS = 3_600.0  # rows arrive out of time order, as from the store's shards

# ---- end to end --------------------------------------------------------------------------------
E2E_RECOMMENDATIONS = 10_000
E2E_RUNS = 3
E2E_WORKSPACE = "ws_bench_learning"
WARMUP_WORKSPACE = "ws_bench_warmup"
LOOKBACK_DAYS = 7
MIN_PATTERN_CONFIDENCE = 0.7
BATCH_WRITE_ITEMS = 25  # BatchWriteItem's limit


class BenchmarkError(RuntimeError):
    """The benchmark could not measure what it claims to (an unexpected answer)."""


def synthetic_rows(count: int, *, seed: int = SEED) -> Iterator[EvaluatedRow]:
    """``count`` evaluated rows over 7 days, streamed, from pools drawn once (agents, action keys,
    content-key tuples) so each row costs a few draws. Agents are drawn with Zipf weights, so the
    long tail puts items and pairs on both sides of the miner's minimum support at every size.
    Workflows of three rows; in a fifth of them the three propose one action (consensus, approved
    95 %); the two busiest agents are experts on one type (92 %); otherwise approval follows the
    confidence band (low 15 %, medium 50 %, high 85 %)."""
    rng = random.Random(seed)
    agents = tuple(f"AGENT-{i:03d}" for i in range(SYNTHETIC_AGENTS))
    own_actions = tuple(f"{rng.getrandbits(64):016x}" for _ in range(OWN_ACTIONS))
    shared_actions = tuple(f"{rng.getrandbits(64):016x}" for _ in range(SHARED_ACTIONS))
    optional = SYNTHETIC_CONTENT_KEYS[1:]
    key_sets = tuple(
        ("action", *sorted(rng.sample(optional, rng.randrange(len(optional) // 2 + 1))))
        for _ in range(KEY_SETS)
    )
    jitter = tuple(rng.uniform(0.0, JITTER_SECONDS) for _ in range(CHUNK))
    agent_weights = list(itertools.accumulate(1.0 / rank for rank in range(1, SYNTHETIC_AGENTS + 1)))
    start = SYNTHETIC_START.timestamp()
    step = SYNTHETIC_SPAN_SECONDS / max(count, 1)
    draw = rng.random
    workflow_id, rtype, consensus, shared = "", "", False, ""
    for base in range(0, count, CHUNK):
        size = min(CHUNK, count - base)
        agent_codes = rng.choices(range(SYNTHETIC_AGENTS), cum_weights=agent_weights, k=size)
        keys = rng.choices(key_sets, k=size)
        for j in range(size):
            i = base + j
            workflow, member = divmod(i, WORKFLOW_SIZE)
            if member == 0:
                workflow_id = f"wf_{workflow:07d}"
                rtype = SYNTHETIC_TYPES[int(draw() * len(SYNTHETIC_TYPES))]
                consensus = draw() < CONSENSUS_SHARE
                shared = shared_actions[workflow % SHARED_ACTIONS]
            agent = agent_codes[j]
            if consensus:
                confidence = 0.6 + 0.39 * draw()
                action, p = shared, 0.95
            else:
                confidence = draw()
                action = own_actions[i % OWN_ACTIONS]
                if agent < EXPERT_AGENTS and rtype == "content":
                    p = 0.92
                elif confidence < 0.5:
                    p = 0.15
                elif confidence >= 0.8:
                    p = 0.85
                else:
                    p = 0.5
            yield EvaluatedRow(
                agents[agent],
                rtype,
                workflow_id,
                confidence,
                action,
                keys[j],
                start + i * step + jitter[j],
                draw() < p,
            )


def best_of(n: int) -> int:
    return BEST_OF_SMALL if n <= SMALL_SIZE else 1


# ---- 1. the in-memory cycle, one size per child process ------------------------------------------
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
    command = [sys.executable, str(Path(__file__).resolve()), "--child-cycle", str(n), "--seed", str(seed)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise BenchmarkError(f"the child for n={n} failed:\n{done.stderr}")
    return CycleRun(**json.loads(done.stdout.strip().splitlines()[-1]))


# ---- 2. the miner vs. mlxtend's FP-growth -------------------------------------------------------
@dataclass(frozen=True)
class MiningRun:
    n: int
    runs: int
    items: int
    miner: float
    mlxtend: float
    miner_itemsets: int
    mlxtend_itemsets: int
    only_miner: int
    only_mlxtend: int
    support_differs: int

    @property
    def same(self) -> bool:
        return not (self.only_miner or self.only_mlxtend or self.support_differs)

    @property
    def ratio(self) -> float:
        return self.miner / self.mlxtend


def one_hot(table: FeatureTable) -> pd.DataFrame:
    """The boolean one-hot matrix of exactly the miner's items, named as the miner names them."""
    import numpy as np
    import pandas as pd

    columns: dict[str, Any] = {}
    for slot in table.slots():
        for index, label in enumerate(slot.labels):
            columns[f"{slot.name}={label}"] = np.asarray(slot.codes == index)
    for k, label in enumerate(table.content_labels):
        columns[f"has={label}"] = np.ascontiguousarray(table.content[:, k])
    return pd.DataFrame(columns)


def mlxtend_fraction(count: int, n: int) -> float:
    """mlxtend takes a fraction and rounds ``fraction * n`` up to a count: ``count / n``, or just
    under it if floating point would round up past ``count`` (then it still means ``>= count``)."""
    fraction = count / n
    return fraction if math.ceil(fraction * n) == count else (count - 0.5) / n


def timed(function: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Best of ``runs`` wall times, and the last result."""
    best, result = math.inf, None
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def measure_mining(n: int, seed: int) -> MiningRun:
    from mlxtend.frequent_patterns import fpgrowth

    table = FeatureBuilder().extend(synthetic_rows(n, seed=seed)).build()
    frame = one_hot(table)  # not timed: mlxtend's input format
    runs = best_of(n)
    miner_seconds, itemsets = timed(lambda: frequent_itemsets(table, MIN_SUPPORT), runs)
    fraction = mlxtend_fraction(MIN_SUPPORT, n)
    mlxtend_seconds, found = timed(
        lambda: fpgrowth(frame, min_support=fraction, use_colnames=True, max_len=2), runs
    )
    ours: dict[frozenset[str], int] = itemsets.as_dict()
    theirs = {
        frozenset(items): round(support * n)
        for items, support in zip(found["itemsets"], found["support"], strict=True)
    }
    return MiningRun(
        n=n,
        runs=runs,
        items=frame.shape[1],
        miner=miner_seconds,
        mlxtend=mlxtend_seconds,
        miner_itemsets=len(ours),
        mlxtend_itemsets=len(theirs),
        only_miner=len(ours.keys() - theirs.keys()),
        only_mlxtend=len(theirs.keys() - ours.keys()),
        support_differs=sum(ours[k] != theirs[k] for k in ours.keys() & theirs.keys()),
    )


# ---- 3. end to end through the function, on moto ------------------------------------------------
@dataclass(frozen=True)
class EndToEnd:
    recommendations: int
    seed_seconds: float
    invoke: list[float]  # per run: the whole invocation
    inside: list[float]  # per run: time spent in iter_evaluated's next() during the invocation
    read: list[float]  # per run: a separate iter_evaluated pass
    patterns: int

    @property
    def invoke_median(self) -> float:
        return statistics.median(self.invoke)

    @property
    def inside_median(self) -> float:
        return statistics.median(self.inside)

    @property
    def read_median(self) -> float:
        return statistics.median(self.read)


@contextmanager
def timed_reads(store: Any, spent: list[float]) -> Iterator[None]:
    """Wrap ``store.iter_evaluated`` so the time its consumer waits on each row adds up in ``spent``."""
    original = store.iter_evaluated

    def iter_evaluated(*args: Any, **kwargs: Any) -> Iterator[EvaluatedRow]:
        rows = original(*args, **kwargs)
        while True:
            started = time.perf_counter()
            row = next(rows, None)
            spent.append(time.perf_counter() - started)
            if row is None:
                return
            yield row

    setattr(store, "iter_evaluated", iter_evaluated)  # noqa: B010 (an instance attribute over the method)
    try:
        yield
    finally:
        delattr(store, "iter_evaluated")


@contextmanager
def quiet_stdout() -> Iterator[None]:
    """Silence the handlers' logs and metrics. The Logger's handler holds the ``sys.stdout`` of
    import time, so ``redirect_stdout`` alone would not catch it: file descriptor 1 goes to
    /dev/null as well."""
    sys.stdout.flush()
    saved = os.dup(1)
    sink = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(sink, 1)
        with redirect_stdout(StringIO()):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(sink)


def planted(count: int, *, seed: int, start: datetime, span: timedelta) -> list[PlantedRecommendation]:
    """``count`` recommendations of the planted-pattern swarm (real content, so the stored action
    key, content keys and content JSON agree, as the tracker stores them)."""
    from localdev.planted import planted_workflows

    chosen: list[PlantedRecommendation] = []
    for workflow in planted_workflows(count, seed=seed, start=start, span=span):
        chosen.extend(workflow[: count - len(chosen)])
        if len(chosen) == count:
            break
    return chosen


def stored_item(
    workspace_id: str, recommendation: PlantedRecommendation, *, shards: int, retention_days: int
) -> dict[str, Any]:
    """The recommendation item as ``LearningStore.insert_recommendation`` writes it for the
    tracker's record, after ``record_evaluation`` settled it (approved or rejected)."""
    from swarm_learning.dal.keys import (
        REC_SK,
        agent_key,
        agent_type_key,
        recommendation_key,
        shard_key,
        shard_of,
        workflow_key,
    )
    from swarm_learning.domain.evaluated import canonical_action, content_keys
    from swarm_learning.ids import new_outcome_id, new_recommendation_id

    created_at = recommendation.created_at
    evaluated_at = created_at + timedelta(minutes=5)
    rid = new_recommendation_id(created_at)
    ws, agent, rtype = workspace_id, recommendation.agent_id, recommendation.recommendation_type
    workflow = recommendation.workflow_id
    content = recommendation.content
    return {
        # the tracker's record
        "recommendation_id": rid,
        "workspace_id": ws,
        "agent_id": agent,
        "agent_name": agent,
        "workflow_id": workflow,
        "recommendation_type": rtype,
        "content_json": json.dumps(content, separators=(",", ":"), ensure_ascii=False, sort_keys=True),
        "evidence_json": "{}",
        "action_key": canonical_action(content),
        "content_keys": list(content_keys(content)),
        "confidence_score": recommendation.confidence_score,
        "reasoning": "",
        "execution_status": "completed",
        "created_at": created_at.isoformat(),
        # insert_recommendation's keys
        "pk": recommendation_key(ws, rid),
        "sk": REC_SK,
        "agent_pk": agent_key(ws, agent),
        "agent_type_pk": agent_type_key(ws, agent, rtype),
        "workflow_pk": workflow_key(ws, workflow),
        "shard_pk": shard_key(ws, shard_of(rid, shards)),
        # record_evaluation's settlement
        "status": "approved" if recommendation.approved else "rejected",
        "outcome_id": new_outcome_id(evaluated_at),
        "evaluated_at": evaluated_at.isoformat(),
        "overall_quality_score": 90.0 if recommendation.approved else 30.0,
        "expires_at": int((evaluated_at + timedelta(days=retention_days)).timestamp()),
    }


def batch_write(client: Any, table: str, items: Iterable[dict[str, Any]]) -> None:
    from swarm_learning.dal.items import serialize

    pending = [{"PutRequest": {"Item": serialize(item)}} for item in items]
    while pending:
        batch, pending = pending[:BATCH_WRITE_ITEMS], pending[BATCH_WRITE_ITEMS:]
        unprocessed = client.batch_write_item(RequestItems={table: batch}).get("UnprocessedItems", {})
        pending.extend(unprocessed.get(table, []))


def measure_end_to_end(count: int, seed: int, runs: int = E2E_RUNS) -> EndToEnd:
    import boto3

    from localdev import runtime

    with runtime.embedded_aws() as functions:
        from swarm_learning.config import get_settings
        from swarm_learning.dal.learner_state import get_learner_store
        from swarm_learning.dal.store import get_store
        from swarm_learning.services.learning.base import new_iteration_id

        settings = get_settings()
        client = boto3.client("dynamodb", region_name=runtime.REGION)
        now = datetime.now(UTC)
        # Inside the 7-day lookback of every run below.
        recommendations = planted(
            count, seed=seed, start=now - timedelta(days=6, hours=12), span=timedelta(days=6)
        )
        started = time.perf_counter()
        batch_write(
            client,
            settings.recommendations_table,
            (
                stored_item(
                    E2E_WORKSPACE, r, shards=settings.workspace_shards, retention_days=settings.retention_days
                )
                for r in recommendations
            ),
        )
        seed_seconds = time.perf_counter() - started

        def cycle(workspace_id: str, spent: list[float]) -> dict[str, Any]:
            at = datetime.now(UTC)
            iteration_id = new_iteration_id(at)
            get_learner_store().create_iteration(
                workspace_id,
                iteration_id,
                {
                    "requested_at": at,
                    "trigger": "on_demand",
                    "lookback_days": LOOKBACK_DAYS,
                    "min_pattern_confidence": MIN_PATTERN_CONFIDENCE,
                },
            )
            event = {
                "detail-type": "LearningCycleRequested",
                "source": "swarm.learning",
                "detail": {
                    "workspace_id": workspace_id,
                    "iteration_id": iteration_id,
                    "lookback_days": LOOKBACK_DAYS,
                    "min_pattern_confidence": MIN_PATTERN_CONFIDENCE,
                },
            }
            begun = time.perf_counter()
            with quiet_stdout(), timed_reads(get_store(), spent):
                functions.invoke("LearningCycleFunction", event)
            seconds = time.perf_counter() - begun
            iteration = get_learner_store().get_iteration(workspace_id, iteration_id)
            if iteration is None or iteration["status"] != "succeeded":
                raise BenchmarkError(f"iteration {iteration_id} did not succeed: {iteration}")
            return {"seconds": seconds, **iteration["result"]}

        cycle(WARMUP_WORKSPACE, [])  # clients, lazy imports: the timed runs are warm invocations
        invoke, inside, read, samples, patterns = [], [], [], set(), set()
        for _ in range(runs):
            spent: list[float] = []
            result = cycle(E2E_WORKSPACE, spent)
            invoke.append(result["seconds"])
            inside.append(sum(spent))
            samples.add(result["samples_analyzed"])
            patterns.add(result["patterns_discovered"])
            until = datetime.now(UTC)
            begun = time.perf_counter()
            rows = sum(
                1
                for _ in get_store().iter_evaluated(
                    E2E_WORKSPACE, since=until - timedelta(days=LOOKBACK_DAYS), until=until
                )
            )
            read.append(time.perf_counter() - begun)
            if rows != count:
                raise BenchmarkError(f"iter_evaluated read {rows} rows, expected {count}")
        if samples != {count}:
            raise BenchmarkError(f"samples_analyzed {sorted(samples)}, expected {count}")
        return EndToEnd(count, seed_seconds, invoke, inside, read, max(patterns))


# ---- reporting ------------------------------------------------------------------------------------


def mib(size: float) -> str:
    return f"{size / 2**20:,.1f}"


def progress_printer() -> Callable[[str], None]:
    started = time.monotonic()

    def progress(message: str) -> None:
        print(f"[{time.monotonic() - started:5.0f} s] {message}", file=sys.stderr, flush=True)

    return progress


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


def mining_section(runs: Sequence[MiningRun]) -> str:
    table = markdown_table(
        [
            "n",
            "items",
            "runs (best kept)",
            "itemsets miner / mlxtend",
            "same itemsets",
            "frequent_itemsets s",
            "mlxtend fpgrowth s",
            "miner / mlxtend",
            "target met",
        ],
        [
            [
                f"{r.n:,}",
                f"{r.items}",
                f"{r.runs}",
                f"{r.miner_itemsets:,} / {r.mlxtend_itemsets:,}",
                "yes"
                if r.same
                else f"no ({r.only_miner} only ours, {r.only_mlxtend} only mlxtend, "
                f"{r.support_differs} supports differ)",
                f"{r.miner:.4f}",
                f"{r.mlxtend:.3f}",
                f"{r.ratio:.4f}x",
                verdict(r.same and r.ratio <= TARGET_MINER_RATIO),
            ]
            for r in runs
        ],
    )
    same = all(r.same for r in runs)
    return "\n\n".join(
        [
            f"### Mining: frequent_itemsets vs. mlxtend fpgrowth (itemsets of 1-2 items, support >= {MIN_SUPPORT} rows)",
            "The same FeatureTable as above. mlxtend gets the boolean one-hot DataFrame of exactly the miner's "
            "items (one column per slot value, `slot=label`, and one per content attribute, `has=label`), "
            f"built beforehand and not timed; `fpgrowth(df, min_support={MIN_SUPPORT}/n, use_colnames=True, "
            "max_len=2)`. The miner is timed from the FeatureTable. Itemsets compared as "
            "{frozenset(items): support count}, mlxtend's count = round(support * n). Target: miner / mlxtend <= "
            f"{TARGET_MINER_RATIO:.1f}x.",
            table,
            f"same itemsets: {'yes' if same else 'no'}",
        ]
    )


def end_to_end_section(result: EndToEnd) -> str:
    n = result.recommendations
    invoke, inside, read = result.invoke_median, result.inside_median, result.read_median
    rest = [total - reading for total, reading in zip(result.invoke, result.inside, strict=True)]

    def row(step: str, seconds: float, runs: Sequence[float]) -> list[str]:
        return [
            step,
            f"{seconds:.3f}",
            f"{n / seconds:,.0f}",
            f"{seconds / invoke:.0%}",
            ", ".join(f"{s:.3f}" for s in runs),
        ]

    rows = [
        row("LearningCycleFunction invocation", invoke, result.invoke),
        row("  read: waiting on iter_evaluated's rows, inside the invocation", inside, result.inside),
        row("  the rest: features, cycle, state and iteration writes", statistics.median(rest), rest),
        row("read: a separate iter_evaluated pass (cross-check)", read, result.read),
    ]
    return "\n\n".join(
        [
            f"### End to end: LearningCycleFunction on {n:,} evaluated recommendations (embedded AWS, moto)",
            f"Planted-pattern swarm (localdev.planted, seed {SEED}) written with BatchWriteItem in the item "
            "layout of insert_recommendation + record_evaluation (recommendation items only: the cycle reads "
            f"neither outcome items nor statistics buckets), {result.seed_seconds:.1f} s to seed. Each run: "
            "create_iteration, then the invocation is timed (a warm-up invocation on an empty workspace came "
            "first), with the store's iter_evaluated wrapped to add up the time the cycle waits on each row; "
            f"then a separate iter_evaluated pass over the same {LOOKBACK_DAYS}-day window is timed. Median of "
            f"{len(result.invoke)} runs; every iteration succeeded with samples_analyzed = {n:,} "
            f"({result.patterns} patterns). moto is an in-process emulator: this is the local cost, not Lambda's.",
            markdown_table(["step", "seconds (median)", "rec/s", "of the invocation", "runs s"], rows),
        ]
    )


Target = tuple[str, str, bool | None]


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


def mining_targets(runs: Sequence[MiningRun]) -> list[Target]:
    targets: list[Target] = [
        (
            f"frequent_itemsets / mlxtend fpgrowth <= {TARGET_MINER_RATIO:.1f}x at {r.n:,} rows",
            f"{r.ratio:.4f}x",
            r.ratio <= TARGET_MINER_RATIO,
        )
        for r in runs
    ]
    same = all(r.same for r in runs)
    targets.append(
        ("the miner and mlxtend find the same itemsets and supports", "yes" if same else "no", same)
    )
    return targets


# ---- main -----------------------------------------------------------------------------------------
def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}") from None
    if not sizes or any(size <= 0 for size in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be positive: {text!r}")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=list(DEFAULT_SIZES),
        help="comma-separated row counts (default: %(default)s)",
    )
    parser.add_argument(
        "--fpgrowth-max",
        type=int,
        default=1_000_000,
        help="compare with mlxtend only up to this many rows (default: %(default)s)",
    )
    parser.add_argument(
        "--e2e",
        type=int,
        default=E2E_RECOMMENDATIONS,
        help="evaluated recommendations for the end-to-end run, 0 to skip (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=SEED, help=argparse.SUPPRESS)
    parser.add_argument("--child-cycle", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--strict", action="store_true", help="exit with status 1 when a target fails")
    args = parser.parse_args(argv)

    if args.child_cycle is not None:
        print(json.dumps(child_cycle(args.child_cycle, args.seed)))
        return 0

    command = "python -m bench.learning_speed" + "".join(
        [
            f" --sizes {','.join(map(str, args.sizes))}" if args.sizes != list(DEFAULT_SIZES) else "",
            f" --fpgrowth-max {args.fpgrowth_max}" if args.fpgrowth_max != 1_000_000 else "",
            f" --e2e {args.e2e}" if args.e2e != E2E_RECOMMENDATIONS else "",
            " --strict" if args.strict else "",
        ]
    )
    progress = progress_printer()
    sections = [machine_line(("numpy", "pandas", "mlxtend", "moto")), f"command: {command}"]
    targets: list[Target] = []

    cycles: list[CycleRun] = []
    for n in args.sizes:
        progress(f"cycle: {n:,} rows in a child process")
        cycles.append(measure_cycle(n, args.seed))
    sections.append(cycle_section(cycles))
    targets.extend(cycle_targets(cycles))

    mining: list[MiningRun] = []
    for n in args.sizes:
        if n > args.fpgrowth_max:
            continue
        progress(f"mining: {n:,} rows, frequent_itemsets vs. mlxtend fpgrowth")
        mining.append(measure_mining(n, args.seed))
    if mining:
        sections.append(mining_section(mining))
        targets.extend(mining_targets(mining))

    if args.e2e > 0:
        progress(f"end to end: {args.e2e:,} recommendations through LearningCycleFunction on moto")
        end_to_end = measure_end_to_end(args.e2e, args.seed)
        sections.append(end_to_end_section(end_to_end))
        targets.append(
            (
                f"end to end on moto, {end_to_end.recommendations:,} recommendations (no target)",
                f"{end_to_end.invoke_median:.2f} s, {end_to_end.recommendations / end_to_end.invoke_median:,.0f} rec/s",
                None,
            )
        )

    sections.append(
        "### Targets\n\n"
        + markdown_table(["target", "measured", "result"], [[n, m, verdict(p)] for n, m, p in targets])
    )
    progress("done")
    print("\n\n".join(sections))
    if not all(r.same for r in mining):
        return 1
    return 1 if args.strict and any(passed is False for _, _, passed in targets) else 0


if __name__ == "__main__":
    sys.exit(main())
