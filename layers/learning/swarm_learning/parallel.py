"""Concurrent DynamoDB reads on thread pools made once per process, reused by every invocation.

A Lambda execution environment keeps module state between invocations and runs one at a time, so a
pool made at import starts its threads on the first requests that need them and keeps them; a pool
made per request started them again every time (on a busy two-core machine, most of a listing's
time). Threads wait on the network, not on the interpreter, so 16 of them cost little.

Two pools, because per-agent work waits on partition reads: a task of the agent pool may submit to
the partition pool, never the other way round, and no task waits on its own pool (a pool whose
every worker waits on a task queued behind them would never finish).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

READ_WORKERS = 16
# Per agent (or candidate) of a request: scoring, series, routing posteriors, the refresh job.
AGENT_READS = ThreadPoolExecutor(max_workers=READ_WORKERS, thread_name_prefix="agent-reads")
# Per partition of one read: a workspace's statistics shards, its time shards.
PARTITION_READS = ThreadPoolExecutor(max_workers=READ_WORKERS, thread_name_prefix="partition-reads")


def map_all(pool: ThreadPoolExecutor, work: Callable[[Item], Result], items: Iterable[Item]) -> list[Result]:
    """``work`` on every item concurrently, the results in the items' order. Every task has
    finished when it returns or raises (the first failure in order): none outlives the request
    that started it, as none did when the pool was closed at the end of the request."""
    futures = [pool.submit(work, item) for item in items]
    wait(futures)
    return [future.result() for future in futures]
