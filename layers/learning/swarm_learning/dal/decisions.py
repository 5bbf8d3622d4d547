"""The routing decisions table: one item per routing decision, read back by time window."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from swarm_learning.dal.base import StoreBase
from swarm_learning.dal.items import Page, deserialize, serialize
from swarm_learning.dal.keys import BY_WORKSPACE_TIME, decision_key, epoch, shard_key, workspace_key
from swarm_learning.ids import (
    DECISION_PREFIX,
    highest_id,
    highest_recommendation_id,
    lowest_id,
    lowest_recommendation_id,
)
from swarm_learning.parallel import PARTITION_READS, map_all

# What offline evaluation reads of a decision (everything but bookkeeping).
_EVALUATION_ATTRIBUTES = (
    "decision_id",
    "recommendation_type",
    "mode",
    "chosen",
    "candidates",
    "preferred",
    "applied_rules",
    "exploration_floor",
)


class RoutingDecisionLog(StoreBase):
    """Routing decisions, written once, read newest or oldest first."""

    def log_routing_decision(self, decision: Mapping[str, Any]) -> dict[str, Any] | None:
        """Write the decision once; when its id is already logged (a client-minted id sent again),
        write nothing and return the stored decision."""
        at: datetime = decision["decided_at"]
        try:
            self._put_decision(decision, at)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return self.get_routing_decision(decision["workspace_id"], decision["decision_id"])
        return None

    def get_routing_decision(self, workspace_id: str, decision_id: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._settings.decisions_table,
            Key=serialize({"pk": decision_key(workspace_id, decision_id)}),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return self._strip(deserialize(item)) if item else None

    def _put_decision(self, decision: Mapping[str, Any], at: datetime) -> None:
        self._client.put_item(
            TableName=self._settings.decisions_table,
            Item=serialize(
                {
                    **decision,
                    "decided_at": at.isoformat(),
                    "pk": decision_key(decision["workspace_id"], decision["decision_id"]),
                    "workspace_pk": workspace_key(decision["workspace_id"]),  # the by_workspace_time index
                    "expires_at": epoch(at + timedelta(days=self._settings.retention_days)),
                }
            ),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def routing_decisions(
        self, workspace_id: str, *, since: datetime, until: datetime, limit: int, next_token: str | None
    ) -> Page:
        """The workspace's routing decisions made in ``[since, until]``, newest first."""
        partition = workspace_key(workspace_id)
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
                    ":ws": workspace_key(workspace_id),
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

    def iter_routing_decisions(
        self, workspace_id: str, *, since: datetime, until: datetime, recommendation_type: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """The workspace's decisions made in ``[since, until]`` (of one type, if given), oldest
        first, with what offline evaluation needs: candidates, their posteriors and first-slot
        probabilities, the rules applied, the mode and the floor."""
        names = {f"#{i}": name for i, name in enumerate(_EVALUATION_ATTRIBUTES)}
        values: dict[str, Any] = {
            ":ws": workspace_key(workspace_id),
            ":lo": lowest_id(DECISION_PREFIX, since),
            ":hi": highest_id(DECISION_PREFIX, until),
        }
        request: dict[str, Any] = {
            "TableName": self._settings.decisions_table,
            "IndexName": BY_WORKSPACE_TIME,
            "KeyConditionExpression": "workspace_pk = :ws AND #0 BETWEEN :lo AND :hi",
            "ProjectionExpression": ", ".join(names),
            "ExpressionAttributeNames": names,
        }
        if recommendation_type is not None:
            request["FilterExpression"] = "#1 = :type"
            values[":type"] = recommendation_type
        request["ExpressionAttributeValues"] = serialize(values)
        for raw in self._paged(request):
            yield deserialize(raw)

    def decision_outcomes(
        self, workspace_id: str, *, since: datetime, until: datetime
    ) -> list[tuple[str, str, str, str]]:
        """``(decision_id, recommendation_id, agent_id, status)`` of every evaluated recommendation
        created in ``[since, until]`` that carries a routing decision id: the outcomes that join the
        decisions. Every shard of the time index is read in parallel."""
        names = {
            "#r": "recommendation_id",
            "#d": "decision_id",
            "#a": "agent_id",
            "#s": "status",
            "#e": "expires_at",
        }
        base = {
            "TableName": self._recommendations,
            "IndexName": BY_WORKSPACE_TIME,
            "KeyConditionExpression": "shard_pk = :p AND #r BETWEEN :lo AND :hi",
            "FilterExpression": (
                "attribute_exists(#d) AND #s IN (:approved, :rejected, :partial) "
                "AND (attribute_not_exists(#e) OR #e > :now)"
            ),
            "ProjectionExpression": "#r, #d, #a, #s",
            "ExpressionAttributeNames": names,
        }
        values = {
            ":lo": lowest_recommendation_id(since),
            ":hi": highest_recommendation_id(until),
            ":approved": "approved",
            ":rejected": "rejected",
            ":partial": "partial",
            ":now": epoch(until),
        }

        def shard(n: int) -> list[tuple[str, str, str, str]]:
            request = {
                **base,
                "ExpressionAttributeValues": serialize({**values, ":p": shard_key(workspace_id, n)}),
            }
            return [
                (item["decision_id"], item["recommendation_id"], item["agent_id"], item["status"])
                for item in map(deserialize, self._paged(request))
                if item.get("decision_id")
            ]

        return [
            row
            for rows in map_all(PARTITION_READS, shard, range(self._settings.workspace_shards))
            for row in rows
        ]
