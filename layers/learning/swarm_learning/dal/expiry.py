"""Finding and deleting what is past its retention, for the cleanup job."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from swarm_learning.dal.base import StoreBase
from swarm_learning.dal.items import ExpiredItem, serialize
from swarm_learning.dal.keys import (
    BY_WORKSPACE,
    BY_WORKSPACE_TIME,
    OUTCOME_SK,
    REC_SK,
    agent_key,
    epoch,
    shard_key,
    stats_key,
    workspace_of,
)
from swarm_learning.ids import (
    lowest_recommendation_id,
)


class ExpiryScans(StoreBase):
    """Scans for expired items and their conditional deletion."""

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
                    {":p": shard_key(workspace_id, shard), ":cutoff": cutoff, ":now": epoch(now)}
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
        partitions = [stats_key(workspace_id, shard) for shard in range(self._settings.workspace_shards)]
        partitions += [agent_key(workspace_id, agent) for agent in agent_ids]
        for pk in partitions:
            request: dict[str, Any] = {
                "TableName": self._statistics,
                "KeyConditionExpression": "pk = :pk",
                "FilterExpression": "expires_at <= :now",
                "ProjectionExpression": "pk, sk",
                "ExpressionAttributeValues": serialize({":pk": pk, ":now": epoch(now)}),
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
                found.setdefault(workspace_of(item["workspace_pk"]["S"]), []).append(item["agent_id"]["S"])
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
                ExpressionAttributeValues=serialize({":now": epoch(now)}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True
