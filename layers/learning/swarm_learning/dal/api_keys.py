"""The API keys table."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import boto3
from botocore.exceptions import ClientError

from swarm_learning.config import get_settings
from swarm_learning.dal.items import CLIENT_CONFIG, deserialize, serialize
from swarm_learning.errors import ConflictError

# ---- API keys (ApiKeysTable) -------------------------------------------------------------------
#   ``key_id`` -> name, workspaces, status, salt, secret_hash, usage_key, created/expires/revoked
#   times, and ``purge_at`` (TTL) once the key is revoked or set to expire.


class ApiKeyStore:
    """API keys by key id. Writes are conditional: issuing never overwrites, revoking and rotating
    only touch a key that exists, and a rotation writes the successor and retires the old key in
    one transaction."""

    def __init__(self, table: str, client: Any | None = None) -> None:
        self._client: Any = client or boto3.client("dynamodb", config=CLIENT_CONFIG)
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
