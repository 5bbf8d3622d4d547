"""The admin command: keys of a deployed stack (DynamoDB + the API Gateway usage plan, on moto)
and of the local server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from admin import __main__ as cli
from admin.keys import StackKeys
from localdev import runtime
from localdev.server import serving
from swarm_learning.dal.api_keys import ApiKeyStore
from swarm_learning.services.keys.service import ApiKeyService, KeyRequest

TABLE = "ApiKeysTable"  # the local table name (the template's logical id)


@pytest.fixture
def usage_plan(functions: runtime.LocalFunctions) -> str:
    apigateway = boto3.client("apigateway", region_name=runtime.REGION)
    api = apigateway.create_rest_api(name="learning")
    return str(
        apigateway.create_usage_plan(name="per-key", apiStages=[{"apiId": api["id"], "stage": "prod"}])["id"]
    )


@pytest.fixture
def stack_keys(usage_plan: str) -> StackKeys:
    session = boto3.session.Session(region_name=runtime.REGION)
    return StackKeys(name_prefix="swarm-learning", table=TABLE, usage_plan_id=usage_plan, session=session)


def _gateway_keys() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = boto3.client("apigateway", region_name=runtime.REGION).get_api_keys(
        includeValues=True
    )["items"]
    return items


def test_issuing_registers_the_usage_key_in_the_plan(stack_keys: StackKeys, usage_plan: str) -> None:
    issued = stack_keys.issue(KeyRequest(name="orchestrator", workspaces=["ws_prod"]))
    [gateway_key] = _gateway_keys()
    assert gateway_key["name"] == f"swarm-learning-{issued['key_id']}"
    assert gateway_key["value"] == issued["usage_key"]
    assert gateway_key["enabled"] is True
    plan_keys = boto3.client("apigateway", region_name=runtime.REGION).get_usage_plan_keys(
        usagePlanId=usage_plan
    )
    assert [k["id"] for k in plan_keys["items"]] == [gateway_key["id"]]
    keys = ApiKeyService(ApiKeyStore(TABLE))
    assert keys.authenticate(issued["api_key"]).workspaces == ("ws_prod",)


def test_revoking_disables_the_usage_key(stack_keys: StackKeys) -> None:
    issued = stack_keys.issue(KeyRequest(name="orchestrator", workspaces=["ws_prod"]))
    assert stack_keys.revoke(issued["key_id"])["status"] == "revoked"
    assert [k["enabled"] for k in _gateway_keys()] == [False]
    assert [k["status"] for k in stack_keys.list()] == ["revoked"]


def test_rotation_registers_the_successor(stack_keys: StackKeys) -> None:
    issued = stack_keys.issue(KeyRequest(name="orchestrator", workspaces=["ws_prod"]))
    from datetime import timedelta

    successor = stack_keys.rotate(issued["key_id"], timedelta(hours=1))
    assert {k["value"] for k in _gateway_keys()} == {issued["usage_key"], successor["usage_key"]}


def test_a_failed_registration_leaves_no_usable_key(stack_keys: StackKeys) -> None:
    apigateway = boto3.client("apigateway", region_name=runtime.REGION)
    stack_keys._apigateway = apigateway
    with Stubber(apigateway) as stub:
        stub.add_client_error("create_api_key", "LimitExceededException", "too many API keys")
        with pytest.raises(ClientError, match="too many API keys"):
            stack_keys.issue(KeyRequest(name="orchestrator", workspaces=["ws_prod"]))
    [record] = ApiKeyService(ApiKeyStore(TABLE)).listed()
    assert record.status == "revoked"


def test_the_stack_outputs_name_the_table_and_the_plan() -> None:
    session = boto3.session.Session(region_name=runtime.REGION)
    cloudformation = session.client("cloudformation")
    outputs = [
        {"OutputKey": "ApiKeysTableName", "OutputValue": "swarm-ApiKeysTable-1"},
        {"OutputKey": "ApiUsagePlanId", "OutputValue": "plan123"},
    ]
    stack = {"StackName": "swarm", "CreationTime": "2026-11-24T00:00:00Z", "StackStatus": "CREATE_COMPLETE"}
    with Stubber(cloudformation) as stub:
        stub.add_response(
            "describe_stacks", {"Stacks": [{**stack, "Outputs": outputs}]}, {"StackName": "swarm"}
        )
        stub.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": "old"})
        session.client = lambda name, **_: (
            cloudformation
            if name == "cloudformation"
            else boto3.client(  # type: ignore[method-assign]
                name, region_name=runtime.REGION
            )
        )
        keys = StackKeys.from_stack("swarm", session)
        assert keys._usage_plan == "plan123"
        with pytest.raises(SystemExit, match="ApiKeysTableName, ApiUsagePlanId"):
            StackKeys.from_stack("old", session)


@pytest.fixture
def local_url(functions: runtime.LocalFunctions, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    # The local key endpoints ask for the server's development key (SWARM_API_KEY with --local URL).
    monkeypatch.setenv("SWARM_API_KEY", "the-development-key")
    with serving(functions, port=0, quiet=True, local_token="the-development-key") as server:
        yield server.url


def test_the_cli_manages_keys_of_the_local_server(local_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        cli.main(
            [
                "keys",
                "create",
                "--workspace",
                "ws_a",
                "--workspace",
                "ws_b",
                "--name",
                "ci",
                "--local",
                local_url,
            ]
        )
        == 0
    )
    issued = json.loads(capsys.readouterr().out)
    assert issued["workspaces"] == ["ws_a", "ws_b"]
    assert cli.main(["keys", "rotate", issued["key_id"], "--grace-hours", "1", "--local", local_url]) == 0
    successor = json.loads(capsys.readouterr().out)
    assert successor["key_id"] != issued["key_id"]
    assert cli.main(["keys", "revoke", successor["key_id"], "--local", local_url]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "revoked"
    assert cli.main(["keys", "list", "--local", local_url]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {k["key_id"] for k in listed} == {issued["key_id"], successor["key_id"]}
    with pytest.raises(SystemExit, match="HTTP 404"):
        cli.main(["keys", "revoke", "a" * 16, "--local", local_url])
    assert cli.main(["keys", "create", "--workspace", "bad id", "--name", "ci", "--local", local_url]) == 2


def test_the_cli_drives_a_stack(
    usage_plan: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def from_stack(stack: str, session: Any) -> StackKeys:
        return StackKeys(name_prefix=stack, table=TABLE, usage_plan_id=usage_plan, session=session)

    monkeypatch.setattr(StackKeys, "from_stack", staticmethod(from_stack))
    assert (
        cli.main(
            [
                "keys",
                "create",
                "--workspace",
                "ws_a",
                "--name",
                "ci",
                "--stack",
                "swarm",
                "--region",
                "us-east-1",
            ]
        )
        == 0
    )
    issued = json.loads(capsys.readouterr().out)
    assert _gateway_keys()[0]["name"] == f"swarm-{issued['key_id']}"
    assert cli.main(["keys", "rotate", issued["key_id"], "--stack", "swarm"]) == 0
    capsys.readouterr()
    assert cli.main(["keys", "rotate", issued["key_id"], "--stack", "swarm"]) == 1  # rotated already: 409
    assert "conflict" in capsys.readouterr().err
