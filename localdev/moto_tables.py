"""The embedded DynamoDB's tables read and written directly, in DynamoDB's JSON: what the local
store (``localdev.persistence``) saves, replays and journals. The one module of the store that
knows moto's classes (a table's ``items``, its key attributes, ``Item.to_json``); each of those has
been part of moto's DynamoDB model since moto 1, and the persistence tests exercise every one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from localdev.runtime import REGION


def _backend() -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]


def _table(name: str) -> Any:
    return _backend().tables.get(name)


def _key_values(table: Any, key: dict[str, Any]) -> tuple[Any, Any]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    hash_key = DynamoType(key[table.hash_key_attr])
    range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    return hash_key, range_key


def table_names() -> list[str]:
    return sorted(_backend().tables)


def item_count() -> int:
    return sum(len(table) for table in _backend().tables.values())


def key_names(table_name: str) -> tuple[str, ...]:
    table = _table(table_name)
    if table is None:
        return ()
    return (table.hash_key_attr, table.range_key_attr) if table.range_key_attr else (table.hash_key_attr,)


def _stored(table: Any) -> Iterator[Any]:
    if table.range_key_attr:
        for partition in table.items.values():
            yield from partition.values()
    else:
        yield from table.items.values()


def items(table_name: str) -> Iterator[dict[str, Any]]:
    """Every item of a table in DynamoDB JSON (as a Scan returns them, in no particular order)."""
    for item in _stored(_table(table_name)):
        yield item.to_json()["Attributes"]


def read_item(table_name: str, key: dict[str, Any]) -> dict[str, Any] | None:
    """The item with ``key`` in DynamoDB JSON, or None."""
    table = _table(table_name)
    if table is None or not all(name in key for name in key_names(table_name)):
        return None
    item = table.get_item(*_key_values(table, key))
    return None if item is None else dict(item.to_json()["Attributes"])


def put_item(table_name: str, item: dict[str, Any], *, missing_ok: bool = False) -> bool:
    """Store ``item`` (DynamoDB JSON) as it is, replacing the one with its key. A table the
    template no longer has: False with ``missing_ok``, else KeyError."""
    table = _table(table_name)
    if table is None:
        if missing_ok:
            return False
        raise KeyError(table_name)
    table.put_item(item)
    return True


def delete_item(table_name: str, key: dict[str, Any]) -> None:
    table = _table(table_name)
    if table is not None:
        table.delete_item(*_key_values(table, key))


def adopt_tables(tables: dict[str, Any]) -> None:
    """Take moto ``Table`` objects (an earlier version's pickled snapshot) as the tables."""
    _backend().tables.update(tables)
