"""The learning loop through its real interface: outcomes in → cycle (triggered or scheduled) →
patterns, profiles and rules served by the API; state atomicity, the lease, retries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from swarm_learning.clock import utcnow
from swarm_learning.dal.learner_state import get_learner_store
from swarm_learning.services.learning import service as meta_learner
from tests.helpers.api import Api
from tests.helpers.learning import PREFIX, WS, get, trigger
from tests.helpers.seeding import seed


@pytest.mark.slow
def test_trigger_answers_202_and_the_event_runs_the_cycle(api: Api) -> None:
    evaluated = seed(60)
    status, accepted = trigger(api, lookback_days=3, min_pattern_confidence=0.8)
    assert status == 202
    assert accepted["status"] == "queued"
    assert accepted["status_path"].endswith(f"/learning-cycles/{accepted['iteration_id']}?workspace_id={WS}")
    status, queued = get(api, f"/learning-cycles/{accepted['iteration_id']}")
    assert (status, queued["status"], queued["result"]) == (200, "queued", None)

    assert api.functions.deliver_events() == 1

    status, done = get(api, f"/learning-cycles/{accepted['iteration_id']}")
    assert done["status"] == "succeeded"
    assert (done["trigger"], done["lookback_days"], done["min_pattern_confidence"]) == ("on_demand", 3, 0.8)
    result = done["result"]
    assert result["iteration_id"] == accepted["iteration_id"]
    assert result["samples_analyzed"] == evaluated
    for field in ("patterns_discovered", "patterns_confirmed", "rules_updated", "key_insights", "coverage"):
        assert field in result
    assert result["completed_at"] >= result["started_at"]


def test_a_trigger_while_a_cycle_runs_is_a_conflict_and_stores_nothing(api: Api) -> None:
    get_learner_store().acquire_lease(WS, "iter_other", now=utcnow(), ttl_seconds=900)
    status, body = trigger(api)
    assert status == 409
    assert body["error"] == "cycle_running"
    _, listed = get(api, "/learning-cycles")
    assert listed["items"] == []
    _, should = get(api, "/learning-cycles/should-trigger")
    assert (should["should_trigger"], should["reason"], should["cycle_running"]) == (
        False,
        "cycle_running",
        True,
    )


def test_a_cycle_that_finds_the_lease_taken_is_skipped(api: Api) -> None:
    seed(5)
    _, accepted = trigger(api)
    get_learner_store().acquire_lease(WS, "iter_other", now=utcnow(), ttl_seconds=900)
    api.functions.deliver_events()
    _, skipped = get(api, f"/learning-cycles/{accepted['iteration_id']}")
    assert skipped["status"] == "skipped"
    assert get_learner_store().current_marker(WS) is None


@pytest.mark.slow
def test_should_trigger_counts_new_outcomes_since_the_last_cycle(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, empty = get(api, "/learning-cycles/should-trigger")
    assert (empty["should_trigger"], empty["reason"], empty["new_outcomes"]) == (
        False,
        "not_enough_new_outcomes",
        0,
    )
    evaluated = seed(40)
    _, ready = get(api, "/learning-cycles/should-trigger")
    assert ready["new_outcomes"] == evaluated >= ready["min_new_outcomes"] == 50
    assert (ready["should_trigger"], ready["reason"], ready["last_cycle_at"]) == (
        True,
        "enough_new_outcomes",
        None,
    )
    trigger(api)
    api.functions.deliver_events()
    _, after = get(api, "/learning-cycles/should-trigger")
    assert (after["should_trigger"], after["new_outcomes"]) == (False, 0)
    assert after["hours_since_last_cycle"] < 1
    seed(2, seed=99)
    _, some = get(api, "/learning-cycles/should-trigger")
    assert 0 < some["new_outcomes"] < 50
    assert some["should_trigger"] is False
    # A day later, any new outcome is reason enough.
    learner = meta_learner.get_learned_reads()
    monkeypatch.setattr(learner, "_clock", lambda: utcnow() + timedelta(hours=25))
    _, late = get(api, "/learning-cycles/should-trigger")
    assert (late["should_trigger"], late["reason"]) == (True, "last_cycle_too_old")


@pytest.mark.slow
def test_the_nightly_schedule_runs_each_workspace_once(api: Api) -> None:
    seed(20)
    seed(20, workspace="ws_other", seed=3)
    first = api.functions.invoke(
        "LearningCycleFunction", {"job": "learning_cycle", "time": "2026-11-24T02:00:00Z"}
    )
    assert first["workspaces"] == ["ws_learn", "ws_other"]
    assert api.functions.deliver_events() == 2
    again = api.functions.invoke(
        "LearningCycleFunction", {"job": "learning_cycle", "time": "2026-11-24T02:00:00Z"}
    )
    assert again["workspaces"] == []  # a retried schedule finds both iterations done
    _, listed = get(api, "/learning-cycles")
    assert [(i["trigger"], i["status"]) for i in listed["items"]] == [("schedule", "succeeded")]


@pytest.mark.parametrize(
    ("method", "path", "payload", "field"),
    [
        ("POST", "/learning-cycles/trigger", {"workspace_id": WS, "lookback_days": 0}, "lookback_days"),
        (
            "POST",
            "/learning-cycles/trigger",
            {"workspace_id": WS, "min_pattern_confidence": 1.5},
            "min_pattern_confidence",
        ),
        ("POST", "/learning-cycles/trigger", {"workspace_id": "bad id!"}, "workspace_id"),
        ("POST", "/decision-rules/suggest", {"workspace_id": WS, "context": {}, "extra": 1}, "extra"),
        ("GET", "/patterns", {"workspace_id": WS, "category": "astrology"}, "category"),
        ("GET", "/patterns", {"workspace_id": WS, "limit": 0}, "limit"),
        ("GET", "/learning-cycles/not-an-iteration", {"workspace_id": WS}, "iteration_id"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    api: Api, method: str, path: str, payload: dict, field: str
) -> None:
    if method == "POST":
        status, body = api.call(method, f"{PREFIX}{path}", body=payload)
    else:
        status, body = api.call(method, f"{PREFIX}{path}", query=payload)
    assert status == 422, body
    assert field in str(body)
    assert get_learner_store().list_iterations(WS, limit=5) == []


def test_unknown_iterations_and_profiles_are_404(api: Api) -> None:
    status, body = get(api, "/learning-cycles/iter_01JD3A0000AAAAAAAAAAAAAAAA")
    assert (status, body["details"][0]["field"]) == (404, "iteration_id")
    status, body = get(api, "/agent-profiles/NOBODY")
    assert (status, body["details"][0]["field"]) == (404, "agent_id")
    status, body = get(api, "/patterns")
    assert (status, body["version"], body["items"]) == (200, None, [])
