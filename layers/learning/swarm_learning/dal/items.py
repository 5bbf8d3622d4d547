"""Item conversion and the values the stores hand across their boundary (buckets, pages, writes)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config

from swarm_learning.domain.evaluated import EvaluatedRow, canonical_action
from swarm_learning.domain.evaluated import content_keys as content_key_names
from swarm_learning.errors import InvalidRequestError
from swarm_learning.ids import (
    recommendation_time,
)
from swarm_learning.parallel import READ_WORKERS

TRANSACTION_ATTEMPTS = 5
MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit per TransactWriteItems
MAX_PAGES_PER_REQUEST = 5
# A connection per thread of both read pools (botocore keeps 10 by default and drops the rest).
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4},
    connect_timeout=2,
    read_timeout=5,
    max_pool_connections=2 * READ_WORKERS,
)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


# DynamoDB numbers stop at magnitude 1E-130; below it boto3 refuses to serialise (an underflow),
# so values this close to zero are stored as the zero they are for every statistic here.
_SMALLEST_STORED = 1e-120


def _to_dynamo(value: Any) -> Any:
    """Python value -> value the serializer accepts (floats become exact decimals)."""
    if isinstance(value, float):
        return Decimal(repr(value)) if abs(value) >= _SMALLEST_STORED else Decimal(0)
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, set)):
        return [_from_dynamo(v) for v in value]
    return value


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(_to_dynamo(v)) for k, v in item.items() if v is not None}


def raw_value(attribute: Any) -> Any:
    """One attribute as boto3 deserialises it (binary stays ``Binary``, numbers ``Decimal``)."""
    return _deserializer.deserialize(attribute)


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _from_dynamo(_deserializer.deserialize(v)) for k, v in item.items()}


@dataclass(frozen=True)
class Bucket:
    """One day's counters for one scope (``recommendation_type`` None = all types)."""

    day: date
    recommendation_type: str | None
    counters: dict[str, float]


@dataclass(frozen=True)
class ExpiredItem:
    """An item past its retention, found by the cleanup job: what it is and where."""

    kind: str
    table: str
    key: dict[str, str]


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_token: str | None


# ---- batched writes ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrackWrite:
    record: Mapping[str, Any]
    counters: Mapping[str, float]


@dataclass(frozen=True)
class EvaluationWrite:
    recommendation: Mapping[str, Any]
    outcome: Mapping[str, Any]  # with "fingerprint", kept on the recommendation to recognise a retry
    counters: Mapping[str, float]


class WriteState(StrEnum):
    WRITTEN = "written"
    REFUSED = "refused"  # a condition failed: id taken, or recommendation missing / not pending
    UNAVAILABLE = "unavailable"  # not attempted or not stored (throttled): send again


@dataclass(frozen=True)
class WriteResult:
    state: WriteState
    stored: dict[str, Any] | None = None  # the stored recommendation a refused write met


class PageToken:
    """Opaque, tamper-checked pagination token: the last key, bound to the partition it pages."""

    @staticmethod
    def encode(key: Mapping[str, Any] | None) -> str | None:
        if not key:
            return None
        raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def decode(token: str | None, *, index_key: str, partition: str) -> dict[str, Any] | None:
        if token is None:
            return None
        try:
            padded = token + "=" * (-len(token) % 4)
            key = json.loads(base64.urlsafe_b64decode(padded.encode()))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            key = None
        if not isinstance(key, dict) or key.get(index_key) != {"S": partition}:
            raise InvalidRequestError("next_token is not valid for this query", field="next_token")
        return key


def query_items(client: Any, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every raw item a query returns, page after page."""
    while True:
        response = client.query(**request)
        yield from response["Items"]
        if "LastEvaluatedKey" not in response:
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def query_filtered_page(
    client: Any, request: dict[str, Any], *, key_attr: str, partition: str, limit: int, next_token: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Up to ``limit`` raw items of a filtered query and the token of the next page. A filter can
    leave a page short, so it reads on, at most ``MAX_PAGES_PER_REQUEST`` pages; each query is
    limited to the items still wanted, so nothing is cut off a page and the last evaluated key
    resumes exactly where this page stopped."""
    start = PageToken.decode(next_token, index_key=key_attr, partition=partition)
    collected: list[dict[str, Any]] = []
    last_key: dict[str, Any] | None = None
    for _ in range(MAX_PAGES_PER_REQUEST):
        if start:
            request["ExclusiveStartKey"] = start
        request["Limit"] = limit - len(collected)
        response = client.query(**request)
        collected.extend(response["Items"])
        last_key = response.get("LastEvaluatedKey")
        if last_key is None or len(collected) >= limit:
            break
        start = last_key
    return collected, PageToken.encode(last_key)


# The attributes ``evaluated_row`` reads: what the learning cycle projects of each recommendation.
EVALUATED_ATTRIBUTES = (
    "recommendation_id",
    "status",
    "agent_id",
    "recommendation_type",
    "workflow_id",
    "confidence_score",
    "action_key",
    "content_keys",
    "content_json",
)


def evaluated_row(item: Mapping[str, Any]) -> EvaluatedRow:
    """A raw (low-level) index item as a cycle row, without the generic deserializer (hot path)."""
    workflow = item.get("workflow_id")
    action = item.get("action_key")
    keys = item.get("content_keys")
    if action is None or keys is None:  # stored before the tracker kept them: derive once here
        content = json.loads(item["content_json"]["S"])
        action_key, content_keys = canonical_action(content), content_key_names(content)
    else:
        action_key, content_keys = action["S"], tuple(key["S"] for key in keys["L"])
    recommendation_id = item["recommendation_id"]["S"]
    return EvaluatedRow(
        agent_id=item["agent_id"]["S"],
        recommendation_type=item["recommendation_type"]["S"],
        workflow_id=workflow["S"] if workflow else None,
        confidence_score=float(confidence["N"]) if (confidence := item.get("confidence_score")) else None,
        action_key=action_key,
        content_keys=content_keys,
        created_at=recommendation_time(recommendation_id).timestamp(),
        approved=item["status"]["S"] == "approved",
        partial=item["status"]["S"] == "partial",
    )


class ConditionFailed(Exception):
    """Conditions that failed in a transaction: (item index, the item as stored, if any)."""

    def __init__(self, failures: list[tuple[int, dict[str, Any] | None]]) -> None:
        super().__init__(f"condition failed on transaction items {[i for i, _ in failures]}")
        self.failures = failures
        self.index, self.old_item = failures[0]
