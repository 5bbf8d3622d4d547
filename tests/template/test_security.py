"""Security of the parsed template.yaml: authentication on every route but the health check,
per-key usage plans and stage throttling, JSON gateway responses, and least privilege as an exact
grant matrix (a new permission must be added here on purpose)."""

from __future__ import annotations

import re
from typing import Any

from localdev import template as tpl
from swarm_learning.api.access import PUBLIC_RESOURCES

TEMPLATE = tpl.load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
API = RESOURCES["LearningApi"]["Properties"]
FUNCTIONS = {name: r for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}

DLQ = "DeadLetterQueue.Arn"
# The learning jobs version the learner state: write, make current, expire replaced versions.
LEARNER_STATE_WRITES = {
    (action, "LearnerStateTable.Arn")
    for action in (
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
    )
}
# function -> every (action, resource) it is granted. Resources: "X.Arn" for !GetAtt, the !Sub text.
GRANTS: dict[str, set[tuple[str, str]]] = {
    "AuthorizerFunction": {("dynamodb:GetItem", "ApiKeysTable.Arn")},
    "TrackFunction": {
        ("dynamodb:PutItem", "RecommendationsTable.Arn"),
        ("dynamodb:UpdateItem", "StatisticsTable.Arn"),
        ("dynamodb:GetItem", "StatisticsTable.Arn"),  # the workspace's settings
        # Powertools idempotency records
        *{
            (a, "IdempotencyTable.Arn")
            for a in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
        },
    },
    "EvaluateFunction": {
        *{
            (a, "RecommendationsTable.Arn")
            for a in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
        },
        ("dynamodb:Query", "${RecommendationsTable.Arn}/index/by_workflow"),
        ("dynamodb:UpdateItem", "StatisticsTable.Arn"),
    },
    "IngestFunction": {
        *{
            (a, "RecommendationsTable.Arn")
            for a in ("dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
        },
        ("dynamodb:UpdateItem", "StatisticsTable.Arn"),
        ("dynamodb:GetItem", "StatisticsTable.Arn"),  # the workspace's settings
    },
    # The batch ingestion's grants, and for the span links and early evaluations batch puts and
    # deletes (only of those items: the code never deletes a recommendation), no Query or Scan.
    "OtlpFunction": {
        *{
            (a, "RecommendationsTable.Arn")
            for a in (
                "dynamodb:BatchGetItem",
                "dynamodb:BatchWriteItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
            )
        },
        ("dynamodb:UpdateItem", "StatisticsTable.Arn"),
        ("dynamodb:GetItem", "StatisticsTable.Arn"),  # the workspace's settings
    },
    "QueryFunction": {
        ("dynamodb:Query", "RecommendationsTable.Arn"),
        ("dynamodb:Query", "${RecommendationsTable.Arn}/index/by_agent"),
        ("dynamodb:Query", "${RecommendationsTable.Arn}/index/by_agent_type"),
        ("dynamodb:GetItem", "StatisticsTable.Arn"),
        ("dynamodb:Query", "StatisticsTable.Arn"),
        ("dynamodb:GetItem", "${StatisticsTable.Arn}/index/by_workspace"),
        ("dynamodb:Query", "${StatisticsTable.Arn}/index/by_workspace"),
        ("dynamodb:Query", "${RoutingDecisionsTable.Arn}/index/by_workspace_time"),
    },
    "TrustFunction": {
        ("dynamodb:GetItem", "StatisticsTable.Arn"),
        ("dynamodb:PutItem", "StatisticsTable.Arn"),
        ("dynamodb:Query", "StatisticsTable.Arn"),
        ("dynamodb:UpdateItem", "StatisticsTable.Arn"),
        ("dynamodb:PutItem", "RoutingDecisionsTable.Arn"),
        ("dynamodb:GetItem", "RoutingDecisionsTable.Arn"),  # a client-minted decision id sent again
        ("dynamodb:GetItem", "LearnerStateTable.Arn"),
        # POST /routing/evaluate: the decisions of a window and the outcomes that carry their ids.
        ("dynamodb:Query", "${RoutingDecisionsTable.Arn}/index/by_workspace_time"),
        ("dynamodb:Query", "${RecommendationsTable.Arn}/index/by_workspace_time"),
    },
    "LearningFunction": {
        *{
            (a, "LearnerStateTable.Arn")
            for a in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem")
        },
        ("dynamodb:Query", "StatisticsTable.Arn"),
        ("events:PutEvents", "LearningEventBus.Arn"),
    },
    "TrustRefreshFunction": {
        ("dynamodb:PutItem", "StatisticsTable.Arn"),
        ("dynamodb:Query", "StatisticsTable.Arn"),
        ("dynamodb:Scan", "${StatisticsTable.Arn}/index/by_workspace"),
        # alerts: each agent's last outcomes, its alert states (conditional transactions), the events
        ("dynamodb:Query", "${RecommendationsTable.Arn}/index/by_agent"),
        ("dynamodb:GetItem", "StatisticsTable.Arn"),  # the workspace's settings (its min_trust)
        *{
            (a, "LearnerStateTable.Arn")
            for a in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem")
        },
        ("events:PutEvents", "LearningEventBus.Arn"),
        ("sqs:SendMessage", "TrustRefresh" + DLQ),
    },
    "LearningCycleFunction": {
        *LEARNER_STATE_WRITES,
        ("dynamodb:Query", "${RecommendationsTable.Arn}/index/by_workspace_time"),
        ("dynamodb:Query", "${RoutingDecisionsTable.Arn}/index/by_workspace_time"),  # the rules' effect
        ("dynamodb:Query", "StatisticsTable.Arn"),
        ("dynamodb:Scan", "${StatisticsTable.Arn}/index/by_workspace"),
        ("events:PutEvents", "LearningEventBus.Arn"),
        ("sqs:SendMessage", "LearningCycle" + DLQ),
        # only when BedrockModelId is set, and only that model
        (
            "bedrock:InvokeModel",
            "arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/${BedrockModelId}",
        ),
        (
            "bedrock:InvokeModel",
            "arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}:inference-profile/${BedrockModelId}",
        ),
    },
    "PatternRefreshFunction": {
        *LEARNER_STATE_WRITES,
        ("dynamodb:Query", "${RecommendationsTable.Arn}/index/by_workspace_time"),
        ("dynamodb:Scan", "${StatisticsTable.Arn}/index/by_workspace"),
        ("sqs:SendMessage", "PatternRefresh" + DLQ),
    },
    "CleanupFunction": {
        ("dynamodb:DeleteItem", "RecommendationsTable.Arn"),
        ("dynamodb:DeleteItem", "StatisticsTable.Arn"),
        ("dynamodb:DeleteItem", "LearnerStateTable.Arn"),
        ("dynamodb:GetItem", "LearnerStateTable.Arn"),
        ("dynamodb:Query", "LearnerStateTable.Arn"),
        ("dynamodb:Query", "StatisticsTable.Arn"),
        ("dynamodb:Query", "${RecommendationsTable.Arn}/index/by_workspace_time"),
        ("dynamodb:Scan", "${StatisticsTable.Arn}/index/by_workspace"),
        ("sqs:SendMessage", "Cleanup" + DLQ),
    },
}


def _resource(value: Any) -> str:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return ".".join(target) if isinstance(target, list) else str(target)
    if isinstance(value, dict) and "Fn::Sub" in value:
        return str(value["Fn::Sub"])
    assert isinstance(value, str), f"unexpected resource {value!r}"
    return value


def _grants(function: str) -> set[tuple[str, str]]:
    found = set()
    for policy in FUNCTIONS[function]["Properties"].get("Policies", []):
        assert isinstance(policy, dict), "policies are explicit statements, not managed policies or templates"
        if "Fn::If" in policy:
            policy = policy["Fn::If"][1]
        for statement in policy["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"]
            resources = statement["Resource"]
            for action in [actions] if isinstance(actions, str) else actions:
                for resource in resources if isinstance(resources, list) else [resources]:
                    found.add((action, _resource(resource)))
    return found


def test_every_function_is_granted_exactly_what_it_uses() -> None:
    assert set(FUNCTIONS) == set(GRANTS)
    for function, expected in GRANTS.items():
        assert _grants(function) == expected, function


def test_no_grant_has_a_wildcard() -> None:
    for function in FUNCTIONS:
        for action, resource in _grants(function):
            assert "*" not in action, (function, action)
            assert "*" not in resource, (function, resource)


def test_the_query_function_and_the_authorizer_only_read() -> None:
    for function in ("QueryFunction", "AuthorizerFunction"):
        assert {a for a, _ in _grants(function)} <= {"dynamodb:GetItem", "dynamodb:Query"}


def test_only_the_authorizer_can_read_api_keys() -> None:
    for function in FUNCTIONS:
        touches = any("ApiKeysTable" in resource for _, resource in _grants(function))
        assert touches == (function == "AuthorizerFunction"), function


def test_no_secret_is_in_an_environment_variable() -> None:
    suspicious = re.compile(r"SECRET|PASSWORD|TOKEN|PRIVATE|CREDENTIAL|API_KEY(?!S_TABLE)", re.IGNORECASE)
    globals_env = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    for name, function in FUNCTIONS.items():
        variables = {**globals_env, **function["Properties"].get("Environment", {}).get("Variables", {})}
        for variable in variables:
            assert not suspicious.search(variable), (name, variable)
    assert globals_env["POWERTOOLS_LOGGER_LOG_EVENT"] == "false"  # request bodies never logged


def test_every_route_needs_the_authorizer_and_a_usage_plan_key_except_the_health_check() -> None:
    auth = API["Auth"]
    assert auth["DefaultAuthorizer"] == "ApiKeyAuthorizer"
    assert auth["ApiKeyRequired"] is True
    assert API["ApiKeySourceType"] == "AUTHORIZER"
    public = set()
    for function in FUNCTIONS.values():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] != "Api":
                continue
            route_auth = event["Properties"].get("Auth")
            if route_auth is not None:
                assert route_auth == {"Authorizer": "NONE", "ApiKeyRequired": False}
                public.add(event["Properties"]["Path"])
    assert public == set(PUBLIC_RESOURCES) == {"/api/v1/learning/health"}


def test_the_authorizer_reads_the_bearer_header_and_caches_briefly() -> None:
    authorizer = API["Auth"]["Authorizers"]["ApiKeyAuthorizer"]
    assert authorizer["FunctionArn"] == {"Ref": "AuthorizerFunction.Alias"}  # its published alias
    assert authorizer["FunctionPayloadType"] == "REQUEST"
    assert authorizer["Identity"]["Headers"] == ["Authorization"]
    assert authorizer["Identity"]["ReauthorizeEvery"] == {"Ref": "AuthorizerCacheSeconds"}
    cache = TEMPLATE["Parameters"]["AuthorizerCacheSeconds"]
    assert cache["Default"] <= 300
    assert cache["MaxValue"] <= 3600


def test_stage_throttling_and_per_key_usage_plan() -> None:
    [stage_limits] = API["MethodSettings"]
    assert stage_limits["ResourcePath"] == "/*"
    assert stage_limits["HttpMethod"] == "*"
    assert stage_limits["ThrottlingRateLimit"] > 0
    assert stage_limits["ThrottlingBurstLimit"] > 0
    plan = RESOURCES["ApiUsagePlan"]["Properties"]
    assert plan["ApiStages"] == [{"ApiId": {"Ref": "LearningApi"}, "Stage": {"Ref": "LearningApi.Stage"}}]
    assert plan["Throttle"] == {"RateLimit": {"Ref": "KeyRateLimit"}, "BurstLimit": {"Ref": "KeyBurstLimit"}}
    assert plan["Quota"] == {"Limit": {"Ref": "KeyDailyQuota"}, "Period": "DAY"}
    assert {"ApiKeysTableName", "ApiUsagePlanId"} <= set(TEMPLATE["Outputs"])


def test_gateway_refusals_are_json_errors_like_the_functions() -> None:
    responses = API["GatewayResponses"]
    expected = {
        "UNAUTHORIZED": 401,
        "ACCESS_DENIED": 401,
        "INVALID_API_KEY": 403,
        "THROTTLED": 429,
        "QUOTA_EXCEEDED": 429,
        "REQUEST_TOO_LARGE": 413,
        "MISSING_AUTHENTICATION_TOKEN": 404,
    }
    for kind, status in expected.items():
        assert responses[kind]["StatusCode"] == status, kind
    for kind, response in responses.items():
        body = response["ResponseTemplates"]["application/json"]
        for field in ('"error":', '"message":', '"details":[]', '"request_id":"$context.requestId"'):
            assert field in body, (kind, field)


def test_the_api_keys_table_keeps_hashes_safe_and_purges_old_keys() -> None:
    table = RESOURCES["ApiKeysTable"]
    assert table["DeletionPolicy"] == "Retain"
    props = table["Properties"]
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["TimeToLiveSpecification"] == {"AttributeName": "purge_at", "Enabled": True}
