"""Cheaper DynamoDB reads for moto: a Query sorts only what it returns, and item attributes are
serialised without moto's name guessing.

A profile of the dashboard's reads on the demo workspace (a few thousand items) shows a Query of 62
day buckets taking ~0.25 s, which DynamoDB answers in milliseconds:

- moto's ``Table.query`` starts from ``all_items()``, which sorts every item of the table, then
  keeps the query's partition (or index key) and sorts those again. The second sort alone decides
  the order (by the full key, which is unique), so the first is skipped while a Query runs; a
  base-table Query reads its partition only, the items it would have kept, and of those the ones
  its sort-key condition keeps (and the next one, on which moto ends a full page). moto measured
  the size of every item of the partition on the way, twice, so a query of an agent's day buckets
  paid for each of its trust snapshots, which DynamoDB never reads for it.
- A projection (``ProjectionExpression``) converts the whole item to plain Python and back once
  per projected name; a projection of top-level names copies those attributes instead (nested
  paths still take moto's way). moto copies each item whole before projecting it; a base-table
  Query without a filter copies only the attributes the projection keeps.
- moto measures an item's size twice per item it passes; once per query is enough.
- moto 5.2's response serialiser walks the operation's output shape and looks every member of a
  structure up on the value under several candidate names (``S``, ``StringAttributeValue``,
  ``string_attribute_value`` ...). The reads' answers (GetItem, BatchGetItem, Query, Scan) are
  already dicts in wire form, so they are written as JSON directly: binaries base64-encoded as the
  serialiser does, absent (None) members left out; the client reads only the shape's members.
  Any other answer keeps moto's serialiser, with attribute values (one-key dicts, ``{"N": "3"}``)
  looked up by name.
- moto keeps every model object it ever makes, for its web dashboard (``BaseModel.__new__``),
  and so every copy of an item a read returns: a local server's heap grew by each answer, and the
  interpreter's full collections with it. Nothing else reads that list; here it stays empty.

Results, their order, paging and errors are unchanged; ``tests/integration/test_moto_reads.py``
compares both paths. Local tooling only, like ``moto_transactions`` and ``moto_expressions``.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
from typing import Any

from moto.core.common_models import BaseModel
from moto.core.responses import ActionResult
from moto.core.serialize import BaseJSONSerializer
from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

ATTRIBUTE_VALUE_SHAPE = "AttributeValue"
_original_all_items = Table.all_items
_original_query = Table.query
_original_project = Item.project
_original_size = Item.size
_original_deepcopy = Item.__deepcopy__
_original_structure = BaseJSONSerializer._serialize_type_structure
_original_serialized = DynamoHandler.serialized
_original_new = BaseModel.__new__
READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan"})
_querying = threading.local()  # what a Query on this thread reads, while it runs
_WHOLE_TABLE = object()
_installed = False


def _all_items(self: Table) -> list[Any]:
    partition = getattr(_querying, "partition", None)
    if partition is None:
        return _original_all_items(self)
    if not self.range_key_attr:  # one item per hash key: every item, unsorted
        return list(self.items.values())
    if partition is _WHOLE_TABLE:  # an index query: moto keeps the matches and sorts them itself
        return [item for items in self.items.values() for item in items.values()]
    hash_key, range_comparison, range_objs, forward = partition
    items = list(self.items.get(hash_key, {}).values())
    if range_comparison is None:
        return items
    # The items in the key range, and the one after them in the query's order: moto ends a full
    # page on it (with a LastEvaluatedKey), the others it passes over without a trace.
    ordered = sorted(items, key=lambda item: item.range_key)
    if not forward:
        ordered.reverse()
    kept, last_in_range = [], -1
    for position, item in enumerate(ordered):
        if item.range_key.compare(range_comparison, range_objs):
            kept.append(item)
            last_in_range = position
    if 0 <= last_in_range < len(ordered) - 1:
        kept.append(ordered[last_in_range + 1])
    return kept


def _query(
    self: Table,
    hash_key: Any,
    range_comparison: Any,
    range_objs: Any,
    limit: Any,
    exclusive_start_key: Any,
    scan_index_forward: Any,
    projection_expressions: Any,
    index_name: str | None = None,
    consistent_read: bool = False,
    filter_expression: Any = None,
    **kwargs: Any,
) -> Any:
    base_table = not index_name and hash_key is not None
    _querying.partition = (
        (hash_key, range_comparison, range_objs, scan_index_forward is not False)
        if base_table
        else _WHOLE_TABLE
    )
    _querying.sizes = {}
    top_level = projection_expressions and all(len(path) == 1 for path in projection_expressions)
    _querying.kept = (
        {path[0] for path in projection_expressions} | {self.hash_key_attr, self.range_key_attr}
        if base_table and top_level and filter_expression is None
        else None
    )
    try:
        return _original_query(
            self,
            hash_key,
            range_comparison,
            range_objs,
            limit,
            exclusive_start_key,
            scan_index_forward,
            projection_expressions,
            index_name,
            consistent_read,
            filter_expression,
            **kwargs,
        )
    finally:
        _querying.partition = _querying.sizes = _querying.kept = None


def _size(self: Item) -> int:
    sizes = getattr(_querying, "sizes", None)
    if sizes is None:
        return _original_size(self)
    if id(self) not in sizes:  # the item is kept too, so its id is not reused during the query
        sizes[id(self)] = (self, _original_size(self))
    return int(sizes[id(self)][1])


def _deepcopy(self: Item, memo: dict[int, Any]) -> Item:
    kept = getattr(_querying, "kept", None)
    if kept is None:
        return _original_deepcopy(self, memo)
    view: Any = Item.__new__(Item)  # the attributes the projection will keep, copied by moto
    view.hash_key, view.range_key = self.hash_key, self.range_key
    view.attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.update(view.attrs, ((name, value) for name, value in self.attrs.items() if name in kept))
    return _original_deepcopy(view, memo)


def _project(self: Item, projection_expressions: list[list[str]]) -> Item:
    if any(len(path) != 1 for path in projection_expressions):
        return _original_project(self, projection_expressions)
    projected = Item(hash_key=self.hash_key, range_key=self.range_key, attrs={})
    names = [path[0] for path in projection_expressions]
    # Straight into the dict: a part of a stored item is within the size limit it passed.
    dict.update(
        projected.attrs, ((name, copy.deepcopy(self.attrs[name])) for name in names if name in self.attrs)
    )
    return projected


def _serialize_type_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
    if shape.name != ATTRIBUTE_VALUE_SHAPE or type(value) is not dict:
        _original_structure(self, serialized, value, shape, key)
        return
    wrapper: Any = {} if key else serialized
    for member_key, member_shape in shape.members.items():
        member = value.get(member_key)
        if member is not None:
            self._serialize(wrapper, member, member_shape, member_key)
    if key:
        self._default_serialize(serialized, wrapper, shape, key)


def _wire(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _serialized(self: DynamoHandler, action_result: ActionResult) -> Any:
    result = action_result.result
    if self._get_action() not in READS or not isinstance(result, dict):
        return _original_serialized(self, action_result)  # errors, writes, table operations
    headers = {"Content-Type": "application/x-amz-json-1.0", **self.response_headers}
    return 200, headers, json.dumps(_wire(result))


def _untracked(cls: type[BaseModel], *args: Any, **kwargs: Any) -> BaseModel:
    return object.__new__(cls)


def install() -> None:
    """Replace moto's (idempotent)."""
    global _installed
    if not _installed:
        Table.all_items = _all_items  # type: ignore[method-assign]
        Table.query = _query  # type: ignore[method-assign,assignment]
        Item.project = _project  # type: ignore[method-assign]
        Item.size = _size  # type: ignore[method-assign]
        Item.__deepcopy__ = _deepcopy  # type: ignore[method-assign]
        BaseJSONSerializer._serialize_type_structure = _serialize_type_structure  # type: ignore[method-assign]
        DynamoHandler.serialized = _serialized  # type: ignore[method-assign,assignment]
        BaseModel.__new__ = _untracked  # type: ignore[method-assign]
        _installed = True


def uninstall() -> None:
    """moto's own again (the tests compare both)."""
    global _installed
    Table.all_items = _original_all_items  # type: ignore[method-assign]
    Table.query = _original_query  # type: ignore[method-assign]
    Item.project = _original_project  # type: ignore[method-assign]
    Item.size = _original_size  # type: ignore[method-assign]
    Item.__deepcopy__ = _original_deepcopy  # type: ignore[method-assign]
    BaseJSONSerializer._serialize_type_structure = _original_structure  # type: ignore[method-assign]
    DynamoHandler.serialized = _original_serialized  # type: ignore[method-assign]
    BaseModel.__new__ = _original_new  # type: ignore[method-assign]
    _installed = False
