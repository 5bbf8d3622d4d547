"""Where OTLP spans meet their evaluations: the recommendation each agent span became, and the
evaluations that arrived before their span, kept until it does (or until they expire).

Both are items of the recommendations table under the span's own partition
(``WS#<ws>#SPAN#<trace><span>``), never indexed: ``SPAN`` holds the recommendation id (expires with
the recommendation), ``EARLY_EVALUATION`` the waiting evaluation (expires after the bound). A span
and its early evaluation may arrive at the same moment in two requests; each side writes first and
reads the other second (consistent reads), so at least one of them sees the pair and applies it,
and the evaluation's derived ``outcome_id`` makes a second application a harmless replay.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from swarm_learning.dal.base import StoreBase
from swarm_learning.dal.items import deserialize, serialize
from swarm_learning.dal.keys import EARLY_EVALUATION_SK, SPAN_SK, epoch, span_key

SpanKey = tuple[str, str]  # (trace id, span id), hex
_BATCH_GET = 100  # DynamoDB's BatchGetItem limit
_BATCH_WRITE = 25  # DynamoDB's BatchWriteItem limit
_UNPROCESSED_ATTEMPTS = 5


class SpanLinks(StoreBase):
    def link_spans(
        self, workspace_id: str, links: Mapping[SpanKey, str], *, created_at: Mapping[SpanKey, datetime]
    ) -> None:
        """Remember which recommendation each span became (idempotent puts)."""
        items = [
            {
                "PutRequest": {
                    "Item": serialize(
                        {
                            "pk": span_key(workspace_id, *key),
                            "sk": SPAN_SK,
                            "recommendation_id": rid,
                            "expires_at": epoch(
                                created_at[key] + timedelta(days=self._settings.retention_days)
                            ),
                        }
                    )
                }
            }
            for key, rid in links.items()
        ]
        self._batch_write(items)

    def linked_recommendations(
        self, workspace_id: str, keys: Iterable[SpanKey], *, now: datetime
    ) -> dict[SpanKey, str]:
        """The recommendation ids of the spans that have one (consistent read)."""
        found = self._batch_get(workspace_id, keys, SPAN_SK, now)
        return {key: item["recommendation_id"] for key, item in found.items()}

    def early_evaluations(
        self, workspace_id: str, keys: Iterable[SpanKey], *, now: datetime
    ) -> dict[SpanKey, dict[str, Any]]:
        """The unexpired evaluations waiting for these spans (consistent read)."""
        found = self._batch_get(workspace_id, keys, EARLY_EVALUATION_SK, now)
        return {key: json.loads(item["evaluation_json"]) for key, item in found.items()}

    def keep_early_evaluation(
        self,
        workspace_id: str,
        key: SpanKey,
        evaluation: Mapping[str, Any],
        *,
        now: datetime,
        expires_at: datetime,
    ) -> dict[str, Any] | None:
        """Keep an evaluation until its span arrives. None when kept (or already kept: a retry);
        else the other evaluation already waiting for the span (nothing written)."""
        text = json.dumps(evaluation, separators=(",", ":"), sort_keys=True)
        try:
            self._client.put_item(
                TableName=self._recommendations,
                Item=serialize(
                    {
                        "pk": span_key(workspace_id, *key),
                        "sk": EARLY_EVALUATION_SK,
                        "evaluation_json": text,
                        "received_at": now.isoformat(),
                        "expires_at": epoch(expires_at),
                    }
                ),
                # A new one, or the same evaluation sent again, or one whose wait is over.
                ConditionExpression="attribute_not_exists(pk) OR evaluation_json = :same OR expires_at <= :now",
                ExpressionAttributeValues=serialize({":same": text, ":now": epoch(now)}),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            stored: dict[str, Any] | None = error.response.get("Item")  # type: ignore[assignment]
            return json.loads(deserialize(stored)["evaluation_json"]) if stored else {}
        return None

    def drop_early_evaluations(self, workspace_id: str, keys: Iterable[SpanKey]) -> None:
        """Forget evaluations that have been applied (or refused) now that their span is here."""
        self._batch_write(
            [
                {
                    "DeleteRequest": {
                        "Key": serialize({"pk": span_key(workspace_id, *key), "sk": EARLY_EVALUATION_SK})
                    }
                }
                for key in keys
            ]
        )

    # ---- batches -----------------------------------------------------------------------------------
    def _batch_get(
        self, workspace_id: str, keys: Iterable[SpanKey], sort_key: str, now: datetime
    ) -> dict[SpanKey, dict[str, Any]]:
        by_pk = {span_key(workspace_id, *key): key for key in dict.fromkeys(keys)}
        found: dict[SpanKey, dict[str, Any]] = {}
        pks = list(by_pk)
        for start in range(0, len(pks), _BATCH_GET):
            request = {
                self._recommendations: {
                    "Keys": [serialize({"pk": pk, "sk": sort_key}) for pk in pks[start : start + _BATCH_GET]],
                    "ConsistentRead": True,
                }
            }
            for _ in range(_UNPROCESSED_ATTEMPTS):
                response = self._client.batch_get_item(RequestItems=request)
                for raw in response["Responses"].get(self._recommendations, []):
                    item = deserialize(raw)
                    if not self._expired(item, now):
                        found[by_pk[item["pk"]]] = item
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
            if request:
                raise _throttled("BatchGetItem")
        return found

    def _batch_write(self, items: Sequence[dict[str, Any]]) -> None:
        for start in range(0, len(items), _BATCH_WRITE):
            request = {self._recommendations: list(items[start : start + _BATCH_WRITE])}
            for _ in range(_UNPROCESSED_ATTEMPTS):
                response = self._client.batch_write_item(RequestItems=request)
                request = response.get("UnprocessedItems") or {}
                if not request:
                    break
            if request:
                raise _throttled("BatchWriteItem")


def _throttled(operation: str) -> ClientError:
    """Items DynamoDB left unprocessed after every retry: throttling, answered as such."""
    return ClientError(
        {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "unprocessed items"}},
        operation,
    )
