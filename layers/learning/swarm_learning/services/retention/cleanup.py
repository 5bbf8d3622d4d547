"""The weekly cleanup (the specification's cleanup_old_recommendations): delete what is past retention
that DynamoDB's TTL has not removed yet (TTL can lag by days).

Finding is key-range and partition queries (``LearningStore.expired_*``), never a scan of live
data. Deleting is one conditional ``DeleteItem`` per item (``expires_at <= now``), so an item
renewed since it was found is never touched and a second or concurrent run deletes nothing twice;
BatchWriteItem would be fewer calls but cannot carry that condition. Deletes go out in batches of
``BATCH_SIZE`` in parallel; items that fail (throttled past botocore's retries) are retried in
later rounds, and a run that still cannot delete them raises, so the schedule retries it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from itertools import islice

from botocore.exceptions import BotoCoreError, ClientError

from swarm_learning.dal.items import ExpiredItem
from swarm_learning.dal.learner_state import LearnerStateStore, get_learner_store
from swarm_learning.dal.store import LearningStore, get_store

BATCH_SIZE = 25
PARALLEL_DELETES = 8
ROUNDS = 3


class CleanupIncompleteError(Exception):
    """Some expired items could not be deleted after every round; the run should be retried."""


@dataclass
class CleanupReport:
    run_at: datetime
    dry_run: bool
    expired: Counter[str] = field(default_factory=Counter)  # found past retention, per kind
    deleted: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)  # renewed or already gone when deleted
    workspaces: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "run_at": self.run_at.isoformat(),
            "dry_run": self.dry_run,
            "workspaces": self.workspaces,
            "expired": dict(sorted(self.expired.items())),
            "deleted": dict(sorted(self.deleted.items())),
            "skipped": dict(sorted(self.skipped.items())),
        }


def _batches(items: Iterable[ExpiredItem], size: int) -> Iterator[list[ExpiredItem]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class Cleanup:
    def __init__(
        self,
        store: LearningStore,
        learner: LearnerStateStore,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store = store
        self._learner = learner
        self._sleep = sleep

    def expired(self, now: datetime, workspaces: dict[str, list[str]]) -> Iterator[ExpiredItem]:
        for workspace_id, agents in sorted(workspaces.items()):
            yield from self._store.expired_recommendations(workspace_id, now=now)
            yield from self._store.expired_statistics(workspace_id, agents, now=now)
            yield from self._learner.expired_history(workspace_id, now=now)

    def run(self, now: datetime, *, dry_run: bool = False) -> CleanupReport:
        workspaces = self._store.workspace_agents()
        report = CleanupReport(run_at=now, dry_run=dry_run, workspaces=len(workspaces))
        failed: list[ExpiredItem] = []
        with ThreadPoolExecutor(max_workers=PARALLEL_DELETES) as pool:
            for batch in _batches(self.expired(now, workspaces), BATCH_SIZE):
                report.expired.update(item.kind for item in batch)
                if not dry_run:
                    failed.extend(self._delete(pool, batch, now, report))
            for round_number in range(1, ROUNDS):
                if not failed:
                    break
                self._sleep(0.5 * 2**round_number)
                failed = [
                    item
                    for batch in _batches(failed, BATCH_SIZE)
                    for item in self._delete(pool, batch, now, report)
                ]
        if failed:
            raise CleanupIncompleteError(
                f"{len(failed)} expired items could not be deleted; the run will be retried"
            )
        return report

    def _delete(
        self, pool: ThreadPoolExecutor, batch: list[ExpiredItem], now: datetime, report: CleanupReport
    ) -> list[ExpiredItem]:
        def attempt(item: ExpiredItem) -> bool | None:
            try:
                return self._store.delete_if_expired(item, now=now)
            except (ClientError, BotoCoreError):
                return None  # retried in a later round

        failed = []
        for item, outcome in zip(batch, pool.map(attempt, batch), strict=True):
            if outcome is None:
                failed.append(item)
            elif outcome:
                report.deleted[item.kind] += 1
            else:
                report.skipped[item.kind] += 1
        return failed


@cache
def get_cleanup() -> Cleanup:
    return Cleanup(get_store(), get_learner_store())
