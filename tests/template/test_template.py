"""Checks on the parsed template.yaml: tables, least privilege, globals, routes, outputs."""

from __future__ import annotations

import re
from typing import Any

import pytest

from localdev import template as tpl

TEMPLATE = tpl.load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
TABLES = tpl.tables(TEMPLATE)
FUNCTIONS = {name: r for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}
READ_ACTIONS = {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"}


def _statements(function: str) -> list[dict[str, Any]]:
    statements = []
    for policy in FUNCTIONS[function]["Properties"].get("Policies", []):
        assert isinstance(policy, dict), "policies are explicit statements"
        if "Fn::If" in policy:  # a statement granted only under a condition (e.g. Bedrock configured)
            policy = policy["Fn::If"][1]
        assert "Statement" in policy
        statements.extend(policy["Statement"])
    return statements


def _actions(function: str) -> set[str]:
    found: set[str] = set()
    for statement in _statements(function):
        actions = statement["Action"]
        found.update([actions] if isinstance(actions, str) else actions)
    return found


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_table_has_pitr_on_demand_billing_and_ttl(table: str) -> None:
    props = TABLES[table]
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"]["Enabled"] is True
    assert RESOURCES[table]["DeletionPolicy"] == "Retain"


def test_data_tables_expire_on_the_attribute_the_code_writes() -> None:
    for table in ("RecommendationsTable", "StatisticsTable"):
        assert TABLES[table]["TimeToLiveSpecification"]["AttributeName"] == "expires_at"
    # Powertools idempotency's default expiry attribute
    assert TABLES["IdempotencyTable"]["TimeToLiveSpecification"]["AttributeName"] == "expiration"


def test_indexes_the_storage_module_queries_exist() -> None:
    from swarm_learning.dal import keys as storage

    recommendation_indexes = {
        i["IndexName"] for i in TABLES["RecommendationsTable"]["GlobalSecondaryIndexes"]
    }
    assert recommendation_indexes == {
        storage.BY_AGENT,
        storage.BY_AGENT_TYPE,
        storage.BY_WORKFLOW,
        storage.BY_WORKSPACE_TIME,
    }
    statistics_indexes = {i["IndexName"] for i in TABLES["StatisticsTable"]["GlobalSecondaryIndexes"]}
    assert statistics_indexes == {storage.BY_WORKSPACE}
    decision_indexes = {i["IndexName"] for i in TABLES["RoutingDecisionsTable"]["GlobalSecondaryIndexes"]}
    assert decision_indexes == {storage.BY_WORKSPACE_TIME}


def test_globals_pin_runtime_architecture_tracing_and_powertools() -> None:
    function_globals = TEMPLATE["Globals"]["Function"]
    assert re.fullmatch(r"python3\.1[2-9]", function_globals["Runtime"])
    assert function_globals["Architectures"] == ["arm64"]
    assert function_globals["Tracing"] == "Active"
    assert function_globals["Timeout"] <= 29  # API Gateway's integration limit
    variables = function_globals["Environment"]["Variables"]
    assert variables["POWERTOOLS_METRICS_NAMESPACE"]
    assert {"RECOMMENDATIONS_TABLE", "STATISTICS_TABLE", "RETENTION_DAYS"} <= set(variables)
    layer = RESOURCES["LearningLayer"]
    assert layer["Metadata"]["BuildMethod"] == function_globals["Runtime"]
    assert function_globals["Runtime"] in layer["Properties"]["CompatibleRuntimes"]


def test_every_function_sets_its_service_name_and_has_a_log_group_with_retention() -> None:
    for name, function in FUNCTIONS.items():
        assert function["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        group = RESOURCES[f"{name}LogGroup"]["Properties"]
        assert group["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/${{{name}}}"}
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_no_function_has_wildcard_permissions() -> None:
    for name in FUNCTIONS:
        for statement in _statements(name):
            actions = statement["Action"]
            for action in [actions] if isinstance(actions, str) else actions:
                assert "*" not in action, (name, action)
            resources = statement["Resource"]
            assert resources != "*", name


def test_query_function_can_only_read() -> None:
    assert _actions("QueryFunction") <= READ_ACTIONS


def test_track_function_cannot_read_or_delete_recommendations() -> None:
    for statement in _statements("TrackFunction"):
        if statement["Resource"] == {"Fn::GetAtt": ["RecommendationsTable", "Arn"]}:
            assert statement["Action"] == "dynamodb:PutItem"


def test_write_functions_have_no_scan_or_delete_on_data_tables() -> None:
    for name in ("TrackFunction", "EvaluateFunction", "IngestFunction", "QueryFunction"):
        for statement in _statements(name):
            if "IdempotencyTable" in str(statement["Resource"]):
                continue
            actions = statement["Action"]
            assert not {"dynamodb:Scan", "dynamodb:DeleteItem"} & set(
                [actions] if isinstance(actions, str) else actions
            ), name


def test_every_route_belongs_to_the_api_and_is_versioned() -> None:
    for function in FUNCTIONS.values():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "Api":
                assert event["Properties"]["RestApiId"] == {"Ref": "LearningApi"}
                assert event["Properties"]["Path"].startswith("/api/v1/learning/")


def test_outputs_name_the_api_and_every_table() -> None:
    outputs = TEMPLATE["Outputs"]
    assert "ApiUrl" in outputs
    for table in TABLES:
        assert outputs[f"{table}Name"]["Value"] == {"Ref": table}


SCHEDULED = {
    name: event["Properties"]
    for name, function in FUNCTIONS.items()
    for event in function["Properties"].get("Events", {}).values()
    if event["Type"] == "ScheduleV2"
}


def test_trust_refresh_runs_every_six_hours() -> None:
    assert SCHEDULED["TrustRefreshFunction"]["ScheduleExpression"] == "rate(6 hours)"


@pytest.mark.parametrize("function", sorted(SCHEDULED))
def test_every_scheduled_function_has_retries_and_a_dead_letter_queue(function: str) -> None:
    schedule = SCHEDULED[function]
    assert schedule["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert "Arn" in schedule["DeadLetterConfig"]
    assert "<aws.scheduler.scheduled-time>" in schedule["Input"]  # names the run: re-runs overwrite
    props = FUNCTIONS[function]["Properties"]
    assert props["DeadLetterQueue"]["Type"] == "SQS"
    assert props["EventInvokeConfig"]["MaximumRetryAttempts"] >= 1
    queue = props["DeadLetterQueue"]["TargetArn"]["Fn::GetAtt"][0]
    assert RESOURCES[queue]["Type"] == "AWS::SQS::Queue"
    assert schedule["DeadLetterConfig"]["Arn"] == props["DeadLetterQueue"]["TargetArn"]


def test_trust_refresh_scans_only_the_sparse_agent_index() -> None:
    for statement in _statements("TrustRefreshFunction"):
        actions = statement["Action"]
        if "dynamodb:Scan" in ([actions] if isinstance(actions, str) else actions):
            assert statement["Resource"] == {"Fn::Sub": "${StatisticsTable.Arn}/index/by_workspace"}


def test_trust_function_writes_only_statistics_and_decisions() -> None:
    for statement in _statements("TrustFunction"):
        if statement["Resource"] == {"Fn::GetAtt": ["LearnerStateTable", "Arn"]}:
            assert statement["Action"] == "dynamodb:GetItem"  # the learned rules, read-only
            continue
        if statement["Sid"] == "EvaluateRoutingDecisions":  # reads two time indexes, writes nothing
            assert statement["Action"] == "dynamodb:Query"
            assert statement["Resource"] == [
                {"Fn::Sub": "${RoutingDecisionsTable.Arn}/index/by_workspace_time"},
                {"Fn::Sub": "${RecommendationsTable.Arn}/index/by_workspace_time"},
            ]
            continue
        assert statement["Resource"] in (
            {"Fn::GetAtt": ["StatisticsTable", "Arn"]},
            {"Fn::GetAtt": ["RoutingDecisionsTable", "Arn"]},
        )


def test_learning_functions_have_least_privilege() -> None:
    api_actions = _actions("LearningFunction")
    assert "dynamodb:DeleteItem" not in api_actions
    assert "dynamodb:Scan" not in api_actions
    assert "events:PutEvents" in api_actions
    for statement in _statements("LearningFunction") + _statements("LearningCycleFunction"):
        if statement["Action"] == "events:PutEvents":
            assert statement["Resource"] == {"Fn::GetAtt": ["LearningEventBus", "Arn"]}
    for function in ("LearningCycleFunction", "PatternRefreshFunction"):
        for statement in _statements(function):
            if "RecommendationsTable" in str(statement["Resource"]):
                assert statement == {
                    "Sid": "ReadEvaluatedRecommendations",
                    "Effect": "Allow",
                    "Action": "dynamodb:Query",
                    "Resource": {"Fn::Sub": "${RecommendationsTable.Arn}/index/by_workspace_time"},
                }


def test_learning_jobs_run_on_the_seed_schedule_and_on_demand_events() -> None:
    assert SCHEDULED["LearningCycleFunction"]["ScheduleExpression"] == "cron(0 2 * * ? *)"
    assert SCHEDULED["PatternRefreshFunction"]["ScheduleExpression"] == "cron(0 1 * * ? *)"
    on_demand = FUNCTIONS["LearningCycleFunction"]["Properties"]["Events"]["OnDemand"]
    assert on_demand["Type"] == "EventBridgeRule"
    assert on_demand["Properties"]["Pattern"] == {
        "source": ["swarm.learning"],
        "detail-type": ["LearningCycleRequested"],
    }
    assert on_demand["Properties"]["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert on_demand["Properties"]["DeadLetterConfig"] == {
        "Arn": {"Fn::GetAtt": ["LearningCycleDeadLetterQueue", "Arn"]}
    }


def test_bedrock_is_granted_only_when_a_model_is_configured() -> None:
    policies = FUNCTIONS["LearningCycleFunction"]["Properties"]["Policies"]
    conditional = [p for p in policies if "Fn::If" in p]
    assert len(conditional) == 1
    assert conditional[0]["Fn::If"][0] == "HasBedrockModel"
    for function in FUNCTIONS:
        if function != "LearningCycleFunction":
            assert not any(a.startswith("bedrock:") for a in _actions(function))


def test_cleanup_runs_weekly_on_sunday_and_deletes_only_by_key() -> None:
    assert SCHEDULED["CleanupFunction"]["ScheduleExpression"] == "cron(0 3 ? * SUN *)"
    for statement in _statements("CleanupFunction"):
        actions = statement["Action"]
        actions = {actions} if isinstance(actions, str) else set(actions)
        if "dynamodb:Scan" in actions:
            assert statement["Resource"] == {"Fn::Sub": "${StatisticsTable.Arn}/index/by_workspace"}
        assert not actions & {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"}


def _alarms() -> dict[str, dict[str, Any]]:
    return {n: r["Properties"] for n, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"}


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_function_has_error_and_throttle_alarms(function: str) -> None:
    watched = {
        (a["MetricName"], a["Dimensions"][0]["Value"]["Ref"])
        for a in _alarms().values()
        if a["Namespace"] == "AWS/Lambda"
    }
    assert ("Errors", function) in watched
    assert ("Throttles", function) in watched


def test_every_dead_letter_queue_and_model_accuracy_have_alarms() -> None:
    queues = {name for name, r in RESOURCES.items() if r["Type"] == "AWS::SQS::Queue"}
    watched = {
        a["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in _alarms().values()
        if a["Namespace"] == "AWS/SQS"
    }
    assert watched == queues
    accuracy = _alarms()["ModelAccuracyAlarm"]
    assert (accuracy["Namespace"], accuracy["MetricName"]) == ("SwarmLearning", "ModelAccuracy")
    assert accuracy["Dimensions"] == [{"Name": "service", "Value": "learning-cycle"}]
    assert accuracy["ComparisonOperator"] == "LessThanThreshold"
    for alarm in _alarms().values():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_the_otlp_function_serves_both_receivers_and_binary_bodies() -> None:
    function = RESOURCES["OtlpFunction"]["Properties"]
    routes = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in function["Events"].values()}
    assert routes == {
        ("post", "/api/v1/learning/otlp/v1/traces"),
        ("post", "/api/v1/learning/otlp/v1/logs"),
    }
    assert all(e["Properties"]["RestApiId"] == {"Ref": "LearningApi"} for e in function["Events"].values())
    # Protobuf reaches the function base64-encoded only if the API lists it as binary.
    assert "application~1x-protobuf" in RESOURCES["LearningApi"]["Properties"]["BinaryMediaTypes"]
    # No reads beyond the batch ingestion's (no Query, no Scan) and nothing on other tables.
    actions = {
        a
        for s in _statements("OtlpFunction")
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert not {"dynamodb:Query", "dynamodb:Scan"} & actions
    assert {str(s["Resource"]) for s in _statements("OtlpFunction")} == {
        str({"Fn::GetAtt": ["RecommendationsTable", "Arn"]}),
        str({"Fn::GetAtt": ["StatisticsTable", "Arn"]}),
    }


# ---- SnapStart ------------------------------------------------------------------------------------

API_FUNCTIONS = sorted(
    name
    for name, resource in FUNCTIONS.items()
    if any(event["Type"] == "Api" for event in resource["Properties"].get("Events", {}).values())
)
SCHEDULED_JOBS = sorted(
    name
    for name, resource in FUNCTIONS.items()
    if any(
        event["Type"] in ("Schedule", "ScheduleV2")
        for event in resource["Properties"].get("Events", {}).values()
    )
)


def _effective(function: str, name: str) -> Any:
    """A function property as SAM applies it: the function's own, else the Globals'."""
    own = FUNCTIONS[function]["Properties"]
    return own[name] if name in own else TEMPLATE["Globals"]["Function"].get(name)


def test_snapstart_is_a_global_every_api_function_gets_behind_a_published_alias() -> None:
    assert len(API_FUNCTIONS) >= 6
    for function in [*API_FUNCTIONS, "AuthorizerFunction"]:
        assert _effective(function, "AutoPublishAlias") == "live", function
        assert _effective(function, "SnapStart") == {
            "ApplyOn": {"Fn::If": ["UseSnapStart", "PublishedVersions", "None"]}
        }, function
    # Set in Globals, not per function: a function added later is restored from a snapshot too.
    for function in API_FUNCTIONS:
        assert "SnapStart" not in FUNCTIONS[function]["Properties"], function


def test_scheduled_jobs_turn_snapstart_off_and_still_publish_their_alias() -> None:
    assert SCHEDULED_JOBS
    for function in SCHEDULED_JOBS:
        assert FUNCTIONS[function]["Properties"]["SnapStart"] == {"ApplyOn": "None"}, function
        assert _effective(function, "AutoPublishAlias") == "live"


def test_a_parameter_turns_snapstart_off() -> None:
    parameter = TEMPLATE["Parameters"]["SnapStartEnabled"]
    assert (parameter["Default"], sorted(parameter["AllowedValues"])) == ("true", ["false", "true"])
    assert TEMPLATE["Conditions"]["UseSnapStart"] == {"Fn::Equals": [{"Ref": "SnapStartEnabled"}, "true"]}


def test_the_api_calls_the_authorizer_through_its_alias() -> None:
    authorizers = RESOURCES["LearningApi"]["Properties"]["Auth"]["Authorizers"]
    assert all(a["FunctionArn"] == {"Ref": "AuthorizerFunction.Alias"} for a in authorizers.values())


def test_snapstart_needs_a_runtime_that_has_it() -> None:
    runtime = TEMPLATE["Globals"]["Function"]["Runtime"]
    assert runtime.startswith("python3.")
    assert int(runtime.removeprefix("python3.")) >= 12  # SnapStart for Python: 3.12 and later
    for function in FUNCTIONS:
        assert (
            "Runtime" not in FUNCTIONS[function]["Properties"]
            or int(FUNCTIONS[function]["Properties"]["Runtime"].removeprefix("python3.")) >= 12
        )
        assert "ProvisionedConcurrencyConfig" not in FUNCTIONS[function]["Properties"]  # not with SnapStart
