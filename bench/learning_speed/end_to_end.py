"""The learning-cycle function invoked in-process on the embedded AWS: the read against the rest."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import TYPE_CHECKING, Any

from bench.report import markdown_table
from swarm_learning.domain.evaluated import EvaluatedRow

if TYPE_CHECKING:
    from localdev.planted import PlantedRecommendation

from bench.learning_speed.rows import SEED, BenchmarkError
from bench.report import planted_recommendations

E2E_RECOMMENDATIONS = 10_000


E2E_RUNS = 3


E2E_WORKSPACE = "ws_bench_learning"


WARMUP_WORKSPACE = "ws_bench_warmup"


LOOKBACK_DAYS = 7


MIN_PATTERN_CONFIDENCE = 0.7


BATCH_WRITE_ITEMS = 25  # BatchWriteItem's limit


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
    return list(planted_recommendations(count, seed=seed, start=start, span=span, limit=count))


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
