"""The process-wide read pools: results in order, no task outliving the call, threads reused."""

from __future__ import annotations

import threading
import time

import pytest

from swarm_learning.parallel import AGENT_READS, PARTITION_READS, map_all


def test_results_come_back_in_the_items_order_whatever_finishes_first() -> None:
    first_may_finish = threading.Event()

    def work(n: int) -> int:
        if n == 0:
            assert first_may_finish.wait(5)
        if n == 3:
            first_may_finish.set()
        return n * n

    assert map_all(AGENT_READS, work, range(4)) == [0, 1, 4, 9]


def test_a_failure_is_raised_after_every_task_has_finished() -> None:
    finished: list[int] = []

    def work(n: int) -> int:
        if n == 0:
            raise ValueError("shard 0 failed")
        time.sleep(0.2)  # still running when the failure is known
        finished.append(n)
        return n

    with pytest.raises(ValueError, match="shard 0 failed"):
        map_all(PARTITION_READS, work, range(4))
    assert sorted(finished) == [1, 2, 3]


def test_calls_reuse_the_pools_threads() -> None:
    def thread_name(_: int) -> str:
        return threading.current_thread().name

    names = {name for _ in range(5) for name in map_all(AGENT_READS, thread_name, range(4))}
    assert all(name.startswith("agent-reads") for name in names)
    assert len(names) <= 16


def test_an_agent_task_may_wait_on_partition_reads() -> None:
    def agent(n: int) -> int:
        return sum(map_all(PARTITION_READS, lambda shard: shard + n, range(8)))

    assert map_all(AGENT_READS, agent, range(32)) == [28 + 8 * n for n in range(32)]
