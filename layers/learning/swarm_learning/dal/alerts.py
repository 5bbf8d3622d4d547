"""Alert states and the alerts they raised, in the learner-state table.

A state moves with one transaction: the state item, conditioned on the version the caller read,
and the alert it raises, conditioned on not existing. Two jobs that read the same version race on
that condition: one writes (and publishes the alert), the other's transaction is cancelled and it
re-reads. So an alert is raised exactly once per change of state, whatever runs concurrently.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import boto3
from botocore.exceptions import ClientError

from swarm_learning.config import Settings, get_settings
from swarm_learning.dal.items import (
    CLIENT_CONFIG,
    Page,
    deserialize,
    query_filtered_page,
    serialize,
)
from swarm_learning.dal.keys import (
    ALERT_PREFIX,
    alert_sort_key,
    alert_state_sort_key,
    epoch,
    workspace_key,
)


@dataclass(frozen=True)
class StoredState:
    """A subject's state as stored, and the version a transition must name."""

    state: dict[str, Any]
    version: int


class AlertStore:
    def __init__(self, settings: Settings, client: Any | None = None) -> None:
        self._settings = settings
        self._client: Any = client or boto3.client("dynamodb", config=CLIENT_CONFIG)
        self._table = settings.learner_table

    def state(self, workspace_id: str, subject: str) -> StoredState | None:
        item = self._client.get_item(
            TableName=self._table,
            Key=serialize({"pk": workspace_key(workspace_id), "sk": alert_state_sort_key(subject)}),
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            return None
        stored = deserialize(item)
        return StoredState(json.loads(stored["state_json"]), int(stored["version"]))

    def transition(
        self,
        workspace_id: str,
        subject: str,
        *,
        expected_version: int | None,
        state: Mapping[str, Any],
        alert: Mapping[str, Any] | None,
        now: datetime,
    ) -> bool:
        """Move ``subject`` to ``state`` if it is still at ``expected_version`` (None: no state yet),
        recording ``alert`` with it; False when another writer moved it first (nothing written)."""
        pk = workspace_key(workspace_id)
        condition = "attribute_not_exists(pk)" if expected_version is None else "version = :expected"
        values: dict[str, Any] = {
            ":state": json.dumps(dict(state), separators=(",", ":"), sort_keys=True, default=str),
            ":version": (expected_version or 0) + 1,
            ":now": now.isoformat(),
        }
        if expected_version is not None:
            values[":expected"] = expected_version
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": serialize({"pk": pk, "sk": alert_state_sort_key(subject)}),
                    "UpdateExpression": "SET state_json = :state, version = :version, updated_at = :now",
                    "ConditionExpression": condition,
                    "ExpressionAttributeValues": serialize(values),
                }
            }
        ]
        if alert is not None:
            items.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": serialize(
                            {
                                "pk": pk,
                                "sk": alert_sort_key(alert["alert_id"]),
                                # What the feed filters on, beside the alert as published.
                                "kind": alert["kind"],
                                "agent_id": alert.get("agent_id"),
                                "alert_json": json.dumps(dict(alert), separators=(",", ":"), default=str),
                                # The writer publishes it now; publish_pending may take over later.
                                "claimed_at": epoch(now),
                                "expires_at": epoch(
                                    now + timedelta(days=self._settings.learner_history_days)
                                ),
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error.response["Error"]["Code"] in (
                "TransactionCanceledException",
                "ConditionalCheckFailedException",
            ):
                reasons = error.response.get("CancellationReasons") or []
                if not reasons or any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
                    return False
            raise
        return True

    def mark_published(self, workspace_id: str, alert_id: str, *, at: datetime) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=serialize({"pk": workspace_key(workspace_id), "sk": alert_sort_key(alert_id)}),
            UpdateExpression="SET published_at = :at",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=serialize({":at": at.isoformat()}),
        )

    def unpublished(self, workspace_id: str, *, since: str, claimed_before: datetime) -> list[dict[str, Any]]:
        """Alerts raised after ``since`` (an alert id) whose event the bus has not accepted, and that
        no job has claimed since ``claimed_before`` (the job that raised one claims it)."""
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND sk > :since",
            FilterExpression="attribute_not_exists(published_at) AND begins_with(sk, :prefix) AND claimed_at < :before",
            ExpressionAttributeValues=serialize(
                {
                    ":pk": workspace_key(workspace_id),
                    ":since": alert_sort_key(since),
                    ":prefix": ALERT_PREFIX,
                    ":before": epoch(claimed_before),
                }
            ),
        )
        return [_alert(item) for item in response["Items"]]

    def claim(self, workspace_id: str, alert_id: str, *, now: datetime, claimed_before: datetime) -> bool:
        """Take over publishing an unpublished alert whose claim is older than ``claimed_before``;
        False when it was published or claimed again meanwhile (by a concurrent job)."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=serialize({"pk": workspace_key(workspace_id), "sk": alert_sort_key(alert_id)}),
                UpdateExpression="SET claimed_at = :now",
                ConditionExpression="attribute_not_exists(published_at) AND claimed_at < :before",
                ExpressionAttributeValues=serialize({":now": epoch(now), ":before": epoch(claimed_before)}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def alerts_page(
        self,
        workspace_id: str,
        *,
        limit: int,
        next_token: str | None,
        kind: str | None = None,
        agent_id: str | None = None,
    ) -> Page:
        """The workspace's alerts, newest first, optionally of one kind and/or one agent."""
        pk = workspace_key(workspace_id)
        filters, values = [], {":pk": pk, ":prefix": ALERT_PREFIX}
        names: dict[str, str] = {}
        if kind is not None:
            filters.append("#kind = :kind")
            names["#kind"] = "kind"
            values[":kind"] = kind
        if agent_id is not None:
            filters.append("agent_id = :agent")
            values[":agent"] = agent_id
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": serialize(values),
            "ScanIndexForward": False,
        }
        if filters:
            request["FilterExpression"] = " AND ".join(filters)
        if names:
            request["ExpressionAttributeNames"] = names
        collected, token = query_filtered_page(
            self._client, request, key_attr="pk", partition=pk, limit=limit, next_token=next_token
        )
        return Page(items=[_alert(i) for i in collected], next_token=token)


def _alert(item: Mapping[str, Any]) -> dict[str, Any]:
    """The alert as raised, and ``published_at`` once the bus accepted its event."""
    stored = deserialize(item)
    return {**json.loads(stored["alert_json"]), "published_at": stored.get("published_at")}


@cache
def get_alert_store() -> AlertStore:
    return AlertStore(get_settings())
