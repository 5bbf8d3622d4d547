"""The embedded store's transactions stay all-or-nothing (see localdev/moto_transactions.py)."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError


def _item(pk: str, sk: str, **extra: str) -> dict:
    return {"pk": {"S": pk}, "sk": {"S": sk}, **{k: {"S": v} for k, v in extra.items()}}


@pytest.mark.usefixtures("functions")
def test_a_failed_transaction_undoes_the_writes_before_the_failure() -> None:
    client = boto3.client("dynamodb")
    client.put_item(TableName="StatisticsTable", Item=_item("A", "1", value="old"))
    client.put_item(TableName="StatisticsTable", Item=_item("B", "1", value="guard"))
    with pytest.raises(ClientError, match="TransactionCanceled"):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "StatisticsTable", "Item": _item("A", "1", value="new")}},
                {"Put": {"TableName": "RecommendationsTable", "Item": _item("C", "1", value="created")}},
                {
                    "Update": {
                        "TableName": "StatisticsTable",
                        "Key": _item("B", "1"),
                        "UpdateExpression": "SET #v = :v",
                        "ConditionExpression": "#v = :expected",
                        "ExpressionAttributeNames": {"#v": "value"},
                        "ExpressionAttributeValues": {":v": {"S": "x"}, ":expected": {"S": "other"}},
                    }
                },
            ]
        )
    assert client.get_item(TableName="StatisticsTable", Key=_item("A", "1"))["Item"]["value"] == {"S": "old"}
    assert client.get_item(TableName="StatisticsTable", Key=_item("B", "1"))["Item"]["value"] == {
        "S": "guard"
    }
    assert "Item" not in client.get_item(TableName="RecommendationsTable", Key=_item("C", "1"))
    assert client.scan(TableName="RecommendationsTable")["Count"] == 0


@pytest.mark.usefixtures("functions")
def test_a_successful_transaction_writes_every_item() -> None:
    client = boto3.client("dynamodb")
    client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "StatisticsTable", "Item": _item("A", "1")}},
            {"Put": {"TableName": "RecommendationsTable", "Item": _item("C", "1")}},
        ]
    )
    assert client.scan(TableName="StatisticsTable")["Count"] == 1
    assert client.scan(TableName="RecommendationsTable")["Count"] == 1
