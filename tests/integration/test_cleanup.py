"""The weekly cleanup: what is past retention goes, what is inside it stays, whatever happens."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from localdev import runtime
from swarm_learning.dal.store import get_store
from swarm_learning.services.retention import cleanup as retention
from swarm_learning.services.tracking.tracker import get_tracker
from tests.helpers.api import EVENTS_DIR, WORKSPACE, Api
from tests.helpers.clock import FIXED_NOW

NOW = FIXED_NOW
OLD = NOW - timedelta(days=100)  # RETENTION_DAYS is 90


def _seed(api: Api, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[str]]:
    """Three recommendations tracked and evaluated 100 days ago by OLD-01, two now by STRAT-01."""
    tracker = get_tracker()
    old, fresh = [], []
    monkeypatch.setattr(tracker, "_clock", lambda: OLD)
    for number in range(3):
        rid = api.track(agent_id="OLD-01", workflow_id=f"old_{number}")["recommendation_id"]
        assert api.evaluate(rid)[0] == 200
        old.append(rid)
    monkeypatch.setattr(tracker, "_clock", lambda: NOW)
    for number in range(2):
        rid = api.track(workflow_id=f"new_{number}")["recommendation_id"]
        assert api.evaluate(rid)[0] == 200
        fresh.append(rid)
    return old, fresh


def _cleanup(api: Api, at: datetime = NOW, **event: Any) -> dict[str, Any]:
    return api.functions.invoke("CleanupFunction", {"job": "cleanup", "time": at.isoformat(), **event})


def _stored(rid: str) -> set[str]:
    """The sort keys physically stored for a recommendation (TTL never runs here)."""
    client = boto3.client("dynamodb", region_name=runtime.REGION)
    items = client.query(
        TableName="RecommendationsTable",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"WS#{WORKSPACE}#REC#{rid}"}},
    )["Items"]
    return {item["sk"]["S"] for item in items}


def _statistics_keys() -> set[tuple[str, str]]:
    client = boto3.client("dynamodb", region_name=runtime.REGION)
    return {(i["pk"]["S"], i["sk"]["S"]) for i in client.scan(TableName="StatisticsTable")["Items"]}


def test_what_is_past_retention_goes_and_what_is_inside_stays(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, fresh = _seed(api, monkeypatch)
    before = _statistics_keys()
    report = _cleanup(api)
    assert report["dry_run"] is False
    assert report["deleted"]["recommendations"] == report["deleted"]["outcomes"] == 3
    assert report["deleted"]["agent_entries"] == 1  # OLD-01, not seen for 100 days
    assert report["deleted"]["statistics_buckets"] > 0
    for rid in old:
        assert _stored(rid) == set()
    for rid in fresh:
        assert _stored(rid) == {"RECOMMENDATION", "OUTCOME"}
    after = _statistics_keys()
    gone = before - after
    assert gone
    assert all("OLD-01" in pk or OLD.date().isoformat() in sk for pk, sk in gone)
    assert all(NOW.date().isoformat() in sk or sk == "AGENT" for pk, sk in after if "STRAT-01" in pk)
    # what survives is what the API still serves
    status, _ = api.call(
        "GET", f"/api/v1/learning/recommendations/{fresh[0]}", query={"workspace_id": WORKSPACE}
    )
    assert status == 200
    # safe to run twice: nothing more is past retention
    again = _cleanup(api)
    assert again["expired"] == again["deleted"] == {}


def test_a_dry_run_deletes_nothing(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    old, _ = _seed(api, monkeypatch)
    before = _statistics_keys()
    event = json.loads((EVENTS_DIR / "cleanup_dry_run.json").read_text())
    report = api.functions.invoke("CleanupFunction", {**event, "time": NOW.isoformat()})
    assert report["dry_run"] is True
    assert report["expired"]["recommendations"] == 3
    assert report["deleted"] == {}
    assert all(_stored(rid) == {"RECOMMENDATION", "OUTCOME"} for rid in old)
    assert _statistics_keys() == before


def test_nothing_inside_retention_is_touched(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    _, fresh = _seed(api, monkeypatch)
    report = _cleanup(api, at=NOW + timedelta(days=89))
    assert report["deleted"]["recommendations"] == 3  # the 100-day-old ones only
    for rid in fresh:
        assert _stored(rid) == {"RECOMMENDATION", "OUTCOME"}


def test_an_interrupted_run_is_finished_by_the_next(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    old, fresh = _seed(api, monkeypatch)
    store = get_store()
    real = store.delete_if_expired
    calls = {"n": 0}

    def dies_after_two(item: Any, *, now: datetime) -> bool:
        calls["n"] += 1
        if calls["n"] > 2:
            raise RuntimeError("Lambda timed out")
        return real(item, now=now)

    monkeypatch.setattr(store, "delete_if_expired", dies_after_two)
    with pytest.raises(RuntimeError):  # the invocation fails: the schedule retries, then dead-letters
        _cleanup(api)
    monkeypatch.setattr(store, "delete_if_expired", real)
    _cleanup(api)
    assert all(_stored(rid) == set() for rid in old)
    assert all(_stored(rid) == {"RECOMMENDATION", "OUTCOME"} for rid in fresh)


def test_throttled_deletes_are_retried_and_a_run_that_cannot_finish_raises(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, _ = _seed(api, monkeypatch)
    store = get_store()
    real = store.delete_if_expired
    throttled: set[str] = set()

    def throttled_once(item: Any, *, now: datetime) -> bool:
        if item.key["sk"] == "RECOMMENDATION" and item.key["pk"] not in throttled:
            throttled.add(item.key["pk"])
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "DeleteItem")
        return real(item, now=now)

    cleanup = retention.Cleanup(store, retention.get_learner_store(), sleep=lambda _: None)
    monkeypatch.setattr(store, "delete_if_expired", throttled_once)
    report = cleanup.run(NOW)
    assert report.deleted["recommendations"] == 3
    assert all(_stored(rid) == set() for rid in old)

    _seed(api, monkeypatch)

    def always_throttled(item: Any, *, now: datetime) -> bool:
        raise ClientError({"Error": {"Code": "ThrottlingException"}}, "DeleteItem")

    monkeypatch.setattr(store, "delete_if_expired", always_throttled)
    with pytest.raises(retention.CleanupIncompleteError):
        cleanup.run(NOW)


def test_a_renewed_item_is_never_deleted(api: Api) -> None:
    rid = api.track()["recommendation_id"]
    item = retention.ExpiredItem(
        "recommendations", "RecommendationsTable", {"pk": f"WS#{WORKSPACE}#REC#{rid}", "sk": "RECOMMENDATION"}
    )
    assert get_store().delete_if_expired(item, now=NOW) is False  # inside retention: the condition holds it
    assert _stored(rid) == {"RECOMMENDATION"}


def test_the_learners_history_expires_but_its_current_state_stays(api: Api) -> None:
    from swarm_learning.dal.learner_state import get_learner_store

    learner = get_learner_store()
    learner.create_iteration(
        WORKSPACE,
        "iter_01JD3A0000AAAAAAAAAAAAAAAA",
        {"requested_at": OLD, "trigger": "on_demand", "lookback_days": 7, "min_pattern_confidence": 0.7},
    )
    learner.publish(WORKSPACE, "01A", {"patterns": ["old"]}, now=OLD)
    learner.publish(WORKSPACE, "01B", {"patterns": ["kept"]}, now=OLD)
    api.track()  # the workspace exists in the directory
    report = _cleanup(api)
    assert report["deleted"]["learner_iterations"] == 1
    assert report["deleted"]["learner_versions"] == 1  # 01A; 01B is current
    assert learner.current(WORKSPACE) == ("01B", {"patterns": ["kept"]})


def test_a_job_that_raises_lands_its_event_in_the_dead_letter_queue(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(now: datetime, *, dry_run: bool = False) -> None:
        raise ConnectionError("DynamoDB unreachable")

    monkeypatch.setattr(retention.get_cleanup(), "run", broken)
    with pytest.raises(ConnectionError):
        api.functions.run_job("cleanup", {"time": "2026-11-29T03:00:00Z"})
    assert api.functions.dead_letters("CleanupFunction") == [
        {"job": "cleanup", "time": "2026-11-29T03:00:00Z"}
    ]
    assert api.functions.dead_letters("LearningCycleFunction") == []
