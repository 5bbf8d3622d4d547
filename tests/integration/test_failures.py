"""Failure injection with botocore's Stubber: lost races are retried, real failures surface."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.stub import Stubber

from swarm_learning.dal.store import get_store
from swarm_learning.errors import AlreadyEvaluatedError, NotFoundError
from tests.helpers.api import Api, recommendation

NOW = datetime(2026, 11, 24, tzinfo=UTC)
RECORD = {
    "recommendation_id": "rec_01JD2Z8QK6Y3R1V9T5W7X0ABCD",
    "workspace_id": "ws_test",
    "agent_id": "A",
    "agent_name": "Agent",
    "recommendation_type": "strategy",
    "created_at": NOW,
    "status": "pending",
}


def _cancelled(*codes: str, item: dict | None = None) -> dict:
    reasons = [{"Code": code} for code in codes]
    if item is not None:
        reasons[0]["Item"] = item
    return {
        "service_error_code": "TransactionCanceledException",
        "service_message": "Transaction cancelled",
        "http_status_code": 400,
        "response_meta": {},
        "modeled_fields": {"CancellationReasons": reasons},
    }


def _outcome() -> dict:
    return {"outcome_id": "out_1", "outcome": "approved", "overall_quality_score": 90.0, "evaluated_at": NOW}


@pytest.mark.usefixtures("functions")
def test_a_transaction_that_lost_a_race_is_retried() -> None:
    store = get_store()
    with Stubber(store.client) as stub:
        stub.add_client_error("transact_write_items", **_cancelled("None", "TransactionConflict"))
        stub.add_response("transact_write_items", {})
        store.insert_recommendation(RECORD, {"tracked": 1})
        stub.assert_no_pending_responses()


@pytest.mark.usefixtures("functions")
def test_conflicts_that_never_clear_surface_as_errors() -> None:
    store = get_store()
    with Stubber(store.client) as stub:
        for _ in range(5):
            stub.add_client_error("transact_write_items", **_cancelled("TransactionConflict"))
        with pytest.raises(Exception, match="TransactionCanceled"):
            store.insert_recommendation(RECORD, {"tracked": 1})


@pytest.mark.usefixtures("functions")
def test_failed_settle_condition_maps_to_conflict_or_not_found() -> None:
    store = get_store()
    with Stubber(store.client) as stub:
        stub.add_client_error(
            "transact_write_items", **_cancelled("ConditionalCheckFailed", item={"status": {"S": "approved"}})
        )
        with pytest.raises(AlreadyEvaluatedError):
            store.record_evaluation(RECORD, _outcome(), {"evaluated": 1})
        stub.add_client_error("transact_write_items", **_cancelled("ConditionalCheckFailed"))
        with pytest.raises(NotFoundError):
            store.record_evaluation(RECORD, _outcome(), {"evaluated": 1})


def test_a_dynamodb_outage_is_a_json_500_with_the_request_id(api: Api) -> None:
    store = get_store()
    with Stubber(store.client) as stub:
        stub.add_client_error(
            "transact_write_items", service_error_code="InternalServerError", http_status_code=500
        )
        status, body = api.call("POST", "/api/v1/learning/recommendations/track", body=recommendation())
    assert status == 500
    assert body["error"] == "internal_error"
    assert body["request_id"]
