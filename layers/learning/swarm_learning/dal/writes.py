"""Writes of recommendations and outcomes with their counters: transactions over the recommendations
and statistics tables, batched and retried."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from swarm_learning.dal.base import StoreBase
from swarm_learning.dal.items import (
    MAX_TRANSACTION_ITEMS,
    ConditionFailed,
    EvaluationWrite,
    TrackWrite,
    WriteResult,
    WriteState,
    serialize,
)
from swarm_learning.dal.keys import (
    AGENT_SK,
    ALL_SCOPE,
    OUTCOME_SK,
    REC_SK,
    agent_key,
    agent_type_key,
    bucket_sort_key,
    day_of,
    epoch,
    recommendation_key,
    scope_of,
    shard_key,
    shard_of,
    stats_key,
    workflow_key,
    workspace_key,
)
from swarm_learning.errors import AlreadyEvaluatedError, NotFoundError


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
        return recommendation_key(self.workspace_id, self.recommendation_id)

    @property
    def agent_pk(self) -> str:
        return agent_key(self.workspace_id, self.agent_id)

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
    day = day_of(keys.at)
    shard = shard_of(keys.recommendation_id, shards) if shard is None else shard
    agent_pk = agent_key(keys.workspace_id, keys.agent_id)
    return [
        (agent_pk, bucket_sort_key(day, None)),
        (agent_pk, bucket_sort_key(day, keys.recommendation_type)),
        (stats_key(keys.workspace_id, shard), bucket_sort_key(day, keys.recommendation_type)),
    ]


@dataclass
class _Seen:
    first: Mapping[str, Any]
    last: Mapping[str, Any]
    name: str | None  # the name of the latest write that gave one (None: no write named the agent)


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
                self.directory[agent] = _Seen(record, record, record.get("agent_name"))
            else:
                first = record if record["created_at"] < seen.first["created_at"] else seen.first
                last = record if record["created_at"] >= seen.last["created_at"] else seen.last
                self.directory[agent] = _Seen(first, last, record.get("agent_name") or seen.name)
        else:
            keys = _TrackKeys.of_evaluation(write.recommendation, write.outcome)
        if self._shard is None:
            self._shard = shard_of(keys.recommendation_id, self._shards)
        for key in _bucket_keys(keys, self._shards, shard=self._shard):
            totals = self.counts.setdefault(key, {})
            for name, value in write.counters.items():
                totals[name] = totals.get(name, 0) + value


class EventWrites(StoreBase):
    """Recommendation and outcome writes, each with the counters it adds, in transactions."""

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
                    self._directory_update(record, record, record.get("agent_name")),
                    *self._counter_updates(self._counts_for(_TrackKeys.of(record), counters)),
                ]
            )
        except ConditionFailed as failure:
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
        except ConditionFailed as failure:
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
                except ConditionFailed as failure:
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
        ``MAX_TRANSACTION_ITEMS`` items each, and never two operations on one item. A write goes
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
                if not members or len(keys) + len(own) + trial.size() <= MAX_TRANSACTION_ITEMS:
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
            "agent_type_pk": agent_type_key(keys.workspace_id, keys.agent_id, keys.recommendation_type),
            "workflow_pk": (
                workflow_key(keys.workspace_id, record["workflow_id"]) if record.get("workflow_id") else None
            ),
            "shard_pk": shard_key(
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
        return epoch(at + timedelta(days=self._settings.retention_days))

    def _directory_update(
        self, first: Mapping[str, Any], last: Mapping[str, Any], agent_name: str | None
    ) -> dict[str, Any]:
        """The agent's directory entry: seen between ``first`` and ``last`` (records). A write
        that names no agent keeps the stored name (``if_not_exists``, no read): only a given name
        renames; a new agent without one is named by its id."""
        ws, agent = last["workspace_id"], last["agent_id"]
        last_seen: datetime = last["created_at"]
        name = ":name" if agent_name is not None else "if_not_exists(agent_name, :agent)"
        values = {":name": agent_name} if agent_name is not None else {}
        return {
            "Update": {
                "TableName": self._statistics,
                "Key": serialize({"pk": agent_key(ws, agent), "sk": AGENT_SK}),
                "UpdateExpression": (
                    f"SET agent_name = {name}, agent_id = :agent, workspace_pk = :ws, "
                    "last_seen_at = :now, first_seen_at = if_not_exists(first_seen_at, :first), "
                    "expires_at = :exp"
                ),
                "ExpressionAttributeValues": serialize(
                    {
                        **values,
                        ":agent": agent,
                        ":ws": workspace_key(ws),
                        ":now": last_seen.isoformat(),
                        ":first": first["created_at"].isoformat(),
                        ":exp": self._expiry(last_seen),
                    }
                ),
            }
        }

    def _directory_updates(self, seen: Mapping[tuple[str, str], _Seen]) -> list[dict[str, Any]]:
        return [self._directory_update(s.first, s.last, s.name) for s in seen.values()]

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
            "pk": recommendation_key(ws, rid),
            "sk": OUTCOME_SK,
            "expires_at": expires_at,
        }
        settle = {
            "Update": {
                "TableName": self._recommendations,
                "Key": serialize({"pk": recommendation_key(ws, rid), "sk": REC_SK}),
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
            expires_at = epoch(datetime.fromisoformat(day).replace(tzinfo=UTC)) + 86_400 * (
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
                            {**values, ":exp": expires_at, ":scope": scope_of(sk) or ALL_SCOPE}
                        ),
                    }
                }
            )
        return updates
