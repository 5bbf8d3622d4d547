"""What every part of the learning store shares: the client, the table names, paging."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from swarm_learning.config import Settings
from swarm_learning.dal.items import (
    CLIENT_CONFIG,
    TRANSACTION_ATTEMPTS,
    ConditionFailed,
    Page,
    PageToken,
    deserialize,
    query_items,
)
from swarm_learning.dal.keys import KEY_ATTRIBUTES, epoch


class StoreBase:
    """The client and table names, and the query helpers every part of the store uses."""

    def __init__(self, settings: Settings, client: Any | None = None) -> None:
        self._settings = settings
        self._client: Any = client or boto3.client(
            "dynamodb",
            config=CLIENT_CONFIG,
        )
        self._recommendations = settings.recommendations_table
        self._statistics = settings.statistics_table

    @property
    def client(self) -> Any:
        return self._client

    def _paged(self, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        return query_items(self._client, request)

    def _page(
        self, request: dict[str, Any], *, key_attr: str, partition: str, limit: int, next_token: str | None
    ) -> Page:
        start = PageToken.decode(next_token, index_key=key_attr, partition=partition)
        if start:
            request["ExclusiveStartKey"] = start
        request["Limit"] = limit
        response = self._client.query(**request)
        return Page(
            items=[self._strip(deserialize(i)) for i in response["Items"]],
            next_token=PageToken.encode(response.get("LastEvaluatedKey")),
        )

    @staticmethod
    def _expired(item: Mapping[str, Any], now: datetime) -> bool:
        expires_at = item.get("expires_at")
        return expires_at is not None and expires_at <= epoch(now)

    @staticmethod
    def _strip(item: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in item.items() if k not in KEY_ATTRIBUTES}

    def _transact(self, items: list[dict[str, Any]]) -> None:
        """One transaction; retried with jittered backoff only when it lost a race with another
        transaction on a shared counter item (a conflict), never when a condition failed."""
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                self._client.transact_write_items(TransactItems=items)
                return
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = error.response.get("CancellationReasons", [])
                failures = [
                    (index, deserialize(reason["Item"]) if reason.get("Item") else None)
                    for index, reason in enumerate(reasons)
                    if reason.get("Code") == "ConditionalCheckFailed"
                ]
                if failures:
                    raise ConditionFailed(failures) from error
                conflicted = any(r.get("Code") == "TransactionConflict" for r in reasons)
                if not conflicted or attempt == TRANSACTION_ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0, 0.025 * 2**attempt))  # noqa: S311 - jitter, not crypto
