"""Versioned learner state and the cycle lease, on the embedded store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.stub import Stubber

from swarm_learning.config import get_settings
from swarm_learning.dal.learner_state import LearnerStateStore, LeaseHeldError
from swarm_learning.errors import ConflictError

NOW = datetime(2026, 11, 24, 2, tzinfo=UTC)


@pytest.fixture
def store(functions) -> LearnerStateStore:
    return LearnerStateStore(get_settings())


def test_only_one_cycle_holds_the_lease_until_it_expires(store: LearnerStateStore) -> None:
    store.acquire_lease("ws", "cycle-1", now=NOW, ttl_seconds=900)
    with pytest.raises(LeaseHeldError):
        store.acquire_lease("ws", "cycle-2", now=NOW + timedelta(minutes=5), ttl_seconds=900)
    store.acquire_lease("ws", "cycle-1", now=NOW + timedelta(minutes=5), ttl_seconds=900)  # renewal
    store.acquire_lease("other_ws", "cycle-2", now=NOW, ttl_seconds=900)  # per workspace
    assert store.lease_holder("ws", now=NOW) == "cycle-1"
    # a crashed cycle's lease expires and is taken over
    store.acquire_lease("ws", "cycle-2", now=NOW + timedelta(hours=1), ttl_seconds=900)
    assert store.lease_holder("ws", now=NOW + timedelta(hours=1)) == "cycle-2"


def test_release_only_frees_our_own_lease(store: LearnerStateStore) -> None:
    store.acquire_lease("ws", "cycle-1", now=NOW, ttl_seconds=900)
    store.release_lease("ws", "cycle-2")
    assert store.lease_holder("ws", now=NOW) == "cycle-1"
    store.release_lease("ws", "cycle-1")
    assert store.lease_holder("ws", now=NOW) is None
    store.acquire_lease("ws", "cycle-2", now=NOW, ttl_seconds=900)


def test_published_state_becomes_current_and_old_versions_cannot_win(store: LearnerStateStore) -> None:
    assert store.current("ws") is None
    store.publish("ws", "v_01", {"patterns": [1]}, now=NOW)
    store.publish("ws", "v_02", {"patterns": [1, 2]}, now=NOW)
    assert store.current("ws") == ("v_02", {"patterns": [1, 2]})
    with pytest.raises(ConflictError):
        store.publish("ws", "v_00", {"patterns": []}, now=NOW)
    assert store.current("ws") == ("v_02", {"patterns": [1, 2]})


def test_a_failure_before_the_switch_leaves_the_previous_state_served(store: LearnerStateStore) -> None:
    store.publish("ws", "v_01", {"patterns": ["old"]}, now=NOW)
    with Stubber(store._client) as stub:
        stub.add_response("put_item", {})  # the new version is written …
        stub.add_client_error("put_item", service_error_code="InternalServerError", http_status_code=500)
        with pytest.raises(Exception, match="InternalServerError"):
            store.publish("ws", "v_02", {"patterns": ["new"]}, now=NOW)  # … but the switch fails
    assert store.current("ws") == ("v_01", {"patterns": ["old"]})


def test_the_served_version_never_expires_and_the_replaced_one_starts_its_history(
    store: LearnerStateStore,
) -> None:
    import boto3

    store.publish("ws", "v_01", {"patterns": [1]}, now=NOW)
    store.publish("ws", "v_02", {"patterns": [2]}, now=NOW)
    client = boto3.client("dynamodb", region_name="us-east-1")

    def expiry(version: str) -> str | None:
        item = client.get_item(
            TableName="LearnerStateTable", Key={"pk": {"S": "WS#ws"}, "sk": {"S": f"STATE#{version}#0000"}}
        )["Item"]
        return item.get("expires_at", {}).get("N")

    assert expiry("v_02") is None
    assert expiry("v_01") == str(int((NOW + timedelta(days=90)).timestamp()))
