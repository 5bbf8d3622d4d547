"""The embedded store's cheaper reads answer exactly as moto's own (see localdev/moto_reads.py)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from localdev import moto_reads

TABLE = "StatisticsTable"


def _item(rng: random.Random, pk: str, sk: str) -> dict[str, Any]:
    """Every attribute type DynamoDB has, nested too."""
    return {
        "pk": {"S": pk},
        "sk": {"S": sk},
        "workspace_pk": {"S": f"WS#{pk[-1]}"},
        "agent_id": {"S": f"{pk}-{sk}"},
        "count": {"N": str(rng.randint(-5, 500))},
        "ratio": {"N": f"{rng.random():.6f}"},
        "name": {"S": rng.choice(["alpha", "beta", "gamma", "ünïcode ✓"])},
        "raw_bytes": {"B": bytes(rng.randrange(256) for _ in range(6))},
        "flag": {"BOOL": rng.random() < 0.5},
        "nothing": {"NULL": True},
        "tags": {"SS": sorted({rng.choice("abcdef") for _ in range(3)})},
        "numbers": {"NS": sorted({str(rng.randint(1, 9)) for _ in range(3)})},
        "blobs": {"BS": [bytes([n, rng.randrange(256)]) for n in range(2)]},
        "evidence": {
            "M": {
                "evaluated": {"N": str(rng.randint(0, 40))},
                "nested": {"M": {"deep": {"L": [{"S": "x"}, {"N": "1.5"}, {"BOOL": False}]}}},
            }
        },
        "history": {"L": [{"N": str(rng.randint(0, 9))}, {"M": {"k": {"S": "v"}}}, {"NULL": True}]},
    }


@pytest.fixture
def store(functions: Any) -> Iterator[Any]:
    client = boto3.client("dynamodb")
    rng = random.Random(15)
    for partition in ("P#1", "P#2", "P#3"):
        for day in range(12):
            client.put_item(TableName=TABLE, Item=_item(rng, partition, f"DAY#{day:02d}#{rng.choice('AB')}"))
    yield client
    moto_reads.install()


QUERIES: list[dict[str, Any]] = [
    {"KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": "P#2"}}},
    {
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :lo AND :hi",
        "ExpressionAttributeValues": {":pk": {"S": "P#1"}, ":lo": {"S": "DAY#03"}, ":hi": {"S": "DAY#09#~"}},
        "ScanIndexForward": False,
    },
    {
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :day)",
        "FilterExpression": "#c > :c",
        "ExpressionAttributeNames": {"#c": "count"},
        "ExpressionAttributeValues": {":pk": {"S": "P#3"}, ":day": {"S": "DAY#0"}, ":c": {"N": "100"}},
    },
    {
        "KeyConditionExpression": "pk = :pk",
        "ProjectionExpression": "#c, evidence, tags, absent_attr",
        "ExpressionAttributeNames": {"#c": "count"},
        "ExpressionAttributeValues": {":pk": {"S": "P#1"}},
    },
    {  # a filter on an attribute the projection leaves out
        "KeyConditionExpression": "pk = :pk",
        "FilterExpression": "flag = :yes",
        "ProjectionExpression": "ratio, history",
        "ExpressionAttributeValues": {":pk": {"S": "P#3"}, ":yes": {"BOOL": True}},
    },
    {  # a nested path: moto's own projection
        "KeyConditionExpression": "pk = :pk",
        "ProjectionExpression": "evidence.evaluated, history[1]",
        "ExpressionAttributeValues": {":pk": {"S": "P#2"}},
    },
    *(  # ten items between two others: with Limit 5 the second page ends at the range's end
        {
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": {
                ":pk": {"S": "P#2"},
                ":lo": {"S": "DAY#01"},
                ":hi": {"S": "DAY#10#~"},
            },
            "ScanIndexForward": forward,
        }
        for forward in (True, False)
    ),
    {
        "KeyConditionExpression": "pk = :pk AND sk > :lo",
        "ExpressionAttributeValues": {":pk": {"S": "P#3"}, ":lo": {"S": "DAY#06"}},
        "ScanIndexForward": False,
    },
    {"KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": "P#none"}}},
    {
        "IndexName": "by_workspace",
        "KeyConditionExpression": "workspace_pk = :ws",
        "ExpressionAttributeValues": {":ws": {"S": "WS#2"}},
        "ScanIndexForward": False,
    },
]


def _pages(client: Any, query: dict[str, Any], limit: int | None) -> list[dict[str, Any]]:
    request: dict[str, Any] = {"TableName": TABLE, **query, **({"Limit": limit} if limit else {})}
    pages = []
    while True:
        response = client.query(**request)
        response.pop("ResponseMetadata")
        pages.append(response)
        if "LastEvaluatedKey" not in response:
            return pages
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _sets_sorted(value: Any) -> Any:
    """DynamoDB's sets have no order, and moto's projection returns them in another one than its
    other reads (it converts the item to Python sets and back): compare them as sets."""
    if isinstance(value, dict):
        return {k: sorted(v) if k in ("SS", "NS", "BS") else _sets_sorted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sets_sorted(v) for v in value]
    return value


def _both(read: Callable[[], Any]) -> tuple[Any, Any]:
    moto_reads.uninstall()
    own = read()
    moto_reads.install()
    return _sets_sorted(own), _sets_sorted(read())


@pytest.mark.parametrize("limit", [None, 5])
@pytest.mark.parametrize("query", QUERIES, ids=range(len(QUERIES)))
def test_a_query_answers_as_motos_own(store: Any, query: dict[str, Any], limit: int | None) -> None:
    own, cheaper = _both(lambda: _pages(store, query, limit))
    assert cheaper == own
    assert any(page["Items"] for page in own) or query["ExpressionAttributeValues"].get(":pk") == {
        "S": "P#none"
    }


def test_get_batch_get_scan_and_consumed_capacity_answer_as_motos_own(store: Any) -> None:
    key = {"pk": {"S": "P#2"}, "sk": store.query(**{"TableName": TABLE, **QUERIES[0]})["Items"][0]["sk"]}

    def reads() -> list[Any]:
        return [
            store.get_item(TableName=TABLE, Key=key).get("Item"),
            store.get_item(TableName=TABLE, Key=key, ProjectionExpression="ratio, raw_bytes").get("Item"),
            store.scan(TableName=TABLE)["Items"],
            store.scan(TableName=TABLE, IndexName="by_workspace", Limit=7)["Items"],
            store.batch_get_item(RequestItems={TABLE: {"Keys": [key]}})["Responses"],
            {
                k: v
                for k, v in store.query(TableName=TABLE, **QUERIES[0], ReturnConsumedCapacity="TOTAL").items()
                if k != "ResponseMetadata"
            },
        ]

    own, cheaper = _both(reads)
    assert cheaper == own
    assert own[0] is not None
    assert own[1] == {k: own[0][k] for k in ("ratio", "raw_bytes")}


def test_a_projection_does_not_share_values_with_the_stored_item(store: Any) -> None:
    key = {"pk": {"S": "P#2"}, "sk": store.query(**{"TableName": TABLE, **QUERIES[0]})["Items"][0]["sk"]}
    before = store.get_item(TableName=TABLE, Key=key)["Item"]
    store.get_item(TableName=TABLE, Key=key, ProjectionExpression="evidence")
    store.update_item(
        TableName=TABLE,
        Key=key,
        UpdateExpression="SET evidence.evaluated = :n",
        ExpressionAttributeValues={":n": {"N": "999"}},
    )
    after = store.get_item(TableName=TABLE, Key=key)["Item"]
    assert after["evidence"]["M"]["evaluated"] == {"N": "999"}
    assert after["evidence"]["M"]["nested"] == before["evidence"]["M"]["nested"]
