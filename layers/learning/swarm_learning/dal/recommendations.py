"""Reads of the recommendations table: recommendations, outcomes, and the index queries behind them."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from swarm_learning.dal.base import StoreBase
from swarm_learning.dal.items import (
    EVALUATED_ATTRIBUTES,
    MAX_PAGES_PER_REQUEST,
    TRANSACTION_ATTEMPTS,
    Page,
    deserialize,
    evaluated_row,
    query_filtered_page,
    serialize,
)
from swarm_learning.dal.keys import (
    BY_AGENT,
    BY_AGENT_TYPE,
    BY_WORKFLOW,
    BY_WORKSPACE_TIME,
    OUTCOME_SK,
    REC_SK,
    agent_key,
    agent_type_key,
    epoch,
    recommendation_key,
    shard_key,
    workflow_key,
)
from swarm_learning.domain.evaluated import EvaluatedRow
from swarm_learning.errors import NotFoundError
from swarm_learning.ids import (
    highest_recommendation_id,
    lowest_recommendation_id,
)
from swarm_learning.parallel import PARTITION_READS, map_all


class RecommendationReads(StoreBase):
    """Recommendations and outcomes by id, agent, workflow or time window."""

    def get_recommendation(
        self, workspace_id: str, recommendation_id: str, *, now: datetime
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The recommendation and its outcome (one query on the item collection)."""
        response = self._client.query(
            TableName=self._recommendations,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=serialize({":pk": recommendation_key(workspace_id, recommendation_id)}),
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
            Key=serialize({"pk": recommendation_key(workspace_id, recommendation_id), "sk": REC_SK}),
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
                serialize({"pk": recommendation_key(workspace_id, rid), "sk": REC_SK})
                for rid in recommendation_ids[start : start + 100]
            ]
            request: dict[str, Any] = {self._recommendations: {"Keys": keys, "ConsistentRead": True}}
            for attempt in range(TRANSACTION_ATTEMPTS):
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
            index, key_attr, partition = BY_AGENT, "agent_pk", agent_key(workspace_id, agent_id)
        else:
            index, key_attr = BY_AGENT_TYPE, "agent_type_pk"
            partition = agent_type_key(workspace_id, agent_id, recommendation_type)
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
        projecting the status only, pending ones filtered out, at most ``MAX_PAGES_PER_REQUEST``
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
                    ":p": agent_key(workspace_id, agent_id),
                    ":approved": "approved",
                    ":rejected": "rejected",
                    ":partial": "partial",
                    ":now": epoch(now),
                }
            ),
            "ScanIndexForward": False,
        }
        outcomes: list[str] = []
        for _ in range(MAX_PAGES_PER_REQUEST):
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
                partition=workflow_key(workspace_id, workflow_id),
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
        names = {"#r": "recommendation_id", "#s": "status", "#e": "expires_at"}
        reference = {name: key for key, name in names.items()}
        projected = [reference.get(name, f"#a{i}") for i, name in enumerate(EVALUATED_ATTRIBUTES)]
        names.update(dict(zip(projected, EVALUATED_ATTRIBUTES, strict=True)))
        base = {
            "TableName": self._recommendations,
            "IndexName": BY_WORKSPACE_TIME,
            "KeyConditionExpression": "shard_pk = :p AND #r BETWEEN :lo AND :hi",
            "FilterExpression": "#s IN (:approved, :rejected, :partial) AND (attribute_not_exists(#e) OR #e > :now)",
            "ProjectionExpression": ", ".join(projected),
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

        def shard_pages(shard: int) -> list[list[dict[str, Any]]]:
            request = {
                **base,
                "ExpressionAttributeValues": serialize({**values, ":p": shard_key(workspace_id, shard)}),
            }
            pages = []
            while True:
                response = self._client.query(**request)
                pages.append(response["Items"])
                if "LastEvaluatedKey" not in response:
                    return pages
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

        shards = range(self._settings.workspace_shards)
        for pages in map_all(PARTITION_READS, shard_pages, shards):
            for page in pages:
                for item in page:
                    yield evaluated_row(item)

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
        values: dict[str, Any] = {":p": partition, ":now": epoch(now)}
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
        collected, token = query_filtered_page(
            self._client, request, key_attr=key_attr, partition=partition, limit=limit, next_token=next_token
        )
        return Page(items=[self._strip(deserialize(i)) for i in collected], next_token=token)
