"""The raw boto3 calls each handler's work implies, and the operations that pair them with the handler calls."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from bench.api.calls import (
    AGENT,
    EVALUATE_PATH,
    PREFIX,
    SCORES,
    TARGET_EVALUATE_RATIO,
    TARGET_TRACK_RATIO,
    TRACK_BODY,
    TRACK_PATH,
    WORKSPACE,
    Api,
    BenchmarkError,
    _json_text,
    expect,
)
from swarm_learning.config import get_settings
from swarm_learning.dal.items import CLIENT_CONFIG, serialize
from swarm_learning.dal.keys import (
    AGENT_SK,
    ALL_SCOPE,
    BY_AGENT,
    OUTCOME_SK,
    REC_SK,
    agent_key,
    agent_type_key,
    bucket_sort_key,
    day_of,
    epoch,
    recommendation_key,
    shard_key,
    shard_of,
    stats_key,
    workflow_key,
    workspace_key,
)
from swarm_learning.domain.counters import derive_outcome, evaluation_counters, tracking_counters
from swarm_learning.domain.evaluated import canonical_action, content_keys
from swarm_learning.ids import new_outcome_id, new_recommendation_id
from swarm_learning.vocabulary import ExecutionStatus


class RawDynamoDB:
    """The DynamoDB requests each operation implies, built by hand with the items, keys and
    expressions of ``swarm_learning.dal`` and sent with a plain boto3 client: no handler,
    resolver, validation, logging, metrics or domain service. It reuses only pure helpers
    (``serialize``, the keys of ``dal.keys``, the counter formulas and the id minting)."""

    def __init__(self) -> None:
        settings = get_settings()
        self.client: Any = boto3.client("dynamodb", config=CLIENT_CONFIG)
        self._recommendations = settings.recommendations_table
        self._statistics = settings.statistics_table
        self._retention_days = settings.retention_days
        self._shards = settings.workspace_shards
        self._approved_min = settings.outcome_approved_min
        self._partial_min = settings.outcome_partial_min

    def _recommendation_item(self, body: dict[str, Any], now: datetime) -> dict[str, Any]:
        """The recommendation item ``insert_recommendation`` stores (not yet serialized)."""
        rid = new_recommendation_id(now)
        ws, agent, rtype = body["workspace_id"], body["agent_id"], body["recommendation_type"]
        workflow = body.get("workflow_id")
        return {
            "recommendation_id": rid,
            "workspace_id": ws,
            "agent_id": agent,
            "agent_name": body["agent_name"],
            "correlation_id": body.get("correlation_id"),
            "workflow_id": workflow,
            "recommendation_type": rtype,
            "content_json": _json_text(body["recommendation_content"]),
            "evidence_json": _json_text(body.get("evidence", {})),
            "action_key": canonical_action(body["recommendation_content"]),
            "content_keys": list(content_keys(body["recommendation_content"])),
            "confidence_score": body["confidence_score"],
            "reasoning": body.get("reasoning", ""),
            "execution_status": body.get("execution_status", ExecutionStatus.COMPLETED.value),
            "latency_ms": body.get("latency_ms"),
            "status": "pending",
            "created_at": now.isoformat(),
            # what a retry with the same client-minted id is checked against
            "request_fingerprint": hashlib.sha256(_json_text(body).encode()).hexdigest(),
            "pk": recommendation_key(ws, rid),
            "sk": REC_SK,
            "agent_pk": agent_key(ws, agent),
            "agent_type_pk": agent_type_key(ws, agent, rtype),
            "workflow_pk": workflow_key(ws, workflow) if workflow else None,
            "shard_pk": shard_key(ws, shard_of(rid, self._shards)),
            "expires_at": epoch(now + timedelta(days=self._retention_days)),
        }

    def seed(self, body: dict[str, Any]) -> str:
        """A pending recommendation, stored with one PutItem (set-up, never timed: evaluations and
        queries read only the recommendation item, so its counters need not exist)."""
        item = self._recommendation_item(body, datetime.now(UTC))
        self.client.put_item(TableName=self._recommendations, Item=serialize(item))
        return item["recommendation_id"]

    def track(self, body: dict[str, Any]) -> str:
        """One TransactWriteItems: the recommendation, the agent directory entry, 3 buckets."""
        now = datetime.now(UTC)
        item = self._recommendation_item(body, now)
        rid, ws, agent = item["recommendation_id"], item["workspace_id"], item["agent_id"]
        created_at, expires_at = item["created_at"], item["expires_at"]
        directory = {
            "Update": {
                "TableName": self._statistics,
                "Key": serialize({"pk": agent_key(ws, agent), "sk": AGENT_SK}),
                "UpdateExpression": (
                    "SET agent_name = :name, agent_id = :agent, workspace_pk = :ws, "
                    "last_seen_at = :now, first_seen_at = if_not_exists(first_seen_at, :first), "
                    "expires_at = :exp"
                ),
                "ExpressionAttributeValues": serialize(
                    {
                        ":name": body["agent_name"],
                        ":agent": agent,
                        ":ws": workspace_key(ws),
                        ":now": created_at,
                        ":first": created_at,
                        ":exp": expires_at,
                    }
                ),
            }
        }
        counters = tracking_counters(
            ExecutionStatus(item["execution_status"]), item["confidence_score"], item["latency_ms"]
        )
        put = {
            "Put": {
                "TableName": self._recommendations,
                "Item": serialize(item),
                "ConditionExpression": "attribute_not_exists(pk)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        self.client.transact_write_items(
            TransactItems=[
                put,
                directory,
                *self._bucket_updates(ws, agent, rid, item["recommendation_type"], now, counters),
            ]
        )
        return rid

    def evaluate(self, workspace_id: str, recommendation_id: str, scores: dict[str, Any]) -> str:
        """GetItem (consistent) + one TransactWriteItems: settle, outcome, 3 buckets."""
        pk = recommendation_key(workspace_id, recommendation_id)
        found = self.client.get_item(
            TableName=self._recommendations,
            Key=serialize({"pk": pk, "sk": REC_SK}),
            ConsistentRead=True,
        )["Item"]
        agent, rtype = found["agent_id"]["S"], found["recommendation_type"]["S"]
        confidence = float(found["confidence_score"]["N"])
        created_at = datetime.fromisoformat(found["created_at"]["S"])
        now = datetime.now(UTC)
        quality = scores["overall_quality_score"]
        outcome = derive_outcome(quality, approved_min=self._approved_min, partial_min=self._partial_min)
        outcome_id = new_outcome_id(now)
        request = {"workspace_id": workspace_id, "recommendation_id": recommendation_id, **scores}
        fingerprint = hashlib.sha256(_json_text(request).encode()).hexdigest()
        evaluated_at = now.isoformat()
        expires_at = epoch(now + timedelta(days=self._retention_days))
        settle = {
            "Update": {
                "TableName": self._recommendations,
                "Key": serialize({"pk": pk, "sk": REC_SK}),
                "UpdateExpression": (
                    "SET #status = :outcome, outcome_id = :oid, evaluated_at = :at, "
                    "overall_quality_score = :q, expires_at = :exp, evaluation_fingerprint = :fp"
                ),
                "ConditionExpression": "attribute_exists(pk) AND #status = :pending",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": serialize(
                    {
                        ":outcome": outcome.value,
                        ":oid": outcome_id,
                        ":at": evaluated_at,
                        ":q": quality,
                        ":exp": expires_at,
                        ":pending": "pending",
                        ":fp": fingerprint,
                    }
                ),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        outcome_item = {
            "outcome_id": outcome_id,
            "recommendation_id": recommendation_id,
            "agent_id": agent,
            "recommendation_type": rtype,
            "confidence_score": confidence,
            "outcome": outcome.value,
            "quality_scores": scores["quality_scores"],
            "overall_quality_score": quality,
            "evaluator_feedback": scores["evaluator_feedback"],
            "alternatives": [],
            "evaluated_at": evaluated_at,
            "workspace_id": workspace_id,
            "pk": pk,
            "sk": OUTCOME_SK,
            "expires_at": expires_at,
        }
        put = {
            "Put": {
                "TableName": self._recommendations,
                "Item": serialize(outcome_item),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        delay = (now - created_at).total_seconds()
        counters = evaluation_counters(outcome, confidence, quality, delay)
        buckets = self._bucket_updates(workspace_id, agent, recommendation_id, rtype, now, counters)
        self.client.transact_write_items(TransactItems=[settle, put, *buckets])
        return outcome_id

    def query_by_agent(self, workspace_id: str, agent_id: str, limit: int) -> int:
        """One Query on the by_agent index, newest first, expired items filtered out."""
        response = self.client.query(
            TableName=self._recommendations,
            IndexName=BY_AGENT,
            KeyConditionExpression="#p = :p",
            FilterExpression="(attribute_not_exists(#e) OR #e > :now)",
            ExpressionAttributeNames={"#p": "agent_pk", "#e": "expires_at"},
            ExpressionAttributeValues=serialize(
                {":p": agent_key(workspace_id, agent_id), ":now": epoch(datetime.now(UTC))}
            ),
            ScanIndexForward=False,
            Limit=limit,
        )
        return len(response["Items"])

    def delete(self, workspace_id: str, recommendation_ids: Sequence[str]) -> None:
        """Remove recommendations and their outcomes (housekeeping between timed calls)."""
        keys = [
            serialize({"pk": recommendation_key(workspace_id, rid), "sk": sk})
            for rid in recommendation_ids
            for sk in (REC_SK, OUTCOME_SK)
        ]
        self.client.batch_write_item(
            RequestItems={self._recommendations: [{"DeleteRequest": {"Key": key}} for key in keys]}
        )

    def _bucket_updates(
        self,
        workspace_id: str,
        agent_id: str,
        recommendation_id: str,
        recommendation_type: str,
        at: datetime,
        counters: dict[str, float],
    ) -> list[dict[str, Any]]:
        day = day_of(at)
        expires_at = epoch(datetime.fromisoformat(day).replace(tzinfo=UTC)) + 86_400 * (
            self._retention_days + 1
        )
        names = {f"#c{i}": name for i, name in enumerate(counters)}
        values: dict[str, Any] = {f":c{i}": value for i, value in enumerate(counters.values())}
        adds = ", ".join(f"#c{i} :c{i}" for i in range(len(counters)))
        shard = shard_of(recommendation_id, self._shards)
        agent_pk = agent_key(workspace_id, agent_id)
        names["#scope"] = "scope"
        keys = [
            (agent_pk, bucket_sort_key(day, None), ALL_SCOPE),
            (agent_pk, bucket_sort_key(day, recommendation_type), recommendation_type),
            (
                stats_key(workspace_id, shard),
                bucket_sort_key(day, recommendation_type),
                recommendation_type,
            ),
        ]
        return [
            {
                "Update": {
                    "TableName": self._statistics,
                    "Key": serialize({"pk": pk, "sk": sk}),
                    "UpdateExpression": f"ADD {adds} SET expires_at = :exp, #scope = :scope",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": serialize({**values, ":exp": expires_at, ":scope": scope}),
                }
            }
            for pk, sk, scope in keys
        ]


@dataclass(frozen=True)
class Trial:
    """One handler call and one raw call, prepared so that nothing but the call is timed; ``finish``
    checks both answers and removes what they wrote, so the store stays the same size."""

    handler: Callable[[], dict[str, Any]]
    raw: Callable[[], Any]
    finish: Callable[[dict[str, Any], Any], None]


@dataclass(frozen=True)
class Operation:
    name: str
    prepare: Callable[[], Trial]
    target_ratio: float | None


def track_operation(api: Api, raw: RawDynamoDB) -> Operation:
    def prepare() -> Trial:
        invocation = api.request("POST", TRACK_PATH, body=TRACK_BODY)

        def finish(response: dict[str, Any], raw_id: str) -> None:
            tracked = expect(response, 201)
            raw.delete(WORKSPACE, [tracked["recommendation_id"], raw_id])

        return Trial(invocation, lambda: raw.track(TRACK_BODY), finish)

    return Operation("track", prepare, TARGET_TRACK_RATIO)


def evaluate_operation(api: Api, raw: RawDynamoDB) -> Operation:
    def prepare() -> Trial:
        for_handler, for_raw = raw.seed(TRACK_BODY), raw.seed(TRACK_BODY)
        body = {"workspace_id": WORKSPACE, "recommendation_id": for_handler, **SCORES}
        invocation = api.request("POST", EVALUATE_PATH, body=body)

        def finish(response: dict[str, Any], _: str) -> None:
            expect(response, 200)
            raw.delete(WORKSPACE, [for_handler, for_raw])

        return Trial(invocation, lambda: raw.evaluate(WORKSPACE, for_raw, SCORES), finish)

    return Operation("evaluate", prepare, TARGET_EVALUATE_RATIO)


def agent_query_operation(api: Api, raw: RawDynamoDB, page_items: int) -> Operation:
    """The agent has ``page_items`` recommendations; both paths read them all in one page."""
    for _ in range(page_items):
        raw.seed(TRACK_BODY)
    limit = 25  # the API's default page size

    def prepare() -> Trial:
        invocation = api.request(
            "GET", f"{PREFIX}/recommendations/agent/{AGENT}", query={"workspace_id": WORKSPACE}
        )

        def finish(response: dict[str, Any], raw_count: int) -> None:
            page = expect(response, 200)
            if not page["count"] == raw_count == page_items:
                raise BenchmarkError(f"pages differ: handler {page['count']}, raw {raw_count}")

        return Trial(invocation, lambda: raw.query_by_agent(WORKSPACE, AGENT, limit), finish)

    return Operation(f"by-agent query ({page_items} items)", prepare, None)
