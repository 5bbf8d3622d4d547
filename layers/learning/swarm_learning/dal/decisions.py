"""The routing decisions table: one item per routing decision, read back by time window."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from swarm_learning.dal.base import StoreBase
from swarm_learning.dal.items import Page, deserialize, serialize
from swarm_learning.dal.keys import BY_WORKSPACE_TIME, decision_key, epoch, workspace_key
from swarm_learning.ids import (
    DECISION_PREFIX,
    highest_id,
    lowest_id,
)


class RoutingDecisionLog(StoreBase):
    """Routing decisions, written once, read newest or oldest first."""

    def log_routing_decision(self, decision: Mapping[str, Any]) -> None:
        at: datetime = decision["decided_at"]
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
