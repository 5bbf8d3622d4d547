"""The learner-state table: versioned meta-learner state, the cycle lease and iteration records."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import boto3
from botocore.exceptions import ClientError

from swarm_learning.config import Settings, get_settings
from swarm_learning.dal.items import (
    CLIENT_CONFIG,
    ExpiredItem,
    deserialize,
    query_items,
    raw_value,
    serialize,
)
from swarm_learning.dal.keys import epoch, workspace_key
from swarm_learning.errors import ConflictError

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
        self._client: Any = client or boto3.client("dynamodb", config=CLIENT_CONFIG)
        self._table = settings.learner_table

    @staticmethod
    def _key(workspace_id: str, sk: str) -> dict[str, Any]:
        return serialize({"pk": workspace_key(workspace_id), "sk": sk})

    def _expiry(self, now: datetime) -> int:
        return epoch(now + timedelta(days=self._settings.learner_history_days))

    # ---- the lease ---------------------------------------------------------------------------
    def acquire_lease(self, workspace_id: str, owner: str, *, now: datetime, ttl_seconds: int) -> None:
        """Take the workspace's cycle lease, or raise ``LeaseHeldError`` while another owner holds
        an unexpired one (an expired lease of a crashed cycle is taken over)."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=serialize(
                    {
                        "pk": workspace_key(workspace_id),
                        "sk": "LEASE",
                        "owner": owner,
                        "lease_expires_at": epoch(now) + ttl_seconds,
                        "expires_at": epoch(now) + ttl_seconds + 86_400,
                    }
                ),
                ConditionExpression="attribute_not_exists(pk) OR lease_expires_at < :now OR #owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues=serialize({":now": epoch(now), ":owner": owner}),
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
        return lease["owner"] if lease["lease_expires_at"] >= epoch(now) else None

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
                        "pk": workspace_key(workspace_id),
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
                        "pk": workspace_key(workspace_id),
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
                {":pk": workspace_key(workspace_id), ":prefix": f"STATE#{version}#"}
            ),
        }
        parts = [raw_value(item["state"]).value for item in query_items(self._client, request)]
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
                        "pk": workspace_key(workspace_id),
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
            ExpressionAttributeValues=serialize({":pk": workspace_key(workspace_id), ":prefix": "ITER#"}),
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
                {":pk": workspace_key(workspace_id), ":now": epoch(now), ":iter": "ITER#", ":state": "STATE#"}
            ),
        }
        for item in query_items(self._client, request):
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
