"""Every read through the query handler: by id, by agent (filters, pages), statistics."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta

import boto3
import pytest

from swarm_learning.clock import utcnow
from tests.helpers.api import WORKSPACE, Api

BY_AGENT = "/api/v1/learning/recommendations/agent/STRAT-01"


def _list(api: Api, **query) -> tuple[int, dict]:
    return api.call("GET", BY_AGENT, query={"workspace_id": WORKSPACE, **query})


def test_get_unknown_recommendation_is_404(api: Api) -> None:
    status, body = api.call(
        "GET",
        "/api/v1/learning/recommendations/rec_01JD2Z8QK6Y3R1V9T5W7X0ABCD",
        query={"workspace_id": WORKSPACE},
    )
    assert status == 404
    assert body["error"] == "not_found"


def test_get_requires_a_workspace_and_a_well_formed_id(api: Api) -> None:
    rid = api.track()["recommendation_id"]
    status, body = api.call("GET", f"/api/v1/learning/recommendations/{rid}")
    assert status == 422
    assert body["details"][0]["field"] == "workspace_id"
    status, body = api.call(
        "GET", "/api/v1/learning/recommendations/not-an-id", query={"workspace_id": WORKSPACE}
    )
    assert status == 422
    assert body["details"][0]["field"] == "recommendation_id"


def test_expired_but_present_items_are_gone_for_readers(api: Api) -> None:
    rid = api.track()["recommendation_id"]
    client = boto3.client("dynamodb")
    client.update_item(
        TableName="RecommendationsTable",
        Key={"pk": {"S": f"WS#{WORKSPACE}#REC#{rid}"}, "sk": {"S": "RECOMMENDATION"}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": str(int(utcnow().timestamp()) - 60)}},
    )
    status, _ = api.call("GET", f"/api/v1/learning/recommendations/{rid}", query={"workspace_id": WORKSPACE})
    assert status == 404
    _, page = _list(api)
    assert page["items"] == []
    assert api.evaluate(rid)[0] == 404


def test_agent_list_is_newest_first_and_pages_without_gaps_or_repeats(api: Api) -> None:
    ids = [api.track()["recommendation_id"] for _ in range(7)]
    seen, token, pages = [], None, 0
    while True:
        status, page = _list(api, limit=3, next_token=token)
        assert status == 200
        seen.extend(item["recommendation_id"] for item in page["items"])
        pages += 1
        token = page["next_token"]
        if token is None:
            break
    assert seen == list(reversed(ids))
    assert pages == 3


def test_agent_list_filters_by_type_and_status(api: Api) -> None:
    strategy = [api.track()["recommendation_id"] for _ in range(3)]
    content = api.track(recommendation_type="content")["recommendation_id"]
    api.evaluate(strategy[0], overall_quality_score=90)
    api.evaluate(strategy[1], overall_quality_score=10)

    _, page = _list(api, recommendation_type="content")
    assert [i["recommendation_id"] for i in page["items"]] == [content]
    _, page = _list(api, status="approved")
    assert [i["recommendation_id"] for i in page["items"]] == [strategy[0]]
    _, page = _list(api, recommendation_type="strategy", status="pending")
    assert [i["recommendation_id"] for i in page["items"]] == [strategy[2]]


def test_status_filter_fills_pages_across_sparse_matches(api: Api) -> None:
    ids = [api.track()["recommendation_id"] for _ in range(6)]
    for rid in ids[:5]:
        api.evaluate(rid, overall_quality_score=90)
    # the only pending item is the newest; the approved ones follow it
    _status, page = _list(api, status="approved", limit=2)
    assert [i["recommendation_id"] for i in page["items"]] == [ids[4], ids[3]]
    _, rest = _list(api, status="approved", limit=5, next_token=page["next_token"])
    assert [i["recommendation_id"] for i in rest["items"]] == [ids[2], ids[1], ids[0]]


def test_agent_list_time_window(api: Api) -> None:
    before = utcnow() - timedelta(milliseconds=5)
    rid = api.track()["recommendation_id"]
    after = utcnow() + timedelta(milliseconds=5)
    _, page = _list(api, since=before.isoformat(), until=after.isoformat())
    assert [i["recommendation_id"] for i in page["items"]] == [rid]
    _, page = _list(api, since=after.isoformat())
    assert page["items"] == []
    _, page = _list(api, until=before.isoformat())
    assert page["items"] == []
    status, body = _list(api, since=after.isoformat(), until=before.isoformat())
    assert status == 400
    assert body["details"][0]["field"] == "since"


@pytest.mark.parametrize("limit", [0, 101, "ten"])
def test_agent_list_limit_is_bounded(api: Api, limit) -> None:
    status, body = _list(api, limit=limit)
    assert status == 422
    assert body["details"][0]["field"] == "limit"


def test_tampered_or_foreign_page_tokens_are_rejected(api: Api) -> None:
    for _ in range(3):
        api.track()
        api.track(agent_id="OTHER-01")
    _, page = api.call(
        "GET",
        "/api/v1/learning/recommendations/agent/OTHER-01",
        query={"workspace_id": WORKSPACE, "limit": 1},
    )
    foreign = page["next_token"]
    assert foreign
    status, body = _list(api, next_token=foreign)
    assert status == 400
    assert body["details"][0]["field"] == "next_token"
    status, _ = _list(api, next_token="!!not-base64!!")
    assert status == 400
    forged = base64.urlsafe_b64encode(json.dumps({"agent_pk": {"S": "WS#x#AGENT#y"}}).encode()).decode()
    assert _list(api, next_token=forged)[0] == 400


def test_agent_lists_are_scoped_to_the_workspace(api: Api) -> None:
    api.track(workspace_id="ws_other")
    _, page = _list(api)
    assert page["items"] == []


def test_agent_stats_for_an_unknown_agent_is_404(api: Api) -> None:
    status, body = api.call("GET", "/api/v1/learning/agents/NOBODY/stats", query={"workspace_id": WORKSPACE})
    assert status == 404
    assert body["details"][0]["field"] == "agent_id"


def test_agent_stats_name_and_window(api: Api) -> None:
    api.track()
    status, stats = api.call(
        "GET", "/api/v1/learning/agents/STRAT-01/stats", query={"workspace_id": WORKSPACE, "days": 7}
    )
    assert status == 200
    assert stats["agent_name"] == "MoveArchitect"
    since = datetime.fromisoformat(stats["window"]["since"])
    until = datetime.fromisoformat(stats["window"]["until"])
    assert (until.date() - since.date()).days == 6
    assert stats["first_seen_at"] == stats["last_seen_at"]


def test_workspace_stats_sum_every_agent_and_type(api: Api) -> None:
    for agent in ("A-1", "A-2", "A-3"):
        for rtype in ("strategy", "content"):
            rid = api.track(agent_id=agent, recommendation_type=rtype)["recommendation_id"]
            api.evaluate(rid, overall_quality_score=80 if agent != "A-3" else 20)
    api.track(agent_id="A-1", workspace_id="ws_other")

    status, stats = api.call("GET", "/api/v1/learning/stats", query={"workspace_id": WORKSPACE})
    assert status == 200
    assert stats["agents"] == 3
    counts = stats["overall"]["counts"]
    assert (counts["tracked"], counts["evaluated"], counts["approved"], counts["rejected"]) == (6, 6, 4, 2)
    assert stats["overall"]["avg_quality_score"] == pytest.approx(60)
    assert set(stats["by_type"]) == {"content", "strategy"}
    assert stats["by_type"]["content"]["counts"]["evaluated"] == 3


def test_workspace_stats_of_an_empty_workspace_are_zero(api: Api) -> None:
    status, stats = api.call("GET", "/api/v1/learning/stats", query={"workspace_id": "ws_empty"})
    assert status == 200
    assert stats["agents"] == 0
    assert stats["overall"]["counts"]["tracked"] == 0
    assert stats["overall"]["approval_rate"] is None


def test_unknown_route_is_a_json_404_not_a_crash(api: Api) -> None:
    from localdev.apigw import rest_event

    # What a proxy resource would send: authorized, but for a path no route handles.
    event = rest_event(
        method="GET",
        path="/api/v1/learning/nowhere",
        resource="/api/v1/learning/nowhere",
        authorizer={"principalId": "k", "key_id": "k", "workspaces": "ws_test"},
    )
    response = api.functions.invoke("QueryFunction", event)
    assert response["statusCode"] == 404
    assert json.loads(response["body"])["error"] == "route_not_found"
