"""DynamoDB storage: the only module that knows table names, keys and item layouts.

Recommendations table (``pk``/``sk``):
  ``WS#<ws>#REC#<rec_id>`` / ``RECOMMENDATION``   the recommendation (status, outcome summary)
  ``WS#<ws>#REC#<rec_id>`` / ``OUTCOME``          its evaluation, written once
  indexes (all sort on ``recommendation_id``, a ULID, so time windows are key ranges):
    ``by_agent``           ``agent_pk``       = ``WS#<ws>#AGENT#<agent>``
    ``by_agent_type``      ``agent_type_pk``  = ``WS#<ws>#AGENT#<agent>#TYPE#<type>``
    ``by_workflow``        ``workflow_pk``    = ``WS#<ws>#WF#<workflow>``
    ``by_workspace_time``  ``shard_pk``       = ``WS#<ws>#SHARD#<n>`` (spread over N shards)

Statistics table (``pk``/``sk``), counters only ever grow through ``ADD``:
  ``WS#<ws>#AGENT#<agent>`` / ``AGENT``                   the agent directory entry
  ``WS#<ws>#AGENT#<agent>`` / ``DAY#<day>#ALL``           the agent's day bucket
  ``WS#<ws>#AGENT#<agent>`` / ``DAY#<day>#TYPE#<type>``   the agent's day bucket per type
  ``WS#<ws>#STATS#<n>``     / ``DAY#<day>#TYPE#<type>``   workspace day bucket, sharded
  index ``by_workspace``: ``workspace_pk`` = ``WS#<ws>`` on directory entries only.

Routing decisions table (``pk`` = ``WS#<ws>#DECISION#<decision_id>``), written once per decision:
  index ``by_workspace_time``: ``workspace_pk`` = ``WS#<ws>``, sorted on ``decision_id`` (a ULID).
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import time
import zlib
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError

from swarm_learning.config import Settings, get_settings
from swarm_learning.domain.evaluated import EvaluatedRow, canonical_action
from swarm_learning.domain.evaluated import content_keys as content_key_names
from swarm_learning.errors import AlreadyEvaluatedError, ConflictError, InvalidRequestError, NotFoundError
from swarm_learning.ids import (
    DECISION_PREFIX,
    highest_id,
    highest_recommendation_id,
    lowest_id,
    lowest_recommendation_id,
    recommendation_time,
)

REC_SK = "RECOMMENDATION"
ALL_SCOPE = "ALL"
OUTCOME_SK = "OUTCOME"
AGENT_SK = "AGENT"
BY_AGENT = "by_agent"
BY_AGENT_TYPE = "by_agent_type"
BY_WORKFLOW = "by_workflow"
BY_WORKSPACE_TIME = "by_workspace_time"
BY_WORKSPACE = "by_workspace"

_KEY_ATTRIBUTES = frozenset(
    {
        "pk",
        "sk",
        "agent_pk",
        "agent_type_pk",
        "workflow_pk",
        "shard_pk",
        "workspace_pk",
        "expires_at",
        "scope",
    }
)
_TRANSACTION_ATTEMPTS = 5
_MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit per TransactWriteItems
_MAX_PAGES_PER_REQUEST = 5
_PARALLEL_SHARD_READS = 8
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=2, read_timeout=5)

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


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _from_dynamo(_deserializer.deserialize(v)) for k, v in item.items()}


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


def _day(at: datetime) -> str:
    return at.astimezone(UTC).date().isoformat()


def shard_of(key: str, shards: int) -> int:
    """Stable shard for a key (crc32: cheap and identical in every process)."""
    return zlib.crc32(key.encode()) % shards


# ---- keys ---------------------------------------------------------------------------------------
def _rec_pk(workspace_id: str, recommendation_id: str) -> str:
    return f"WS#{workspace_id}#REC#{recommendation_id}"


def _agent_pk(workspace_id: str, agent_id: str) -> str:
    return f"WS#{workspace_id}#AGENT#{agent_id}"


def _agent_type_pk(workspace_id: str, agent_id: str, recommendation_type: str) -> str:
    return f"WS#{workspace_id}#AGENT#{agent_id}#TYPE#{recommendation_type}"


def _workflow_pk(workspace_id: str, workflow_id: str) -> str:
    return f"WS#{workspace_id}#WF#{workflow_id}"


def _shard_pk(workspace_id: str, shard: int) -> str:
    return f"WS#{workspace_id}#SHARD#{shard}"


def _stats_pk(workspace_id: str, shard: int) -> str:
    return f"WS#{workspace_id}#STATS#{shard}"


def _bucket_sk(day: str, recommendation_type: str | None) -> str:
    return f"DAY#{day}#ALL" if recommendation_type is None else f"DAY#{day}#TYPE#{recommendation_type}"


def _scope_of(bucket_sk: str) -> str | None:
    """``None`` for an all-types bucket, else the recommendation type."""
    _, _, scope = bucket_sk.split("#", 2)
    return None if scope == "ALL" else scope.removeprefix("TYPE#")


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


@dataclass(frozen=True)
class _TrackKeys:
    """What decides where a write's items and counters live."""

    workspace_id: str
    agent_id: str
    recommendation_id: str
    recommendation_type: str
    at: datetime  # the day its counters go to

    @property
    def rec_pk(self) -> str:
        return _rec_pk(self.workspace_id, self.recommendation_id)

    @property
    def agent_pk(self) -> str:
        return _agent_pk(self.workspace_id, self.agent_id)

    @staticmethod
    def of(record: Mapping[str, Any]) -> _TrackKeys:
        return _TrackKeys(
            record["workspace_id"],
            record["agent_id"],
            record["recommendation_id"],
            record["recommendation_type"],
            record["created_at"],
        )

    @staticmethod
    def of_evaluation(recommendation: Mapping[str, Any], outcome: Mapping[str, Any]) -> _TrackKeys:
        return _TrackKeys(
            recommendation["workspace_id"],
            recommendation["agent_id"],
            recommendation["recommendation_id"],
            recommendation["recommendation_type"],
            outcome["evaluated_at"],
        )


def _bucket_keys(keys: _TrackKeys, shards: int, *, shard: int | None = None) -> list[tuple[str, str]]:
    """The statistics items one write adds its counters to: the agent's day bucket (all types and
    its type) and the workspace's day bucket for the type, on the write's shard (or ``shard``)."""
    day = _day(keys.at)
    shard = shard_of(keys.recommendation_id, shards) if shard is None else shard
    agent_pk = _agent_pk(keys.workspace_id, keys.agent_id)
    return [
        (agent_pk, _bucket_sk(day, None)),
        (agent_pk, _bucket_sk(day, keys.recommendation_type)),
        (_stats_pk(keys.workspace_id, shard), _bucket_sk(day, keys.recommendation_type)),
    ]


@dataclass
class _Seen:
    first: Mapping[str, Any]
    last: Mapping[str, Any]


class _SharedUpdates:
    """The statistics items a set of writes touches, counters summed per item: one ``ADD`` each."""

    def __init__(self, shards: int) -> None:
        self._shards = shards
        # One workspace shard per transaction (that of its first write): its workspace counters
        # are a handful of items instead of one per shard; reads sum every shard anyway, and
        # other transactions land on other shards.
        self._shard: int | None = None
        self.counts: dict[tuple[str, str], dict[str, float]] = {}
        self.directory: dict[tuple[str, str], _Seen] = {}

    def copy(self) -> _SharedUpdates:
        other = _SharedUpdates(self._shards)
        other._shard = self._shard
        other.counts = {key: dict(value) for key, value in self.counts.items()}
        other.directory = dict(self.directory)
        return other

    def size(self) -> int:
        return len(self.counts) + len(self.directory)

    def add(self, write: TrackWrite | EvaluationWrite) -> None:
        if isinstance(write, TrackWrite):
            keys = _TrackKeys.of(write.record)
            agent = (keys.workspace_id, keys.agent_id)
            seen = self.directory.get(agent)
            record = write.record
            if seen is None:
                self.directory[agent] = _Seen(record, record)
            else:
                first = record if record["created_at"] < seen.first["created_at"] else seen.first
                last = record if record["created_at"] >= seen.last["created_at"] else seen.last
                self.directory[agent] = _Seen(first, last)
        else:
            keys = _TrackKeys.of_evaluation(write.recommendation, write.outcome)
        if self._shard is None:
            self._shard = shard_of(keys.recommendation_id, self._shards)
        for key in _bucket_keys(keys, self._shards, shard=self._shard):
            totals = self.counts.setdefault(key, {})
            for name, value in write.counters.items():
                totals[name] = totals.get(name, 0) + value


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


class LearningStore:
    """Reads and writes of recommendations, outcomes and statistics for the domain services."""

    def __init__(self, settings: Settings, client: Any | None = None) -> None:
        self._settings = settings
        self._client: Any = client or boto3.client(
            "dynamodb",
            config=_CLIENT_CONFIG,
        )
        self._recommendations = settings.recommendations_table
        self._statistics = settings.statistics_table

    @property
    def client(self) -> Any:
        return self._client

    # ---- writes ------------------------------------------------------------------------------
    def insert_recommendation(
        self, record: Mapping[str, Any], counters: Mapping[str, float]
    ) -> dict[str, Any] | None:
        """Store a new recommendation and count it in its agent's and workspace's buckets, in one
        transaction. Returns None, or, when the id is already taken in the workspace, the stored
        recommendation (nothing written; the failed condition returns it, so no extra read)."""
        try:
            self._transact(
                [
                    self._recommendation_put(record),
                    self._directory_update(record, record, record["agent_name"]),
                    *self._counter_updates(self._counts_for(_TrackKeys.of(record), counters)),
                ]
            )
        except _ConditionFailed as failure:
            return self._strip(failure.old_item or {})
        return None

    def record_evaluation(
        self,
        recommendation: Mapping[str, Any],
        outcome: Mapping[str, Any],
        counters: Mapping[str, float],
    ) -> None:
        """Store the outcome, settle the recommendation and add to the statistics, atomically.

        Raises ``AlreadyEvaluatedError`` (and changes nothing) if the recommendation is no
        longer pending, with the stored recommendation; ``NotFoundError`` if it disappeared.
        """
        rid = recommendation["recommendation_id"]
        keys = _TrackKeys.of_evaluation(recommendation, outcome)
        try:
            self._transact(
                [
                    *self._evaluation_items(recommendation, outcome),
                    *self._counter_updates(self._counts_for(keys, counters)),
                ]
            )
        except _ConditionFailed as failure:
            if failure.index == 0 and failure.old_item is None:
                raise NotFoundError(f"recommendation {rid} not found", field="recommendation_id") from None
            raise AlreadyEvaluatedError(
                f"recommendation {rid} has already been evaluated",
                field="recommendation_id",
                stored=self._strip(failure.old_item) if failure.old_item else None,
            ) from None

    def commit_events(self, writes: Sequence[TrackWrite | EvaluationWrite]) -> list[WriteResult]:
        """Apply tracks and evaluations in order, in as few transactions as DynamoDB allows.

        Writes that share a statistics item (same agent, day and type; same workspace shard) share
        one ``ADD`` of their summed counters, so a batch costs far fewer writes than its events one
        by one. A write whose condition fails (id taken, recommendation not pending) is reported
        with the stored item and the rest of its transaction is sent again without it.
        """
        results: list[WriteResult] = [WriteResult(WriteState.UNAVAILABLE)] * len(writes)
        for chunk in self._chunks(writes):
            pending = chunk
            while pending:
                items, owners = [], []
                shared = _SharedUpdates(self._settings.workspace_shards)
                for index in pending:
                    write = writes[index]
                    own = (
                        [self._recommendation_put(write.record)]
                        if isinstance(write, TrackWrite)
                        else self._evaluation_items(write.recommendation, write.outcome)
                    )
                    items.extend(own)
                    owners.extend([index] * len(own))
                    shared.add(write)
                items.extend(self._directory_updates(shared.directory))
                items.extend(self._counter_updates(shared.counts))
                try:
                    self._transact(items)
                except _ConditionFailed as failure:
                    refused: dict[int, dict[str, Any] | None] = {}
                    for item_index, old in failure.failures:
                        refused.setdefault(owners[item_index], self._strip(old) if old else None)
                    for index, old in refused.items():
                        results[index] = WriteResult(WriteState.REFUSED, old)
                    pending = [i for i in pending if i not in refused]
                    continue
                except ClientError:
                    # Throttled or out of conflict retries: this transaction's writes and every
                    # later one (they may depend on it) are reported as not stored, to be sent
                    # again; earlier transactions stand.
                    return results
                for index in pending:
                    results[index] = WriteResult(WriteState.WRITTEN)
                break
        return results

    def _chunks(self, writes: Sequence[TrackWrite | EvaluationWrite]) -> list[list[int]]:
        """The writes of each transaction, in the order the transactions run: at most
        ``_MAX_TRANSACTION_ITEMS`` items each, and never two operations on one item. A write goes
        into the first transaction after the last one touching its item (its track, an earlier
        evaluation) that has room; writes on different items commute (their counters are
        additions), so a batch's tracks share transactions, and so do its evaluations."""
        shards = self._settings.workspace_shards
        chunks: list[tuple[list[int], set[tuple[str, str]], _SharedUpdates]] = []
        latest: dict[tuple[str, str], int] = {}  # item -> the last transaction touching it
        for index, write in enumerate(writes):
            if isinstance(write, TrackWrite):
                rec_pk = _TrackKeys.of(write.record).rec_pk
                own = {(rec_pk, REC_SK)}
            else:
                rec_pk = _TrackKeys.of(write.recommendation).rec_pk
                own = {(rec_pk, REC_SK), (rec_pk, OUTCOME_SK)}
            position = max((latest[key] + 1 for key in own if key in latest), default=0)
            while True:
                if position == len(chunks):
                    chunks.append(([], set(), _SharedUpdates(shards)))
                members, keys, shared = chunks[position]
                trial = shared.copy()
                trial.add(write)
                if not members or len(keys) + len(own) + trial.size() <= _MAX_TRANSACTION_ITEMS:
                    members.append(index)
                    keys |= own
                    chunks[position] = (members, keys, trial)
                    break
                position += 1
            for key in own:
                latest[key] = position
        return [members for members, _, _ in chunks]

    def _recommendation_item(self, record: Mapping[str, Any]) -> dict[str, Any]:
        keys = _TrackKeys.of(record)
        created_at: datetime = record["created_at"]
        return {
            **record,
            "created_at": created_at.isoformat(),
            "pk": keys.rec_pk,
            "sk": REC_SK,
            "agent_pk": keys.agent_pk,
            "agent_type_pk": _agent_type_pk(keys.workspace_id, keys.agent_id, keys.recommendation_type),
            "workflow_pk": (
                _workflow_pk(keys.workspace_id, record["workflow_id"]) if record.get("workflow_id") else None
            ),
            "shard_pk": _shard_pk(
                keys.workspace_id, shard_of(keys.recommendation_id, self._settings.workspace_shards)
            ),
            "expires_at": self._expiry(created_at),
        }

    def _recommendation_put(self, record: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._recommendations,
                "Item": serialize(self._recommendation_item(record)),
                "ConditionExpression": "attribute_not_exists(pk)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _expiry(self, at: datetime) -> int:
        return _epoch(at + timedelta(days=self._settings.retention_days))

    def _directory_update(
        self, first: Mapping[str, Any], last: Mapping[str, Any], agent_name: str
    ) -> dict[str, Any]:
        """The agent's directory entry: seen between ``first`` and ``last`` (records)."""
        ws, agent = last["workspace_id"], last["agent_id"]
        last_seen: datetime = last["created_at"]
        return {
            "Update": {
                "TableName": self._statistics,
                "Key": serialize({"pk": _agent_pk(ws, agent), "sk": AGENT_SK}),
                "UpdateExpression": (
                    "SET agent_name = :name, agent_id = :agent, workspace_pk = :ws, "
                    "last_seen_at = :now, first_seen_at = if_not_exists(first_seen_at, :first), "
                    "expires_at = :exp"
                ),
                "ExpressionAttributeValues": serialize(
                    {
                        ":name": agent_name,
                        ":agent": agent,
                        ":ws": f"WS#{ws}",
                        ":now": last_seen.isoformat(),
                        ":first": first["created_at"].isoformat(),
                        ":exp": self._expiry(last_seen),
                    }
                ),
            }
        }

    def _directory_updates(self, seen: Mapping[tuple[str, str], _Seen]) -> list[dict[str, Any]]:
        return [self._directory_update(s.first, s.last, s.last["agent_name"]) for s in seen.values()]

    def _evaluation_items(
        self, recommendation: Mapping[str, Any], outcome: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """Settle the recommendation (only if pending) and store its outcome."""
        ws, rid = recommendation["workspace_id"], recommendation["recommendation_id"]
        evaluated_at: datetime = outcome["evaluated_at"]
        expires_at = self._expiry(evaluated_at)
        outcome_item = {
            **outcome,
            "workspace_id": ws,
            "evaluated_at": evaluated_at.isoformat(),
            "pk": _rec_pk(ws, rid),
            "sk": OUTCOME_SK,
            "expires_at": expires_at,
        }
        settle = {
            "Update": {
                "TableName": self._recommendations,
                "Key": serialize({"pk": _rec_pk(ws, rid), "sk": REC_SK}),
                "UpdateExpression": (
                    "SET #status = :outcome, outcome_id = :oid, evaluated_at = :at, "
                    "overall_quality_score = :q, expires_at = :exp, evaluation_fingerprint = :fp"
                ),
                "ConditionExpression": "attribute_exists(pk) AND #status = :pending",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": serialize(
                    {
                        ":outcome": outcome["outcome"],
                        ":oid": outcome["outcome_id"],
                        ":at": evaluated_at.isoformat(),
                        ":q": outcome["overall_quality_score"],
                        ":exp": expires_at,
                        ":pending": "pending",
                        ":fp": outcome.get("fingerprint", ""),
                    }
                ),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        put_outcome = {
            "Put": {
                "TableName": self._recommendations,
                "Item": serialize({k: v for k, v in outcome_item.items() if k != "fingerprint"}),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        return [settle, put_outcome]

    def _counts_for(
        self, keys: _TrackKeys, counters: Mapping[str, float]
    ) -> dict[tuple[str, str], dict[str, float]]:
        return {key: dict(counters) for key in _bucket_keys(keys, self._settings.workspace_shards)}

    def _counter_updates(self, counts: Mapping[tuple[str, str], Mapping[str, float]]) -> list[dict[str, Any]]:
        updates = []
        for (pk, sk), counters in counts.items():
            day = sk.split("#")[1]
            expires_at = _epoch(datetime.fromisoformat(day).replace(tzinfo=UTC)) + 86_400 * (
                self._settings.retention_days + 1
            )
            names = {f"#c{i}": name for i, name in enumerate(counters)}
            values = {f":c{i}": value for i, value in enumerate(counters.values())}
            adds = ", ".join(f"#c{i} :c{i}" for i in range(len(counters)))
            names["#scope"] = "scope"
            updates.append(
                {
                    "Update": {
                        "TableName": self._statistics,
                        "Key": serialize({"pk": pk, "sk": sk}),
                        "UpdateExpression": f"ADD {adds} SET expires_at = :exp, #scope = :scope",
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": serialize(
                            {**values, ":exp": expires_at, ":scope": _scope_of(sk) or ALL_SCOPE}
                        ),
                    }
                }
            )
        return updates

    def _transact(self, items: list[dict[str, Any]]) -> None:
        """One transaction; retried with jittered backoff only when it lost a race with another
        transaction on a shared counter item (a conflict), never when a condition failed."""
        for attempt in range(_TRANSACTION_ATTEMPTS):
            try:
                self._client.transact_write_items(TransactItems=items)
                return
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = error.response.get("CancellationReasons", [])
                failures = [
                    (index, deserialize(reason["Item"]) if reason.get("Item") else None)
                    for index, reason in enumerate(reasons)
                    if reason.get("Code") == "ConditionalCheckFailed"
                ]
                if failures:
                    raise _ConditionFailed(failures) from error
                conflicted = any(r.get("Code") == "TransactionConflict" for r in reasons)
                if not conflicted or attempt == _TRANSACTION_ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0, 0.025 * 2**attempt))  # noqa: S311 - jitter, not crypto

    # ---- reads -------------------------------------------------------------------------------
    def get_recommendation(
        self, workspace_id: str, recommendation_id: str, *, now: datetime
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The recommendation and its outcome (one query on the item collection)."""
        response = self._client.query(
            TableName=self._recommendations,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=serialize({":pk": _rec_pk(workspace_id, recommendation_id)}),
            ConsistentRead=True,  # a read right after the track must find it
        )
        items = {i["sk"]: i for i in map(deserialize, response["Items"])}
        recommendation = items.get(REC_SK)
        if recommendation is None or self._expired(recommendation, now):
            raise NotFoundError(f"recommendation {recommendation_id} not found", field="recommendation_id")
        outcome = items.get(OUTCOME_SK)
        return self._strip(recommendation), self._strip(outcome) if outcome else None

    def get_recommendation_for_update(
        self, workspace_id: str, recommendation_id: str, *, now: datetime
    ) -> dict[str, Any]:
        response = self._client.get_item(
            TableName=self._recommendations,
            Key=serialize({"pk": _rec_pk(workspace_id, recommendation_id), "sk": REC_SK}),
            ConsistentRead=True,
        )
        item = response.get("Item")
        if item is None or self._expired(deserialize(item), now):
            raise NotFoundError(f"recommendation {recommendation_id} not found", field="recommendation_id")
        return self._strip(deserialize(item))

    def get_recommendations(
        self, workspace_id: str, recommendation_ids: Sequence[str], *, now: datetime
    ) -> dict[str, dict[str, Any]]:
        """The recommendations that exist (and have not expired) among the ids, by id: one
        consistent BatchGetItem per 100 ids (the unprocessed keys, if any, asked again)."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(recommendation_ids), 100):
            keys = [
                serialize({"pk": _rec_pk(workspace_id, rid), "sk": REC_SK})
                for rid in recommendation_ids[start : start + 100]
            ]
            request: dict[str, Any] = {self._recommendations: {"Keys": keys, "ConsistentRead": True}}
            for attempt in range(_TRANSACTION_ATTEMPTS):
                response = self._client.batch_get_item(RequestItems=request)
                for raw in response["Responses"].get(self._recommendations, []):
                    item = deserialize(raw)
                    if not self._expired(item, now):
                        found[item["recommendation_id"]] = self._strip(item)
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(random.uniform(0, 0.025 * 2**attempt))  # noqa: S311 - jitter, not crypto
            else:
                # Throttled throughout: a 5xx the client retries, never a false "not found".
                raise RuntimeError("recommendations could not be read (throttled)")
        return found

    def list_agent_recommendations(
        self,
        workspace_id: str,
        agent_id: str,
        *,
        now: datetime,
        recommendation_type: str | None = None,
        status: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int,
        next_token: str | None = None,
    ) -> Page:
        """Newest first. ``since``/``until`` are recommendation-id bounds (time as a key range)."""
        if recommendation_type is None:
            index, key_attr, partition = BY_AGENT, "agent_pk", _agent_pk(workspace_id, agent_id)
        else:
            index, key_attr = BY_AGENT_TYPE, "agent_type_pk"
            partition = _agent_type_pk(workspace_id, agent_id, recommendation_type)
        return self._query_index(
            index=index,
            key_attr=key_attr,
            partition=partition,
            now=now,
            lower=since,
            upper=until,
            status=status,
            limit=limit,
            next_token=next_token,
            newest_first=True,
        )

    def recent_outcomes(self, workspace_id: str, agent_id: str, *, limit: int, now: datetime) -> list[str]:
        """The outcomes (``approved`` / ``partial`` / ``rejected``) of the agent's last ``limit``
        evaluated recommendations, newest first: a Query of the ``by_agent`` index backwards,
        projecting the status only, pending ones filtered out, at most ``_MAX_PAGES_PER_REQUEST``
        pages (so a long run of pending recommendations cannot make it unbounded)."""
        request: dict[str, Any] = {
            "TableName": self._recommendations,
            "IndexName": BY_AGENT,
            "KeyConditionExpression": "agent_pk = :p",
            "FilterExpression": "#s IN (:approved, :rejected, :partial) AND (attribute_not_exists(#e) OR #e > :now)",
            "ProjectionExpression": "#s",
            "ExpressionAttributeNames": {"#s": "status", "#e": "expires_at"},
            "ExpressionAttributeValues": serialize(
                {
                    ":p": _agent_pk(workspace_id, agent_id),
                    ":approved": "approved",
                    ":rejected": "rejected",
                    ":partial": "partial",
                    ":now": _epoch(now),
                }
            ),
            "ScanIndexForward": False,
        }
        outcomes: list[str] = []
        for _ in range(_MAX_PAGES_PER_REQUEST):
            request["Limit"] = limit - len(outcomes)
            response = self._client.query(**request)
            outcomes.extend(deserialize(item)["status"] for item in response["Items"])
            if "LastEvaluatedKey" not in response or len(outcomes) >= limit:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return outcomes[:limit]

    def iter_workflow_recommendations(
        self, workspace_id: str, workflow_id: str, *, now: datetime
    ) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            page = self._query_index(
                index=BY_WORKFLOW,
                key_attr="workflow_pk",
                partition=_workflow_pk(workspace_id, workflow_id),
                now=now,
                limit=100,
                next_token=token,
                newest_first=False,
            )
            yield from page.items
            if page.next_token is None:
                return
            token = page.next_token

    def iter_evaluated(
        self, workspace_id: str, *, since: datetime, until: datetime
    ) -> Iterator[EvaluatedRow]:
        """The workspace's evaluated recommendations created in ``[since, until]``, as compact rows
        for the learning cycle: every shard of the time index is read in parallel, a page at a
        time, with only the attributes the cycle needs (rows arrive in no global order)."""
        names = {
            "#r": "recommendation_id",
            "#s": "status",
            "#e": "expires_at",
            "#a": "agent_id",
            "#t": "recommendation_type",
            "#w": "workflow_id",
            "#c": "confidence_score",
            "#k": "action_key",
            "#ck": "content_keys",
            "#j": "content_json",
        }
        base = {
            "TableName": self._recommendations,
            "IndexName": BY_WORKSPACE_TIME,
            "KeyConditionExpression": "shard_pk = :p AND #r BETWEEN :lo AND :hi",
            "FilterExpression": "#s IN (:approved, :rejected, :partial) AND (attribute_not_exists(#e) OR #e > :now)",
            "ProjectionExpression": "#r, #s, #a, #t, #w, #c, #k, #ck, #j",
            "ExpressionAttributeNames": names,
        }
        values = {
            ":lo": lowest_recommendation_id(since),
            ":hi": highest_recommendation_id(until),
            ":approved": "approved",
            ":rejected": "rejected",
            ":partial": "partial",
            ":now": _epoch(until),
        }

        def shard_pages(shard: int) -> list[list[dict[str, Any]]]:
            request = {
                **base,
                "ExpressionAttributeValues": serialize({**values, ":p": _shard_pk(workspace_id, shard)}),
            }
            pages = []
            while True:
                response = self._client.query(**request)
                pages.append(response["Items"])
                if "LastEvaluatedKey" not in response:
                    return pages
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

        shards = range(self._settings.workspace_shards)
        with ThreadPoolExecutor(max_workers=min(_PARALLEL_SHARD_READS, len(shards))) as pool:
            for pages in pool.map(shard_pages, shards):
                for page in pages:
                    for item in page:
                        yield _evaluated_row(item)

    def _query_index(
        self,
        *,
        index: str,
        key_attr: str,
        partition: str,
        now: datetime,
        limit: int,
        next_token: str | None,
        newest_first: bool,
        lower: str | None = None,
        upper: str | None = None,
        status: str | None = None,
    ) -> Page:
        condition = "#p = :p"
        values: dict[str, Any] = {":p": partition, ":now": _epoch(now)}
        names = {"#p": key_attr, "#e": "expires_at"}
        if lower is not None or upper is not None:
            names["#r"] = "recommendation_id"
        if lower is not None and upper is not None:
            condition += " AND #r BETWEEN :lo AND :hi"
            values.update({":lo": lower, ":hi": upper})
        elif lower is not None:
            condition += " AND #r >= :lo"
            values[":lo"] = lower
        elif upper is not None:
            condition += " AND #r <= :hi"
            values[":hi"] = upper
        # Expired-but-present items are gone as far as readers are concerned (TTL lags).
        filters = "(attribute_not_exists(#e) OR #e > :now)"
        if status is not None:
            filters += " AND #s = :status"
            names["#s"] = "status"
            values[":status"] = status
        request: dict[str, Any] = {
            "TableName": self._recommendations,
            "IndexName": index,
            "KeyConditionExpression": condition,
            "FilterExpression": filters,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": serialize(values),
            "ScanIndexForward": not newest_first,
        }
        start = PageToken.decode(next_token, index_key=key_attr, partition=partition)
        collected: list[dict[str, Any]] = []
        last_key: dict[str, Any] | None = None
        for _ in range(_MAX_PAGES_PER_REQUEST):
            if start:
                request["ExclusiveStartKey"] = start
            request["Limit"] = limit - len(collected)
            response = self._client.query(**request)
            collected.extend(response["Items"])
            last_key = response.get("LastEvaluatedKey")
            if last_key is None or len(collected) >= limit:
                break
            start = last_key
        # Each query is limited to the items still wanted, so nothing is ever cut off a page and
        # the last evaluated key resumes exactly where this page stopped.
        return Page(
            items=[self._strip(deserialize(i)) for i in collected],
            next_token=PageToken.encode(last_key),
        )

    def agent_directory_entry(self, workspace_id: str, agent_id: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._statistics,
            Key=serialize({"pk": _agent_pk(workspace_id, agent_id), "sk": AGENT_SK}),
        )
        item = response.get("Item")
        return self._strip(deserialize(item)) if item else None

    def agent_buckets(
        self, workspace_id: str, agent_id: str, *, first_day: date, last_day: date
    ) -> list[Bucket]:
        """The agent's day buckets (all types and per type) in ``[first_day, last_day]``."""
        return list(self._buckets(_agent_pk(workspace_id, agent_id), first_day=first_day, last_day=last_day))

    def workspace_buckets(self, workspace_id: str, *, first_day: date, last_day: date) -> list[Bucket]:
        """Per-type day buckets of the whole workspace: one query per shard, run concurrently."""

        def shard_buckets(shard: int) -> list[Bucket]:
            return list(self._buckets(_stats_pk(workspace_id, shard), first_day=first_day, last_day=last_day))

        with ThreadPoolExecutor(max_workers=self._settings.workspace_shards) as pool:
            return [
                b
                for buckets in pool.map(shard_buckets, range(self._settings.workspace_shards))
                for b in buckets
            ]

    def agent_scope_buckets(
        self, workspace_id: str, agent_id: str, scope: str | None, *, first_day: date, last_day: date
    ) -> list[Bucket]:
        """One scope's day buckets: all types (``scope=None``) or one recommendation type."""
        return list(
            self._buckets(
                _agent_pk(workspace_id, agent_id),
                first_day=first_day,
                last_day=last_day,
                scope=scope or ALL_SCOPE,
            )
        )

    def register_agent(self, workspace_id: str, agent_id: str, agent_name: str, *, now: datetime) -> bool:
        """Create (or rename) the agent's directory entry; True when it did not exist."""
        response = self._client.update_item(
            TableName=self._statistics,
            Key=serialize({"pk": _agent_pk(workspace_id, agent_id), "sk": AGENT_SK}),
            UpdateExpression=(
                "SET agent_name = :name, agent_id = :agent, workspace_pk = :ws, "
                "first_seen_at = if_not_exists(first_seen_at, :now), "
                "last_seen_at = if_not_exists(last_seen_at, :now), expires_at = :exp"
            ),
            ExpressionAttributeValues=serialize(
                {
                    ":name": agent_name,
                    ":agent": agent_id,
                    ":ws": f"WS#{workspace_id}",
                    ":now": now.isoformat(),
                    ":exp": _epoch(now + timedelta(days=self._settings.retention_days)),
                }
            ),
            ReturnValues="ALL_OLD",
        )
        return "agent_id" not in response.get("Attributes", {})

    def list_agents(self, workspace_id: str) -> list[dict[str, Any]]:
        """Every agent of the workspace (its directory entries, through the sparse index)."""
        agents: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self._statistics,
            "IndexName": BY_WORKSPACE,
            "KeyConditionExpression": "workspace_pk = :ws",
            "ExpressionAttributeValues": serialize({":ws": f"WS#{workspace_id}"}),
        }
        while True:
            response = self._client.query(**request)
            agents.extend(self._strip(deserialize(i)) for i in response["Items"])
            if "LastEvaluatedKey" not in response:
                return agents
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def record_adjustment(self, workspace_id: str, agent_id: str, adjustment: Mapping[str, Any]) -> None:
        """Keep a manual trust adjustment and add it to the agent's running totals, atomically.

        The evidence (the buckets) is never touched; 404 when the agent is unknown.
        """
        at: datetime = adjustment["adjusted_at"]
        pk = _agent_pk(workspace_id, agent_id)
        item = {
            **adjustment,
            "adjusted_at": at.isoformat(),
            "pk": pk,
            "sk": f"ADJ#{adjustment['adjustment_id']}",
            "expires_at": _epoch(at + timedelta(days=self._settings.retention_days)),
        }
        try:
            self._transact(
                [
                    {
                        "Update": {
                            "TableName": self._statistics,
                            "Key": serialize({"pk": pk, "sk": AGENT_SK}),
                            "UpdateExpression": "ADD adj_accuracy :a, adj_consistency :c, adjustments :one",
                            "ConditionExpression": "attribute_exists(pk)",
                            "ExpressionAttributeValues": serialize(
                                {
                                    ":a": adjustment["accuracy_delta"],
                                    ":c": adjustment["consistency_delta"],
                                    ":one": 1,
                                }
                            ),
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._statistics,
                            "Item": serialize(item),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except _ConditionFailed:
            raise NotFoundError(f"agent {agent_id} not found", field="agent_id") from None

    def put_trust_snapshot(self, workspace_id: str, agent_id: str, snapshot: Mapping[str, Any]) -> None:
        """Store a refresh's scores (keyed by the run's time, so a re-run overwrites, not adds)."""
        at: datetime = snapshot["computed_at"]
        self._client.put_item(
            TableName=self._statistics,
            Item=serialize(
                {
                    **snapshot,
                    "computed_at": at.isoformat(),
                    "pk": _agent_pk(workspace_id, agent_id),
                    "sk": f"TRUST#{at.isoformat()}",
                    "expires_at": _epoch(at + timedelta(days=self._settings.trust_history_days)),
                }
            ),
        )

    def trust_history(self, workspace_id: str, agent_id: str, *, limit: int) -> list[dict[str, Any]]:
        response = self._client.query(
            TableName=self._statistics,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=serialize(
                {":pk": _agent_pk(workspace_id, agent_id), ":prefix": "TRUST#"}
            ),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [self._strip(deserialize(i)) for i in response["Items"]]

    def iter_all_agents(self) -> Iterator[dict[str, Any]]:
        """Every agent of every workspace: a scan of the sparse directory index, for background
        jobs only (the index holds one small entry per agent, nothing else)."""
        request: dict[str, Any] = {"TableName": self._statistics, "IndexName": BY_WORKSPACE}
        while True:
            response = self._client.scan(**request)
            for raw in response["Items"]:
                item = deserialize(raw)
                yield {"workspace_id": item["workspace_pk"].removeprefix("WS#"), **self._strip(item)}
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def workspaces(self) -> list[str]:
        """Every workspace with at least one agent (background jobs only: scans the directory index)."""
        return sorted(self.workspace_agents())

    def expired_recommendations(self, workspace_id: str, *, now: datetime) -> Iterator[ExpiredItem]:
        """Recommendations (and their outcomes) past their expiry that TTL has not removed yet.

        An item's expiry is never before its creation + ``RETENTION_DAYS`` (evaluation moves it
        later), so only ids minted before that cutoff can have expired: a key range of the time
        index per shard, not a scan."""
        cutoff = lowest_recommendation_id(now - timedelta(days=self._settings.retention_days))
        for shard in range(self._settings.workspace_shards):
            request: dict[str, Any] = {
                "TableName": self._recommendations,
                "IndexName": BY_WORKSPACE_TIME,
                "KeyConditionExpression": "shard_pk = :p AND recommendation_id < :cutoff",
                "FilterExpression": "expires_at <= :now",
                "ProjectionExpression": "pk, sk, outcome_id",
                "ExpressionAttributeValues": serialize(
                    {":p": _shard_pk(workspace_id, shard), ":cutoff": cutoff, ":now": _epoch(now)}
                ),
            }
            for item in self._paged(request):
                pk = item["pk"]["S"]
                yield ExpiredItem("recommendations", self._recommendations, {"pk": pk, "sk": REC_SK})
                if "outcome_id" in item:
                    yield ExpiredItem("outcomes", self._recommendations, {"pk": pk, "sk": OUTCOME_SK})

    def expired_statistics(
        self, workspace_id: str, agent_ids: list[str], *, now: datetime
    ) -> Iterator[ExpiredItem]:
        """Expired statistics: the workspace's and each agent's day buckets, trust snapshots,
        adjustments and directory entries (one partition query each, filtered on the expiry)."""
        partitions = [_stats_pk(workspace_id, shard) for shard in range(self._settings.workspace_shards)]
        partitions += [_agent_pk(workspace_id, agent) for agent in agent_ids]
        for pk in partitions:
            request: dict[str, Any] = {
                "TableName": self._statistics,
                "KeyConditionExpression": "pk = :pk",
                "FilterExpression": "expires_at <= :now",
                "ProjectionExpression": "pk, sk",
                "ExpressionAttributeValues": serialize({":pk": pk, ":now": _epoch(now)}),
            }
            for item in self._paged(request):
                sk = item["sk"]["S"]
                kind = {
                    "DAY": "statistics_buckets",
                    "TRUST": "trust_snapshots",
                    "ADJ": "trust_adjustments",
                }.get(sk.split("#", 1)[0], "agent_entries")
                yield ExpiredItem(kind, self._statistics, {"pk": pk, "sk": sk})

    def workspace_agents(self) -> dict[str, list[str]]:
        """Every workspace's agents: a scan of the sparse directory index projected to the two
        ids (background jobs only; the index holds one small entry per agent, nothing else)."""
        found: dict[str, list[str]] = {}
        request: dict[str, Any] = {
            "TableName": self._statistics,
            "IndexName": BY_WORKSPACE,
            "ProjectionExpression": "workspace_pk, agent_id",
        }
        while True:
            response = self._client.scan(**request)
            for item in response["Items"]:
                found.setdefault(item["workspace_pk"]["S"].removeprefix("WS#"), []).append(
                    item["agent_id"]["S"]
                )
            if "LastEvaluatedKey" not in response:
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def delete_if_expired(self, item: ExpiredItem, *, now: datetime) -> bool:
        """Delete ``item`` only if it is still past its expiry (so nothing inside retention is ever
        touched, even if it was renewed since it was found); False when it was not (renewed, or
        already gone: safe to run twice or concurrently)."""
        try:
            self._client.delete_item(
                TableName=item.table,
                Key=serialize(item.key),
                ConditionExpression="expires_at <= :now",
                ExpressionAttributeValues=serialize({":now": _epoch(now)}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _paged(self, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        return _query_items(self._client, request)

    def log_routing_decision(self, decision: Mapping[str, Any]) -> None:
        at: datetime = decision["decided_at"]
        self._client.put_item(
            TableName=self._settings.decisions_table,
            Item=serialize(
                {
                    **decision,
                    "decided_at": at.isoformat(),
                    "pk": f"WS#{decision['workspace_id']}#DECISION#{decision['decision_id']}",
                    "workspace_pk": f"WS#{decision['workspace_id']}",  # the by_workspace_time index
                    "expires_at": _epoch(at + timedelta(days=self._settings.retention_days)),
                }
            ),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def agents_page(self, workspace_id: str, *, limit: int, next_token: str | None) -> Page:
        """A page of the workspace's agents in ``agent_id`` order (the sparse directory index)."""
        partition = f"WS#{workspace_id}"
        request: dict[str, Any] = {
            "TableName": self._statistics,
            "IndexName": BY_WORKSPACE,
            "KeyConditionExpression": "workspace_pk = :ws",
            "ExpressionAttributeValues": serialize({":ws": partition}),
        }
        return self._page(
            request, key_attr="workspace_pk", partition=partition, limit=limit, next_token=next_token
        )

    def trust_snapshots(
        self,
        workspace_id: str,
        agent_id: str,
        *,
        since: datetime,
        until: datetime,
        fields: tuple[str, ...] | None = None,
    ) -> list[dict[str, Any]]:
        """The agent's trust snapshots computed in ``[since, until]``, oldest first; only the
        top-level ``fields`` when given (a snapshot holds every dimension of every type)."""
        request: dict[str, Any] = {
            "TableName": self._statistics,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": serialize(
                {
                    ":pk": _agent_pk(workspace_id, agent_id),
                    ":lo": f"TRUST#{since.isoformat()}",
                    ":hi": f"TRUST#{until.isoformat()}",
                }
            ),
        }
        if fields:
            request["ProjectionExpression"] = ", ".join(f"#f{i}" for i in range(len(fields)))
            request["ExpressionAttributeNames"] = {f"#f{i}": name for i, name in enumerate(fields)}
        return [self._strip(deserialize(i)) for i in self._paged(request)]

    def routing_decisions(
        self, workspace_id: str, *, since: datetime, until: datetime, limit: int, next_token: str | None
    ) -> Page:
        """The workspace's routing decisions made in ``[since, until]``, newest first."""
        partition = f"WS#{workspace_id}"
        request: dict[str, Any] = {
            "TableName": self._settings.decisions_table,
            "IndexName": BY_WORKSPACE_TIME,
            "KeyConditionExpression": "workspace_pk = :ws AND decision_id BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": serialize(
                {
                    ":ws": partition,
                    ":lo": lowest_id(DECISION_PREFIX, since),
                    ":hi": highest_id(DECISION_PREFIX, until),
                }
            ),
            "ScanIndexForward": False,
        }
        return self._page(
            request, key_attr="workspace_pk", partition=partition, limit=limit, next_token=next_token
        )

    def routing_choices(
        self, workspace_id: str, *, since: datetime, until: datetime, max_decisions: int
    ) -> tuple[list[tuple[str, list[str]]], bool]:
        """Each decision's id and chosen agents in ``[since, until]``, oldest first, reading at most
        ``max_decisions``; the flag says whether the window was read to its end."""
        request: dict[str, Any] = {
            "TableName": self._settings.decisions_table,
            "IndexName": BY_WORKSPACE_TIME,
            "KeyConditionExpression": "workspace_pk = :ws AND decision_id BETWEEN :lo AND :hi",
            "ProjectionExpression": "decision_id, chosen",
            "ExpressionAttributeValues": serialize(
                {
                    ":ws": f"WS#{workspace_id}",
                    ":lo": lowest_id(DECISION_PREFIX, since),
                    ":hi": highest_id(DECISION_PREFIX, until),
                }
            ),
        }
        choices: list[tuple[str, list[str]]] = []
        for raw in self._paged(request):
            if len(choices) == max_decisions:
                return choices, False
            item = deserialize(raw)
            choices.append((item["decision_id"], [c["agent_id"] for c in item.get("chosen", [])]))
        return choices, True

    def _page(
        self, request: dict[str, Any], *, key_attr: str, partition: str, limit: int, next_token: str | None
    ) -> Page:
        start = PageToken.decode(next_token, index_key=key_attr, partition=partition)
        if start:
            request["ExclusiveStartKey"] = start
        request["Limit"] = limit
        response = self._client.query(**request)
        return Page(
            items=[self._strip(deserialize(i)) for i in response["Items"]],
            next_token=PageToken.encode(response.get("LastEvaluatedKey")),
        )

    def count_agents(self, workspace_id: str) -> int:
        total, start = 0, None
        while True:
            request: dict[str, Any] = {
                "TableName": self._statistics,
                "IndexName": BY_WORKSPACE,
                "KeyConditionExpression": "workspace_pk = :ws",
                "ExpressionAttributeValues": serialize({":ws": f"WS#{workspace_id}"}),
                "Select": "COUNT",
            }
            if start:
                request["ExclusiveStartKey"] = start
            response = self._client.query(**request)
            total += response["Count"]
            start = response.get("LastEvaluatedKey")
            if not start:
                return total

    def _buckets(
        self, pk: str, *, first_day: date, last_day: date, scope: str | None = None
    ) -> Iterator[Bucket]:
        values: dict[str, Any] = {
            ":pk": pk,
            ":lo": f"DAY#{first_day.isoformat()}",
            ":hi": f"DAY#{last_day.isoformat()}#~",
        }
        request: dict[str, Any] = {
            "TableName": self._statistics,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :lo AND :hi",
        }
        if scope is not None:
            request["FilterExpression"] = "#scope = :scope"
            request["ExpressionAttributeNames"] = {"#scope": "scope"}
            values[":scope"] = scope
        request["ExpressionAttributeValues"] = serialize(values)
        while True:
            response = self._client.query(**request)
            for raw in response["Items"]:
                item = deserialize(raw)
                sk = item.pop("sk")
                counters = {k: float(v) for k, v in item.items() if k not in _KEY_ATTRIBUTES}
                yield Bucket(
                    day=date.fromisoformat(sk.split("#")[1]),
                    recommendation_type=_scope_of(sk),
                    counters=counters,
                )
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    @staticmethod
    def _expired(item: Mapping[str, Any], now: datetime) -> bool:
        expires_at = item.get("expires_at")
        return expires_at is not None and expires_at <= _epoch(now)

    @staticmethod
    def _strip(item: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in item.items() if k not in _KEY_ATTRIBUTES}


def _query_items(client: Any, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every raw item a query returns, page after page."""
    while True:
        response = client.query(**request)
        yield from response["Items"]
        if "LastEvaluatedKey" not in response:
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _evaluated_row(item: Mapping[str, Any]) -> EvaluatedRow:
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
        confidence_score=float(item["confidence_score"]["N"]),
        action_key=action_key,
        content_keys=content_keys,
        created_at=recommendation_time(recommendation_id).timestamp(),
        approved=item["status"]["S"] == "approved",
    )


class _ConditionFailed(Exception):
    """Conditions that failed in a transaction: (item index, the item as stored, if any)."""

    def __init__(self, failures: list[tuple[int, dict[str, Any] | None]]) -> None:
        super().__init__(f"condition failed on transaction items {[i for i, _ in failures]}")
        self.failures = failures
        self.index, self.old_item = failures[0]


@cache
def get_store() -> LearningStore:
    """One store (and one boto3 client) per process, created on first use, not at import."""
    return LearningStore(get_settings())


# ---- meta-learner state (LearnerStateTable) --------------------------------------------------------
#   ``WS#<ws>`` / ``LEASE``                    who runs a cycle now, until when (conditional writes)
#   ``WS#<ws>`` / ``CURRENT``                  the version readers are served, and its part count
#   ``WS#<ws>`` / ``STATE#<version>#<part>``   a state version (compressed JSON in parts of at most
#                                              300 kB), written whole before it is made current
#   ``WS#<ws>`` / ``ITER#<iteration_id>``      a learning cycle's status and result


class LeaseHeldError(ConflictError):
    code = "cycle_running"


_STATE_PART_BYTES = 300_000  # DynamoDB items stop at 400 KB


class LearnerStateStore:
    """Versioned meta-learner state: write a new version, then make it current with one conditional
    write, so a cycle that fails midway leaves the previous state served; a lease with an expiry
    keeps two cycles of one workspace from running at once; iterations record each cycle."""

    def __init__(self, settings: Settings, client: Any | None = None) -> None:
        self._settings = settings
        self._client: Any = client or boto3.client("dynamodb", config=_CLIENT_CONFIG)
        self._table = settings.learner_table

    @staticmethod
    def _key(workspace_id: str, sk: str) -> dict[str, Any]:
        return serialize({"pk": f"WS#{workspace_id}", "sk": sk})

    def _expiry(self, now: datetime) -> int:
        return _epoch(now + timedelta(days=self._settings.learner_history_days))

    # ---- the lease ---------------------------------------------------------------------------
    def acquire_lease(self, workspace_id: str, owner: str, *, now: datetime, ttl_seconds: int) -> None:
        """Take the workspace's cycle lease, or raise ``LeaseHeldError`` while another owner holds
        an unexpired one (an expired lease of a crashed cycle is taken over)."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=serialize(
                    {
                        "pk": f"WS#{workspace_id}",
                        "sk": "LEASE",
                        "owner": owner,
                        "lease_expires_at": _epoch(now) + ttl_seconds,
                        "expires_at": _epoch(now) + ttl_seconds + 86_400,
                    }
                ),
                ConditionExpression="attribute_not_exists(pk) OR lease_expires_at < :now OR #owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues=serialize({":now": _epoch(now), ":owner": owner}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise LeaseHeldError(f"a learning cycle is already running for {workspace_id}") from None
            raise

    def release_lease(self, workspace_id: str, owner: str) -> None:
        """Give the lease back (only if still ours; a taken-over lease is left alone)."""
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=self._key(workspace_id, "LEASE"),
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues=serialize({":owner": owner}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def lease_holder(self, workspace_id: str, *, now: datetime) -> str | None:
        item = self._client.get_item(
            TableName=self._table, Key=self._key(workspace_id, "LEASE"), ConsistentRead=True
        ).get("Item")
        if item is None:
            return None
        lease = deserialize(item)
        return lease["owner"] if lease["lease_expires_at"] >= _epoch(now) else None

    # ---- state versions ----------------------------------------------------------------------
    def publish(
        self,
        workspace_id: str,
        version: str,
        state: Mapping[str, Any],
        *,
        now: datetime,
        marker: Mapping[str, Any] | None = None,
    ) -> None:
        """Write ``state`` as ``version``, then make it current — unless a newer version already is
        (two cycles racing past an expired lease: the later version wins, never a mix). ``marker``
        is kept on the pointer: small facts readers want without loading the state."""
        body = zlib.compress(json.dumps(state, separators=(",", ":"), default=str).encode())
        parts = [body[i : i + _STATE_PART_BYTES] for i in range(0, len(body), _STATE_PART_BYTES)] or [b""]
        for number, part in enumerate(parts):
            self._client.put_item(
                TableName=self._table,
                Item=serialize(
                    {
                        "pk": f"WS#{workspace_id}",
                        "sk": f"STATE#{version}#{number:04d}",
                        "state": part,
                        "created_at": now.isoformat(),
                        "expires_at": self._expiry(now),
                    }
                ),
                ConditionExpression="attribute_not_exists(pk)",
            )
        try:
            previous = self._client.put_item(
                TableName=self._table,
                Item=serialize(
                    {
                        **(marker or {}),
                        "pk": f"WS#{workspace_id}",
                        "sk": "CURRENT",
                        "version": version,
                        "parts": len(parts),
                    }
                ),
                ConditionExpression="attribute_not_exists(pk) OR version < :version",
                ExpressionAttributeValues=serialize({":version": version}),
                ReturnValues="ALL_OLD",
            ).get("Attributes")
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConflictError(f"a newer learner state than {version} is already current") from None
            raise
        # The served version never expires (a workspace that stops learning keeps what it last
        # learned); the one it replaced starts its LEARNER_HISTORY_DAYS now. A version written but
        # never made current keeps the expiry it was written with.
        self._set_part_expiry(workspace_id, version, len(parts), None)
        if previous is not None:
            old = deserialize(previous)
            self._set_part_expiry(workspace_id, old["version"], int(old["parts"]), self._expiry(now))

    def _set_part_expiry(self, workspace_id: str, version: str, parts: int, expires_at: int | None) -> None:
        for number in range(parts):
            update: dict[str, Any] = {
                "TableName": self._table,
                "Key": self._key(workspace_id, f"STATE#{version}#{number:04d}"),
                "ConditionExpression": "attribute_exists(pk)",
            }
            if expires_at is None:
                update["UpdateExpression"] = "REMOVE expires_at"
            else:
                update["UpdateExpression"] = "SET expires_at = :exp"
                update["ExpressionAttributeValues"] = serialize({":exp": expires_at})
            try:
                self._client.update_item(**update)
            except ClientError as error:
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise

    def current_marker(self, workspace_id: str) -> dict[str, Any] | None:
        """The current pointer: its version and the marker published with it."""
        item = self._client.get_item(
            TableName=self._table, Key=self._key(workspace_id, "CURRENT"), ConsistentRead=True
        ).get("Item")
        return {k: v for k, v in deserialize(item).items() if k not in ("pk", "sk")} if item else None

    def current(self, workspace_id: str) -> tuple[str, dict[str, Any]] | None:
        """The current version and its state: the pointer, then the version's parts in one query."""
        pointer = self._client.get_item(
            TableName=self._table, Key=self._key(workspace_id, "CURRENT"), ConsistentRead=True
        ).get("Item")
        if pointer is None:
            return None
        current = deserialize(pointer)
        version, expected = current["version"], current["parts"]
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": serialize(
                {":pk": f"WS#{workspace_id}", ":prefix": f"STATE#{version}#"}
            ),
        }
        parts = [
            _deserializer.deserialize(item["state"]).value for item in _query_items(self._client, request)
        ]
        if len(parts) != expected:
            # The pointer only ever names a version written whole, so parts are missing only when
            # TTL expired them (no cycle for LEARNER_HISTORY_DAYS): nothing learned is served.
            return None
        return version, json.loads(zlib.decompress(b"".join(parts)))

    # ---- iterations --------------------------------------------------------------------------
    def create_iteration(self, workspace_id: str, iteration_id: str, record: Mapping[str, Any]) -> bool:
        """Record a requested cycle as queued; False if the iteration already exists (a retry)."""
        now: datetime = record["requested_at"]
        try:
            self._client.put_item(
                TableName=self._table,
                Item=serialize(
                    {
                        **record,
                        "requested_at": now.isoformat(),
                        "pk": f"WS#{workspace_id}",
                        "sk": f"ITER#{iteration_id}",
                        "workspace_id": workspace_id,
                        "iteration_id": iteration_id,
                        "status": "queued",
                        "expires_at": self._expiry(now),
                    }
                ),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def start_iteration(self, workspace_id: str, iteration_id: str, *, now: datetime) -> bool:
        """Move a queued iteration to running; False if it already ran or is running (a retry)."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(workspace_id, f"ITER#{iteration_id}"),
                UpdateExpression="SET #s = :running, started_at = :now",
                ConditionExpression="attribute_exists(pk) AND #s = :queued",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=serialize(
                    {":running": "running", ":queued": "queued", ":now": now.isoformat()}
                ),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def finish_iteration(
        self,
        workspace_id: str,
        iteration_id: str,
        *,
        status: str,
        now: datetime,
        result: Mapping[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        """Record how an open iteration ended: succeeded with its result, or failed / skipped."""
        names = {"#s": "status"}
        values: dict[str, Any] = {
            ":status": status,
            ":now": now.isoformat(),
            ":queued": "queued",
            ":running": "running",
        }
        expression = "SET #s = :status, completed_at = :now"
        if result is not None:
            expression += ", result_json = :result"
            values[":result"] = json.dumps(result, separators=(",", ":"), default=str)
        if error is not None:
            expression += ", #e = :error"
            names["#e"] = "error"
            values[":error"] = error
        self._client.update_item(
            TableName=self._table,
            Key=self._key(workspace_id, f"ITER#{iteration_id}"),
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(pk) AND #s IN (:queued, :running)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=serialize(values),
        )

    def get_iteration(self, workspace_id: str, iteration_id: str) -> dict[str, Any] | None:
        item = self._client.get_item(
            TableName=self._table, Key=self._key(workspace_id, f"ITER#{iteration_id}"), ConsistentRead=True
        ).get("Item")
        return _iteration(item) if item else None

    def list_iterations(self, workspace_id: str, *, limit: int) -> list[dict[str, Any]]:
        """The workspace's latest iterations, newest first (iteration ids sort by time)."""
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=serialize({":pk": f"WS#{workspace_id}", ":prefix": "ITER#"}),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [_iteration(item) for item in response["Items"]]

    def expired_history(self, workspace_id: str, *, now: datetime) -> Iterator[ExpiredItem]:
        """The workspace's expired iterations and state versions; never the current version's parts
        (they carry no expiry; skipped here too, should one be read mid-publish)."""
        marker = self.current_marker(workspace_id)
        current = f"STATE#{marker['version']}#" if marker else None
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "FilterExpression": "expires_at <= :now AND (begins_with(sk, :iter) OR begins_with(sk, :state))",
            "ProjectionExpression": "pk, sk",
            "ExpressionAttributeValues": serialize(
                {":pk": f"WS#{workspace_id}", ":now": _epoch(now), ":iter": "ITER#", ":state": "STATE#"}
            ),
        }
        for item in _query_items(self._client, request):
            sk = item["sk"]["S"]
            if current is not None and sk.startswith(current):
                continue
            kind = "learner_iterations" if sk.startswith("ITER#") else "learner_versions"
            yield ExpiredItem(kind, self._table, {"pk": item["pk"]["S"], "sk": sk})


def _iteration(item: Mapping[str, Any]) -> dict[str, Any]:
    record = {k: v for k, v in deserialize(item).items() if k not in ("pk", "sk", "expires_at")}
    if "result_json" in record:
        record["result"] = json.loads(record.pop("result_json"))
    return record


@cache
def get_learner_store() -> LearnerStateStore:
    return LearnerStateStore(get_settings())


# ---- API keys (ApiKeysTable) -------------------------------------------------------------------
#   ``key_id`` -> name, workspaces, status, salt, secret_hash, usage_key, created/expires/revoked
#   times, and ``purge_at`` (TTL) once the key is revoked or set to expire.


class ApiKeyStore:
    """API keys by key id. Writes are conditional: issuing never overwrites, revoking and rotating
    only touch a key that exists, and a rotation writes the successor and retires the old key in
    one transaction."""

    def __init__(self, table: str, client: Any | None = None) -> None:
        self._client: Any = client or boto3.client("dynamodb", config=_CLIENT_CONFIG)
        self._table = table

    def put_new_key(self, record: Mapping[str, Any]) -> None:
        self._client.put_item(
            TableName=self._table,
            Item=serialize(record),
            ConditionExpression="attribute_not_exists(key_id)",
        )

    def get_key(self, key_id: str) -> dict[str, Any] | None:
        item = self._client.get_item(
            TableName=self._table, Key=serialize({"key_id": key_id}), ConsistentRead=True
        ).get("Item")
        return deserialize(item) if item else None

    def list_keys(self) -> list[dict[str, Any]]:
        # An administrator's listing of a small table; never on a request path.
        paginator = self._client.get_paginator("scan")
        return [
            deserialize(item) for page in paginator.paginate(TableName=self._table) for item in page["Items"]
        ]

    def revoke_key(self, key_id: str, *, revoked_at: str, purge_at: int) -> dict[str, Any] | None:
        try:
            answer = self._client.update_item(
                TableName=self._table,
                Key=serialize({"key_id": key_id}),
                UpdateExpression="SET #status = :revoked, revoked_at = if_not_exists(revoked_at, :at), "
                "purge_at = if_not_exists(purge_at, :purge)",
                ConditionExpression="attribute_exists(key_id)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=serialize(
                    {":revoked": "revoked", ":at": revoked_at, ":purge": purge_at}
                ),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        return deserialize(answer["Attributes"])

    def rotate_key(
        self, old_key_id: str, successor: Mapping[str, Any], *, old_expires_at: str, old_purge_at: int
    ) -> None:
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": serialize(successor),
                            "ConditionExpression": "attribute_not_exists(key_id)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": serialize({"key_id": old_key_id}),
                            "UpdateExpression": "SET expires_at = :expires, purge_at = :purge, rotated_to = :next",
                            # Only an active key that no other rotation has retired already.
                            "ConditionExpression": "#status = :active AND attribute_not_exists(rotated_to)",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": serialize(
                                {
                                    ":expires": old_expires_at,
                                    ":purge": old_purge_at,
                                    ":next": successor["key_id"],
                                    ":active": "active",
                                }
                            ),
                        }
                    },
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException":
                raise ConflictError(
                    f"API key {old_key_id} was revoked or rotated meanwhile", field="key_id"
                ) from error
            raise


@cache
def get_key_store() -> ApiKeyStore:
    return ApiKeyStore(get_settings().api_keys_table)
