"""What a learning cycle learned, served through the API; confirmation, paging, redelivery,
a failure mid-cycle and the pattern refresh.

Seeding a planted swarm and running a cycle on it are slow on moto, so both are done once per
module and saved (``runtime.save_aws``); each test starts from that store put back as saved: one
finished cycle on the seeded swarm."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from localdev import runtime
from swarm_learning.clock import utcnow
from swarm_learning.dal.learner_state import get_learner_store
from swarm_learning.services.learning import service as meta_learner
from tests.helpers.api import Api
from tests.helpers.learning import PREFIX, WS, get, trigger
from tests.helpers.seeding import seed

pytestmark = pytest.mark.slow  # seeds a planted swarm of 220 workflows


@pytest.fixture(scope="module")
def seeded(embedded_aws: runtime.LocalFunctions) -> tuple[runtime.LocalFunctions, Any, str, int]:
    """The planted swarm tracked and evaluated, one cycle run on it, the store saved."""
    runtime.empty_aws(embedded_aws)
    evaluated = seed(220)
    runtime.reset_process_state()
    status, accepted = trigger(Api(embedded_aws))
    assert status == 202, accepted
    assert embedded_aws.deliver_events() == 1
    return embedded_aws, runtime.save_aws(), accepted["iteration_id"], evaluated


@pytest.fixture
def learned(seeded: tuple[runtime.LocalFunctions, Any, str, int]) -> tuple[Api, str, int]:
    """The seeded store with one finished cycle, as saved (whatever the previous test changed)."""
    functions, saved, iteration_id, evaluated = seeded
    runtime.restore_aws(functions, saved)
    return Api(functions), iteration_id, evaluated


def test_the_cycle_serves_planted_patterns_profiles_and_rules(learned: tuple[Api, str, int]) -> None:
    api, iteration_id, _ = learned
    status, patterns = get(api, "/patterns")
    assert status == 200
    conditions = {tuple(p["condition"]): p for p in patterns["items"]}
    assert ("consensus=3+",) in conditions
    consensus = conditions[("consensus=3+",)]
    assert consensus["category"] == "consensus"
    assert consensus["status"] == "new"
    # How sure the learner is that it is real (1 - p-value), not how often it succeeds.
    assert consensus["confidence_level"] > 0.99
    assert consensus["confidence_level"] != consensus["success_rate"]
    assert consensus["description"].startswith("When consensus=3+: approved")
    status, only = get(api, "/patterns", category="failure_avoidance")
    assert only["items"]
    assert {p["category"] for p in only["items"]} == {"failure_avoidance"}

    status, profile = get(api, "/agent-profiles/AGENT-02")
    assert status == 200
    assert profile["iteration_id"] == iteration_id
    assert profile["evaluated"] > 0
    assert -1 <= profile["calibration_gap"] <= 1

    status, rules = api.call(
        "POST",
        f"{PREFIX}/decision-rules/suggest",
        body={"workspace_id": WS, "context": {"task_type": "strategy"}},
    )
    assert status == 200
    actions = {r["action"] for r in rules["items"]}
    assert "require_consensus" in actions
    assert all(r["conditions"].get("recommendation_type") in (None, "strategy") for r in rules["items"])

    status, listed = get(api, "/learning-cycles")
    assert [i["iteration_id"] for i in listed["items"]] == [iteration_id]


def test_a_second_cycle_confirms_patterns_and_reports_improvement(learned: tuple[Api, str, int]) -> None:
    api, first, _ = learned
    status, accepted = trigger(api)
    assert status == 202
    api.functions.deliver_events()
    _, done = get(api, f"/learning-cycles/{accepted['iteration_id']}")
    result = done["result"]
    assert result["patterns_confirmed"] == result["patterns_discovered"] > 0  # same data, same patterns
    assert result["pattern_confidence_improvement"] == pytest.approx(0.0, abs=1e-9)
    _, patterns = get(api, "/patterns")
    assert {p["status"] for p in patterns["items"]} == {"confirmed"}
    assert all(p["confirmations"] == 1 for p in patterns["items"])
    _, listed = get(api, "/learning-cycles")
    assert [i["iteration_id"] for i in listed["items"]] == [accepted["iteration_id"], first]


def test_patterns_page_with_a_token_bound_to_the_state(learned: tuple[Api, str, int]) -> None:
    api, _, _ = learned
    _, everything = get(api, "/patterns")
    assert len(everything["items"]) >= 2
    _, first = get(api, "/patterns", limit=1)
    _, second = get(api, "/patterns", limit=1, next_token=first["next_token"])
    assert [first["items"][0], second["items"][0]] == everything["items"][:2]
    status, error = get(api, "/patterns", next_token="bm90LWEtdG9rZW4")
    assert (status, error["details"][0]["field"]) == (400, "next_token")


def test_a_redelivered_event_does_not_run_the_cycle_twice(learned: tuple[Api, str, int]) -> None:
    api, iteration_id, _ = learned
    version = get_learner_store().current_marker(WS)["version"]
    event = {
        "detail-type": "LearningCycleRequested",
        "source": "swarm.learning",
        "detail": {
            "workspace_id": WS,
            "iteration_id": iteration_id,
            "lookback_days": 7,
            "min_pattern_confidence": 0.7,
        },
    }
    assert api.functions.invoke("LearningCycleFunction", event) == {
        "iteration_id": iteration_id,
        "status": "succeeded",
    }
    assert get_learner_store().current_marker(WS)["version"] == version


def test_a_failure_mid_cycle_leaves_the_previous_state_served(
    learned: tuple[Api, str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, _, _ = learned
    _, before = get(api, "/patterns")
    store = meta_learner.get_cycle_runner()._store
    real = store.iter_evaluated

    def breaks_halfway(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for number, row in enumerate(real(*args, **kwargs)):
            if number == 100:
                raise ConnectionError("read timed out")
            yield row

    monkeypatch.setattr(store, "iter_evaluated", breaks_halfway)
    _, accepted = trigger(api)
    sqs = boto3.client("sqs", region_name=runtime.REGION)
    for queue in api.functions.event_queues.values():  # invoked by hand below, to see it raise
        sqs.purge_queue(QueueUrl=queue)
    with pytest.raises(ConnectionError):  # the invocation fails: EventBridge retries, then dead-letters
        api.functions.invoke(
            "LearningCycleFunction",
            {
                "detail-type": "LearningCycleRequested",
                "detail": {
                    "workspace_id": WS,
                    "iteration_id": accepted["iteration_id"],
                    "lookback_days": 7,
                    "min_pattern_confidence": 0.7,
                },
            },
        )
    _, failed = get(api, f"/learning-cycles/{accepted['iteration_id']}")
    assert failed["status"] == "failed"
    assert failed["error"] == "ConnectionError: read timed out"
    _, after = get(api, "/patterns")
    assert after == before  # the previous version is still the one served
    assert get_learner_store().lease_holder(WS, now=utcnow()) is None  # the lease was released


def test_pattern_refresh_drops_what_recent_data_no_longer_supports(learned: tuple[Api, str, int]) -> None:
    api, _, _ = learned
    store = get_learner_store()
    version, state = store.current(WS)
    planted_lie = {
        "condition": ["type=strategy"],
        "category": "success_indicator",
        "success_rate": 0.99,
        "frequency_count": 500,
        "confidence_level": 0.97,
        "lift": 1.4,
        "recommendation_strength": "very_strong",
        "status": "confirmed",
        "confirmations": 3,
        "first_seen_at": "2026-10-01T02:00:00+00:00",
        "last_confirmed_at": "2026-10-01T02:00:00+00:00",
        "last_validated_at": None,
    }
    weak = {**planted_lie, "condition": ["has=unseen_key"], "confidence_level": 0.55}
    state["patterns"] = [*state["patterns"], planted_lie, weak]
    marker = store.current_marker(WS)
    store.publish(
        WS,
        version + "Z",
        state,
        now=utcnow(),
        marker={"cycle_started_at": marker["cycle_started_at"], "evaluated_on_cycle_day": 0},
    )

    result = api.functions.invoke(
        "PatternRefreshFunction", {"job": "pattern_refresh", "time": utcnow().isoformat()}
    )
    assert result["workspaces"][WS]["dropped"] == 2
    _, patterns = get(api, "/patterns")
    conditions = {tuple(p["condition"]) for p in patterns["items"]}
    assert ("type=strategy",) not in conditions
    assert ("has=unseen_key",) not in conditions
    consensus = next(p for p in patterns["items"] if p["condition"] == ["consensus=3+"])
    assert consensus["last_validated_at"] is not None


def test_routing_acts_on_the_learned_rules(learned: tuple[Api, str, int]) -> None:
    api, _, _ = learned
    _, rules = api.call("POST", f"{PREFIX}/decision-rules/suggest", body={"workspace_id": WS, "context": {}})
    consensus = next(r for r in rules["items"] if r["action"] == "require_consensus" and not r["conditions"])
    request = {
        "workspace_id": WS,
        "recommendation_type": "strategy",
        "candidates": ["AGENT-02", "AGENT-03", "AGENT-04", "AGENT-05"],
        "k": 1,
    }
    status, decision = api.call("POST", f"{PREFIX}/routing/select", body=request)
    assert status == 200, decision
    assert len(decision["chosen"]) == consensus["parameters"]["min_agents"] == 3
    assert consensus["rule_id"] in decision["applied_rules"]
    _, plain = api.call("POST", f"{PREFIX}/routing/select", body={**request, "apply_rules": False})
    assert (len(plain["chosen"]), plain["applied_rules"]) == (1, [])


def test_profiles_speak_the_trust_vocabulary_with_rounded_figures(learned: tuple[Api, str, int]) -> None:
    api, _, _ = learned
    status, trusted = get(api, "/trust-scores")
    assert status == 200
    words = {"improving", "declining", "stable"}
    profiled = 0
    for agent in trusted["items"]:
        status, profile = get(api, f"/agent-profiles/{agent['agent_id']}")
        if status == 404:  # too few evaluations in the cycle's window
            continue
        profiled += 1
        assert {profile["trend"], agent["trend"]} <= words  # one vocabulary, the number apart
        assert isinstance(profile["trend_slope"], float)
        figures = [
            profile[name] for name in ("approval_rate", "calibration_gap", "trend_slope", "consensus_share")
        ]
        for standing in profile["strengths"] + profile["weaknesses"]:
            figures += [
                standing[name] for name in ("approval_rate", "baseline", "lower_bound", "upper_bound")
            ]
        assert all(value == round(value, 6) for value in figures), figures  # no float32 noise shown
    assert profiled >= 3
