"""Put moto's in-memory AWS back to the state it had once the embedded environment was built.

Rebuilding the environment through the API (create the tables, the queues, the event rules) costs
about a second, most of it botocore and moto serialising requests; tests that share one embedded
AWS need it emptied between them in milliseconds. So this works on moto's backends directly: the
tables are swapped for copies of themselves taken when they were empty, the queues are emptied as
moto's own ``purge_queue`` does (without its one-purge-a-minute rule), and every other service used
since (API Gateway, CloudFormation ...) is reset. Local tooling only, like ``moto_transactions``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from moto.core.base_backend import BackendDict
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.sqs.models import SQSBackend, sqs_backends


@dataclass(frozen=True)
class Baseline:
    """What the embedded AWS held when it was built."""

    region: str
    tables: dict[str, Table]  # copies, never handed out (each restore copies again)
    queues: frozenset[str]
    services: frozenset[str]  # the moto backends in use then (their state is restored above, or kept)


def _dynamodb(region: str) -> DynamoDBBackend:
    return dynamodb_backends[DEFAULT_ACCOUNT_ID][region]


def _sqs(region: str) -> SQSBackend:
    return sqs_backends[DEFAULT_ACCOUNT_ID][region]


def _in_use() -> list[BackendDict[Any]]:
    """moto's registry of the service backends used since it started (moto's reset walks it too)."""
    return BackendDict._instances  # type: ignore[misc]


def capture(region: str) -> Baseline:
    """Record the current state: the tables as they are (copied, items included), the queues and
    services that exist. ``embedded_aws()`` calls it once the tables and queues exist and hold
    nothing; a test module may call it on a store it seeded (``runtime.save_aws``)."""
    return Baseline(
        region=region,
        tables={name: copy.deepcopy(table) for name, table in _dynamodb(region).tables.items()},
        queues=frozenset(_sqs(region).queues),
        services=frozenset(backend.service_name for backend in _in_use()),
    )


def restore(baseline: Baseline) -> None:
    """Back to ``baseline``: the same tables with the items they had; the same queues, empty;
    nothing else."""
    tables = _dynamodb(baseline.region).tables
    tables.clear()
    tables.update({name: copy.deepcopy(table) for name, table in baseline.tables.items()})

    queues = _sqs(baseline.region).queues
    for name in set(queues) - baseline.queues:
        del queues[name]
    for name in baseline.queues:
        queue = queues[name]
        with queue._messages_lock:
            queue._messages = []
            queue._pending_messages = set()
        queue.last_purged_at = None

    for backend in list(_in_use()):
        if backend.service_name not in baseline.services:
            for account in backend.values():
                account.reset()
            backend.clear()
            _in_use().remove(backend)


def table_items(region: str) -> dict[str, list[dict[str, Any]]]:
    """Every item of every table, in DynamoDB's JSON (as a Scan returns it), read from moto
    directly: a hundred times cheaper than scanning through botocore, for tests that compare the
    whole store before and after a request."""
    return {
        name: [item.to_json()["Attributes"] for item in table.all_items()]
        for name, table in _dynamodb(region).tables.items()
    }


def messages_waiting(region: str, queue_urls: Iterable[str]) -> int:
    """How many messages the queues hold that a receive could get now (moto's own
    ``ApproximateNumberOfMessages``), read from moto directly."""
    queues = _sqs(region).queues
    return sum(len(queues[url.rsplit("/", 1)[-1]].messages) for url in queue_urls)
