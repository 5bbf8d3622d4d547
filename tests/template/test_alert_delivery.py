"""The alert delivery of template.yaml: off by default, an SNS topic and an optional webhook (an
EventBridge API destination with a Slack-compatible input transformer), both with retries and a
dead-letter queue, and each principal allowed only what it does."""

from __future__ import annotations

import json
import re
from typing import Any

from localdev import template as tpl
from swarm_learning.vocabulary import AlertKind

TEMPLATE = tpl.load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
PARAMETERS: dict[str, Any] = TEMPLATE["Parameters"]
CONDITIONS: dict[str, Any] = TEMPLATE["Conditions"]
RULES = ("AlertsTopicRule", "AlertsWebhookRule")
DELIVERY = (
    "AlertsDeadLetterQueue",
    "AlertsDeadLetterQueuePolicy",
    "AlertsTopicKey",
    "AlertsTopic",
    "AlertsTopicPolicy",
    "AlertsEmailSubscription",
    "AlertsTopicRule",
    "AlertsWebhookConnection",
    "AlertsWebhookDestination",
    "AlertsWebhookRole",
    "AlertsWebhookRule",
)


def test_delivery_is_off_by_default() -> None:
    assert PARAMETERS["AlertTopic"]["Default"] == "disabled"
    assert PARAMETERS["AlertEmail"]["Default"] == ""
    assert PARAMETERS["AlertWebhookUrl"]["Default"] == ""
    assert PARAMETERS["AlertWebhookUrl"]["NoEcho"] is True  # a Slack webhook URL is a secret
    assert PARAMETERS["AlertWebhookApiKey"]["NoEcho"] is True
    # Every delivery resource exists only under a condition the defaults leave false.
    for name in DELIVERY:
        assert RESOURCES[name].get("Condition") in {
            "HasAlertTopic",
            "HasAlertEmail",
            "HasAlertWebhook",
            "HasAlertDelivery",
        }, name
    assert CONDITIONS["HasAlertTopic"] == {"Fn::Equals": [{"Ref": "AlertTopic"}, "enabled"]}
    assert CONDITIONS["HasAlertWebhook"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlertWebhookUrl"}, ""]}]}


def test_the_rules_match_every_alert_kind_on_the_learning_bus() -> None:
    for rule in RULES:
        props = RESOURCES[rule]["Properties"]
        assert props["EventBusName"] == {"Ref": "LearningEventBus"}
        assert props["EventPattern"]["source"] == ["swarm.learning"]
        assert sorted(props["EventPattern"]["detail-type"]) == sorted(k.value for k in AlertKind)


def test_every_target_retries_and_dead_letters() -> None:
    for rule in RULES:
        (target,) = RESOURCES[rule]["Properties"]["Targets"]
        assert target["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600}
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["AlertsDeadLetterQueue", "Arn"]}}
    queue = RESOURCES["AlertsDeadLetterQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    (statement,) = RESOURCES["AlertsDeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    sources = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert [s["Fn::If"][1] for s in sources] == [
        {"Fn::GetAtt": ["AlertsTopicRule", "Arn"]},
        {"Fn::GetAtt": ["AlertsWebhookRule", "Arn"]},
    ]


def test_the_topic_is_encrypted_and_only_its_rule_publishes() -> None:
    topic = RESOURCES["AlertsTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "AlertsTopicKey"}
    assert RESOURCES["AlertsTopicKey"]["Properties"]["EnableKeyRotation"] is True
    key_statements = RESOURCES["AlertsTopicKey"]["Properties"]["KeyPolicy"]["Statement"]
    events = next(s for s in key_statements if s["Principal"] == {"Service": "events.amazonaws.com"})
    assert set(events["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    (statement,) = RESOURCES["AlertsTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "sns:Publish"
    assert statement["Resource"] == {"Ref": "AlertsTopic"}
    assert statement["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["AlertsTopicRule", "Arn"]}}
    }
    subscription = RESOURCES["AlertsEmailSubscription"]
    assert subscription["Condition"] == "HasAlertEmail"
    assert subscription["Properties"]["Protocol"] == "email"


def test_the_webhook_role_may_only_invoke_its_destination() -> None:
    role = RESOURCES["AlertsWebhookRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    (policy,) = role["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == "events:InvokeApiDestination"
    assert statement["Resource"] == {"Fn::GetAtt": ["AlertsWebhookDestination", "Arn"]}
    destination = RESOURCES["AlertsWebhookDestination"]["Properties"]
    assert destination["HttpMethod"] == "POST"
    assert destination["InvocationEndpoint"] == {"Ref": "AlertWebhookUrl"}


def test_the_webhook_message_is_slack_compatible_json() -> None:
    (target,) = RESOURCES["AlertsWebhookRule"]["Properties"]["Targets"]
    transformer = target["InputTransformer"]
    paths = transformer["InputPathsMap"]
    assert paths["kind"] == "$.detail-type"
    template, variables = transformer["InputTemplate"]["Fn::Sub"]
    assert "Dashboard" in variables
    # Fill the placeholders as EventBridge would (strings are quoted by the template itself).
    sample = {
        "kind": "AgentTrustDeclined",
        "workspace": "ws_1",
        "agent": "A-1",
        "before": "0.8",
        "after": "0.4",
        "evidence": "120",
        "path": "#/agents/A-1",
    }
    text = re.sub(r"<(\w+)>", lambda m: sample[m.group(1)], template).replace(
        "${Dashboard}", "https://d.example"
    )
    message = json.loads(text)
    assert set(message) == {"text"}
    assert message["text"].startswith("AgentTrustDeclined in workspace ws_1 (agent A-1): 0.8 -> 0.4")
    assert message["text"].endswith("https://d.example/#/agents/A-1")
    assert set(re.findall(r"<(\w+)>", template)) <= set(paths)


def test_the_alerts_feed_route_is_served_by_the_learning_function() -> None:
    events = RESOURCES["LearningFunction"]["Properties"]["Events"]
    assert events["ListAlerts"]["Properties"]["Path"] == "/api/v1/learning/alerts"
    assert events["ListAlerts"]["Properties"]["Method"] == "get"


def test_the_refresh_job_publishes_on_the_learning_bus() -> None:
    variables = RESOURCES["TrustRefreshFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["EVENT_BUS_NAME"] == {"Ref": "LearningEventBus"}
