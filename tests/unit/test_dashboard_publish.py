"""``python -m admin dashboard publish``: the dashboard's files (and only those) go to the stack's
bucket with their content types, config.json names the stack's API, and CloudFront is invalidated."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from admin import __main__ as cli
from admin.dashboard import DASHBOARD_DIR, DashboardSite, dashboard_files

REGION = "us-east-1"
API_URL = "https://abc123.execute-api.us-east-1.amazonaws.com/prod/api/v1/learning"


class _Session:
    """A boto3 session whose CloudFront client is stubbed (S3 is moto's)."""

    def __init__(self, stack_outputs: dict[str, str] | None = None) -> None:
        self._session = boto3.session.Session(region_name=REGION)
        self.cloudfront = self._session.client("cloudfront")
        self.stubber = Stubber(self.cloudfront)
        self.outputs = stack_outputs or {}

    def client(self, name: str) -> Any:
        if name == "cloudfront":
            return self.cloudfront
        if name == "cloudformation":
            return _Stacks(self.outputs)
        return self._session.client(name)


class _Stacks:
    def __init__(self, outputs: dict[str, str]) -> None:
        self.outputs = outputs

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        return {
            "Stacks": [
                {
                    "StackName": StackName,
                    "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in self.outputs.items()],
                }
            ]
        }


def test_only_the_pages_files_and_the_licences_are_published() -> None:
    names = {f.relative_to(DASHBOARD_DIR).as_posix() for f in dashboard_files()}
    assert {"index.html", "styles.css", "js/app.js", "js/views/agents.js"} <= names
    assert {"vendor/echarts/echarts.esm.min.js", "vendor/echarts/LICENSE", "vendor/echarts/NOTICE"} <= names
    assert not {n for n in names if n.startswith("package") or "node_modules" in n}
    assert "config.json" not in names  # written for the stack instead


@mock_aws
def test_publish_uploads_points_the_page_at_the_stacks_api_and_invalidates() -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="dashboard-bucket")
    session = _Session()
    session.stubber.add_response(
        "create_invalidation",
        {"Location": "https://cloudfront/x", "Invalidation": _invalidation()},
        {
            "DistributionId": "E123",
            "InvalidationBatch": {"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": ANY},
        },
    )
    site = DashboardSite("dashboard-bucket", API_URL, "E123", "https://d1.cloudfront.net/", session)
    with session.stubber:
        answer = site.publish()
    session.stubber.assert_no_pending_responses()

    assert answer["invalidation_id"] == "I1"
    assert answer["files"] == len(dashboard_files()) + 1
    index = s3.get_object(Bucket="dashboard-bucket", Key="index.html")
    assert index["ContentType"] == "text/html; charset=utf-8"
    module = s3.get_object(Bucket="dashboard-bucket", Key="js/app.js")
    assert module["ContentType"] == "text/javascript; charset=utf-8"  # ES modules need a JS type
    config = s3.get_object(Bucket="dashboard-bucket", Key="config.json")
    assert json.loads(config["Body"].read()) == {"api_base": API_URL}


def test_a_stack_without_the_dashboard_outputs_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match="no output DashboardBucketName"):
        DashboardSite.from_stack("old-stack", _Session({"ApiUrl": API_URL}))


@mock_aws
def test_the_command_reads_the_stack_outputs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="site-bucket")
    session = _Session(
        {
            "DashboardBucketName": "site-bucket",
            "DashboardDistributionId": "E9",
            "DashboardUrl": "https://d9.cloudfront.net/",
            "ApiUrl": API_URL,
        }
    )
    session.stubber.add_response("create_invalidation", {"Invalidation": _invalidation()})
    session.stubber.activate()
    monkeypatch.setattr(boto3.session, "Session", lambda region_name=None: session)
    assert cli.main(["dashboard", "publish", "--stack", "swarm-learning"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["url"] == "https://d9.cloudfront.net/"
    assert printed["bucket"] == "site-bucket"


def _invalidation() -> dict[str, Any]:
    return {
        "Id": "I1",
        "Status": "InProgress",
        "CreateTime": "2026-12-01T00:00:00Z",
        "InvalidationBatch": {"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": "x"},
    }
