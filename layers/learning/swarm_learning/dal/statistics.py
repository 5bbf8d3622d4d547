"""The statistics table: the agent directory, day buckets of counters, adjustments and trust snapshots."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from swarm_learning.dal.base import StoreBase
from swarm_learning.dal.items import Bucket, ConditionFailed, Page, deserialize, serialize
from swarm_learning.dal.keys import (
    AGENT_SK,
    ALL_SCOPE,
    BY_WORKSPACE,
    KEY_ATTRIBUTES,
    agent_key,
    epoch,
    scope_of,
    stats_key,
    workspace_key,
    workspace_of,
)
from swarm_learning.errors import NotFoundError
from swarm_learning.parallel import PARTITION_READS, map_all


class StatisticsStore(StoreBase):
    """Agents, their counters and trust history."""

    def agent_directory_entry(self, workspace_id: str, agent_id: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._statistics,
            Key=serialize({"pk": agent_key(workspace_id, agent_id), "sk": AGENT_SK}),
        )
        item = response.get("Item")
        return self._strip(deserialize(item)) if item else None

    def agent_buckets(
        self, workspace_id: str, agent_id: str, *, first_day: date, last_day: date
    ) -> list[Bucket]:
        """The agent's day buckets (all types and per type) in ``[first_day, last_day]``."""
        return list(self._buckets(agent_key(workspace_id, agent_id), first_day=first_day, last_day=last_day))

    def workspace_buckets(
        self,
        workspace_id: str,
        *,
        first_day: date,
        last_day: date,
        counters: tuple[str, ...] | None = None,
    ) -> list[Bucket]:
        """Per-type day buckets of the whole workspace: one query per shard, run concurrently;
        only the named ``counters`` when given (a bucket holds ~20)."""

        def shard_buckets(shard: int) -> list[Bucket]:
            return list(
                self._buckets(
                    stats_key(workspace_id, shard), first_day=first_day, last_day=last_day, only=counters
                )
            )

        shards = map_all(PARTITION_READS, shard_buckets, range(self._settings.workspace_shards))
        return [b for buckets in shards for b in buckets]

    def agent_scope_buckets(
        self,
        workspace_id: str,
        agent_id: str,
        scope: str | None,
        *,
        first_day: date,
        last_day: date,
        counters: tuple[str, ...] | None = None,
    ) -> list[Bucket]:
        """One scope's day buckets: all types (``scope=None``) or one recommendation type; only
        the named ``counters`` when given."""
        return list(
            self._buckets(
                agent_key(workspace_id, agent_id),
                first_day=first_day,
                last_day=last_day,
                scope=scope or ALL_SCOPE,
                only=counters,
            )
        )

    def register_agent(self, workspace_id: str, agent_id: str, agent_name: str, *, now: datetime) -> bool:
        """Create (or rename) the agent's directory entry; True when it did not exist."""
        response = self._client.update_item(
            TableName=self._statistics,
            Key=serialize({"pk": agent_key(workspace_id, agent_id), "sk": AGENT_SK}),
            UpdateExpression=(
                "SET agent_name = :name, agent_id = :agent, workspace_pk = :ws, "
                "first_seen_at = if_not_exists(first_seen_at, :now), "
                "last_seen_at = if_not_exists(last_seen_at, :now), expires_at = :exp"
            ),
            ExpressionAttributeValues=serialize(
                {
                    ":name": agent_name,
                    ":agent": agent_id,
                    ":ws": workspace_key(workspace_id),
                    ":now": now.isoformat(),
                    ":exp": epoch(now + timedelta(days=self._settings.retention_days)),
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
            "ExpressionAttributeValues": serialize({":ws": workspace_key(workspace_id)}),
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
        pk = agent_key(workspace_id, agent_id)
        item = {
            **adjustment,
            "adjusted_at": at.isoformat(),
            "pk": pk,
            "sk": f"ADJ#{adjustment['adjustment_id']}",
            "expires_at": epoch(at + timedelta(days=self._settings.retention_days)),
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
        except ConditionFailed:
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
                    "pk": agent_key(workspace_id, agent_id),
                    "sk": f"TRUST#{at.isoformat()}",
                    "expires_at": epoch(at + timedelta(days=self._settings.trust_history_days)),
                }
            ),
        )

    def trust_history(self, workspace_id: str, agent_id: str, *, limit: int) -> list[dict[str, Any]]:
        response = self._client.query(
            TableName=self._statistics,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=serialize(
                {":pk": agent_key(workspace_id, agent_id), ":prefix": "TRUST#"}
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
                yield {"workspace_id": workspace_of(item["workspace_pk"]), **self._strip(item)}
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def agents_page(self, workspace_id: str, *, limit: int, next_token: str | None) -> Page:
        """A page of the workspace's agents in ``agent_id`` order (the sparse directory index)."""
        partition = workspace_key(workspace_id)
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
                    ":pk": agent_key(workspace_id, agent_id),
                    ":lo": f"TRUST#{since.isoformat()}",
                    ":hi": f"TRUST#{until.isoformat()}",
                }
            ),
        }
        if fields:
            request["ProjectionExpression"] = ", ".join(f"#f{i}" for i in range(len(fields)))
            request["ExpressionAttributeNames"] = {f"#f{i}": name for i, name in enumerate(fields)}
        return [self._strip(deserialize(i)) for i in self._paged(request)]

    def count_agents(self, workspace_id: str) -> int:
        total, start = 0, None
        while True:
            request: dict[str, Any] = {
                "TableName": self._statistics,
                "IndexName": BY_WORKSPACE,
                "KeyConditionExpression": "workspace_pk = :ws",
                "ExpressionAttributeValues": serialize({":ws": workspace_key(workspace_id)}),
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
        self,
        pk: str,
        *,
        first_day: date,
        last_day: date,
        scope: str | None = None,
        only: tuple[str, ...] | None = None,
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
        names: dict[str, str] = {}
        if scope is not None:
            request["FilterExpression"] = "#scope = :scope"
            names["#scope"] = "scope"
            values[":scope"] = scope
        if only is not None:  # these counters; the sort key says the day and the scope
            projected = {f"#c{i}": name for i, name in enumerate(("sk", *only))}
            request["ProjectionExpression"] = ", ".join(projected)
            names.update(projected)
        if names:
            request["ExpressionAttributeNames"] = names
        request["ExpressionAttributeValues"] = serialize(values)
        while True:
            response = self._client.query(**request)
            for raw in response["Items"]:
                item = deserialize(raw)
                sk = item.pop("sk")
                counters = {k: float(v) for k, v in item.items() if k not in KEY_ATTRIBUTES}
                yield Bucket(
                    day=date.fromisoformat(sk.split("#")[1]),
                    recommendation_type=scope_of(sk),
                    counters=counters,
                )
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
