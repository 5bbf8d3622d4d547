"""The shared embedded AWS: ``empty_aws`` puts it back as ``embedded_aws()`` built it, and the
cached update-expression parse, its copy and its walk give every update its own values as moto's
own would (localdev/moto_state.py, localdev/moto_expressions.py)."""

from __future__ import annotations

import json
import os

import boto3
import pytest
from botocore.exceptions import ClientError

from localdev import runtime
from swarm_learning.config import get_settings
from tests.helpers.api import Api


def _item(pk: str, sk: str, **extra: str) -> dict:
    return {"pk": {"S": pk}, "sk": {"S": sk}, **{k: {"S": v} for k, v in extra.items()}}


def test_emptying_leaves_the_template_tables_empty_and_drops_new_ones(
    functions: runtime.LocalFunctions,
) -> None:
    client = boto3.client("dynamodb", region_name=runtime.REGION)
    tables = sorted(client.list_tables()["TableNames"])
    Api(functions).track()
    client.create_table(
        TableName="Scratch",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    runtime.empty_aws(functions)
    assert sorted(client.list_tables()["TableNames"]) == tables
    assert all(client.scan(TableName=table)["Count"] == 0 for table in tables)
    described = client.describe_table(TableName="RecommendationsTable")["Table"]
    assert described["GlobalSecondaryIndexes"]  # the definition is kept, only the items go
    Api(functions).track()  # and the store works again
    assert client.scan(TableName="RecommendationsTable")["Count"] > 0


def test_emptying_empties_the_queues_and_keeps_the_event_routes(functions: runtime.LocalFunctions) -> None:
    sqs = boto3.client("sqs", region_name=runtime.REGION)
    queues = sorted(sqs.list_queues()["QueueUrls"])
    for url in queues:
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"left": "over"}))
    sqs.create_queue(QueueName="scratch")
    runtime.empty_aws(functions)
    assert sorted(sqs.list_queues()["QueueUrls"]) == queues
    assert not functions.events_pending()
    assert all(functions.dead_letters(spec.logical_id) == [] for spec in functions.specs)
    status, _ = Api(functions).call(
        "POST", "/api/v1/learning/learning-cycles/trigger", body={"workspace_id": "ws_learn"}
    )
    assert status == 202
    assert functions.events_pending()  # the rule still routes the event to its queue


def test_emptying_forgets_other_services_settings_and_authorizer_decisions(
    functions: runtime.LocalFunctions, monkeypatch: pytest.MonkeyPatch
) -> None:
    apigateway = boto3.client("apigateway", region_name=runtime.REGION)
    apigateway.create_rest_api(name="left-over")
    api = Api(functions)
    assert api.call("GET", "/api/v1/learning/stats", query={"workspace_id": "ws_test"})[0] == 200
    assert functions.gateway.authorizer_calls == 1
    table = os.environ["API_KEYS_TABLE"]
    monkeypatch.setitem(os.environ, "API_KEYS_TABLE", "Elsewhere")
    runtime.reset_process_state()
    assert get_settings().api_keys_table == "Elsewhere"

    runtime.empty_aws(functions)
    assert apigateway.get_rest_apis()["items"] == []
    assert functions.gateway.authorizer_calls == 0
    assert os.environ["API_KEYS_TABLE"] == table
    assert get_settings().api_keys_table == table


def test_an_inner_embedded_aws_is_the_shared_one_emptied(functions: runtime.LocalFunctions) -> None:
    Api(functions).track()
    with runtime.embedded_aws() as inner:
        assert inner is functions
        client = boto3.client("dynamodb", region_name=runtime.REGION)
        assert client.scan(TableName="RecommendationsTable")["Count"] == 0
        Api(inner).track()
    assert client.scan(TableName="RecommendationsTable")["Count"] > 0  # the outer block goes on


@pytest.mark.usefixtures("functions")
def test_one_update_expression_applies_each_call_s_own_values() -> None:
    client = boto3.client("dynamodb", region_name=runtime.REGION)
    update = {
        "TableName": "StatisticsTable",
        "UpdateExpression": "SET #v = :v ADD #n :one",
        "ExpressionAttributeNames": {"#v": "value", "#n": "count"},
    }
    for pk, value in (("A", "first"), ("B", "second"), ("A", "third")):
        client.update_item(
            Key=_item(pk, "1"), ExpressionAttributeValues={":v": {"S": value}, ":one": {"N": "1"}}, **update
        )
    a = client.get_item(TableName="StatisticsTable", Key=_item("A", "1"))["Item"]
    b = client.get_item(TableName="StatisticsTable", Key=_item("B", "1"))["Item"]
    assert (a["value"], a["count"], b["value"], b["count"]) == (
        {"S": "third"},
        {"N": "2"},
        {"S": "second"},
        {"N": "1"},
    )
    with pytest.raises(ClientError, match="ValidationException"):  # still checked on every call
        client.update_item(Key=_item("A", "1"), ExpressionAttributeValues={":one": {"N": "1"}}, **update)


@pytest.mark.usefixtures("functions")
@pytest.mark.parametrize(
    ("expression", "names", "message"),
    [
        ("SET #a = :v SET #b = :v", {"#a": "a", "#b": "b"}, 'The "SET" section can only be used once'),
        ("ADD #n :one SET #a = :v ADD #m :one", {"#n": "n", "#a": "a", "#m": "m"}, "ADD"),
        ("SET #a = :v, #b = :v, #a = :v", {"#a": "a", "#b": "b"}, "Two document paths overlap"),
        ("SET #a = :v ADD #b :one REMOVE #a", {"#a": "a", "#b": "b"}, "Two document paths overlap"),
    ],
)
def test_update_expressions_breaking_a_whole_expression_rule_are_still_refused(
    expression: str, names: dict[str, str], message: str
) -> None:
    client = boto3.client("dynamodb", region_name=runtime.REGION)
    values = {":v": {"S": "x"}, ":one": {"N": "1"}}
    used = {key: value for key, value in values.items() if key in expression}
    with pytest.raises(ClientError, match="ValidationException") as refused:
        client.update_item(
            TableName="StatisticsTable",
            Key=_item("A", "1"),
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=used,
        )
    assert message in str(refused.value)
    assert "Item" not in client.get_item(TableName="StatisticsTable", Key=_item("A", "1"))


@pytest.mark.usefixtures("functions")  # moto started, the patches installed
@pytest.mark.parametrize(
    ("expression", "names"),
    [
        ("SET #m.#k = :s, #c = #c + :one ADD #n :one", {"#m": "m", "#k": "k", "#c": "c", "#n": "n"}),
        ("SET #l = list_append(#l, :list), #x = if_not_exists(#x, :s)", {"#l": "l", "#x": "x"}),
        ("ADD #tags :set REMOVE #c SET #l[0] = :s", {"#tags": "tags", "#c": "c", "#l": "l"}),
        ("DELETE #tags :one_tag SET #m.#new = :s", {"#tags": "tags", "#m": "m", "#new": "new"}),
    ],
)
def test_the_patched_copy_and_walk_update_an_item_as_moto_does(
    expression: str, names: dict[str, str]
) -> None:
    """moto_expressions replaces the validator's deepcopy and its tree walk: the same expression on
    the same item gives the same item as moto's own deepcopy and recursive walk."""
    import copy

    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType, Item
    from moto.dynamodb.parsing.executors import UpdateExpressionExecutor
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.dynamodb.parsing.validators import UpdateExpressionValidator

    table = dynamodb_backends["123456789012"][runtime.REGION].tables["StatisticsTable"]
    attribute_values = {
        ":s": {"S": "new"},
        ":one": {"N": "1"},
        ":list": {"L": [{"S": "z"}]},
        ":set": {"SS": ["b", "c"]},
        ":one_tag": {"SS": ["a"]},
    }
    used = {key: value for key, value in attribute_values.items() if key in expression}

    def item() -> Item:
        return Item(
            DynamoType({"S": "A"}),
            DynamoType({"S": "1"}),
            attrs={
                "pk": {"S": "A"},
                "sk": {"S": "1"},
                "m": {"M": {"k": {"S": "old"}}},
                "c": {"N": "41"},
                "l": {"L": [{"S": "x"}, {"S": "y"}]},
                "tags": {"SS": ["a", "b"]},
            },
        )

    tree = UpdateExpressionParser.make(expression)  # the cached parse, as update_item gets it
    expected = item()
    validator = UpdateExpressionValidator(tree, names, used, expected, table)
    walked = copy.deepcopy(tree)  # moto's own copy and walk
    for processor in validator.processors:
        walked = processor.traverse_node_recursively(walked)
    walked.normalize()
    UpdateExpressionExecutor(walked, expected, names).execute()

    for _ in range(2):  # twice: the cached tree is not changed by a validation
        patched = item()
        validated = UpdateExpressionValidator(tree, names, used, patched, table).validate()
        validated.normalize()
        UpdateExpressionExecutor(validated, patched, names).execute()
        assert patched.to_json() == expected.to_json()
    assert expected.to_json() != item().to_json()  # the expression changed something


def test_a_saved_store_comes_back_as_saved_each_time(functions: runtime.LocalFunctions) -> None:
    client = boto3.client("dynamodb", region_name=runtime.REGION)
    client.put_item(TableName="StatisticsTable", Item=_item("A", "1", value="saved"))
    saved = runtime.save_aws()
    for _ in range(2):  # the saved state is copied back, never handed out
        client.put_item(TableName="StatisticsTable", Item=_item("A", "1", value="changed"))
        client.put_item(TableName="StatisticsTable", Item=_item("B", "1"))
        runtime.restore_aws(functions, saved)
        items = client.scan(TableName="StatisticsTable")["Items"]
        assert items == [_item("A", "1", value="saved")]
    runtime.empty_aws(functions)
    assert client.scan(TableName="StatisticsTable")["Items"] == []
