"""Item-level rollback for moto's ``TransactWriteItems``.

moto makes a transaction atomic by deep-copying every table the transaction touches before
running it, so each transaction costs time proportional to the size of the table: a local server
slows from ~30 ms to ~0.5 s per request after a few thousand recommendations. DynamoDB's own
guarantee is per item, and so is this replacement: it snapshots only the items the transaction
names, runs moto's implementation with table copies turned into no-ops, and on any failure puts
the snapshotted items back. Semantics are unchanged (all or nothing; the rollback tests in
``tests/integration/test_moto_transactions.py`` hold either way). Local tooling only.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

_original = DynamoDBBackend.transact_write_items
_lock = threading.Lock()
_installed = False


def _key_of(table: Table, operation: dict[str, Any]) -> tuple[DynamoType, DynamoType | None] | None:
    key = operation.get("Key") or operation.get("Item") or {}
    if table.hash_key_attr not in key:
        return None
    if table.range_key_attr and table.range_key_attr not in key:
        return None
    hash_key = DynamoType(key[table.hash_key_attr])
    range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    return hash_key, range_key


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    with _lock:  # one transaction at a time: the no-op copy below is class-wide, and a snapshot
        # taken before another transaction commits would undo that commit on rollback
        snapshots = []
        for entry in transact_items:
            operation = next(iter(entry.values()))
            table = self.tables.get(operation.get("TableName"))
            key = _key_of(table, operation) if table is not None else None
            if table is not None and key is not None:
                snapshots.append((table, *key, copy.deepcopy(table.get_item(*key))))
        setattr(Table, "__deepcopy__", lambda table, memo: table)  # noqa: B010 - patched for one call
        try:
            _original(self, transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(snapshots):
                if item is None:
                    table.delete_item(hash_key, range_key)
                elif range_key is None:
                    table.items[hash_key] = item  # type: ignore[assignment]
                else:
                    table.items[hash_key][range_key] = item
            raise
        finally:
            delattr(Table, "__deepcopy__")


def install() -> None:
    """Replace moto's implementation (idempotent)."""
    global _installed
    if not _installed:
        DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
        _installed = True
