"""POST /routing/evaluate through the real handler: decisions logged by POST /routing/select, joined to
the outcomes of the recommendations that carry their ids, estimated per policy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
import pytest

from swarm_learning.clock import utcnow
from tests.helpers.api import WORKSPACE, Api

PREFIX = "/api/v1/learning"
SELECT = f"{PREFIX}/routing/select"
EVALUATE = f"{PREFIX}/routing/evaluate"
CANDIDATES = ["AGENT-A", "AGENT-B", "AGENT-C"]
# Each agent's outcome, always: A approved, B partial, C rejected.
SCORES = {"AGENT-A": 90.0, "AGENT-B": 55.0, "AGENT-C": 10.0}
REWARD = {"AGENT-A": 1.0, "AGENT-B": 0.5, "AGENT-C": 0.0}


def _route(api: Api, **overrides: Any) -> dict[str, Any]:
    body = {
        "workspace_id": WORKSPACE,
        "recommendation_type": "strategy",
        "candidates": CANDIDATES,
        **overrides,
    }
    status, decision = api.call("POST", SELECT, body=body)
    assert status == 200, decision
    return decision


def _follow(api: Api, decision: dict[str, Any], *, evaluate: bool = True) -> None:
    """Every chosen agent makes a recommendation carrying the decision id; each is evaluated."""
    for chosen in decision["chosen"]:
        tracked = api.track(
            agent_id=chosen["agent_id"],
            decision_id=decision["decision_id"],
            selection_probability=chosen["probability"],
        )
        if evaluate:
            status, _ = api.evaluate(
                tracked["recommendation_id"], overall_quality_score=SCORES[chosen["agent_id"]]
            )
            assert status == 200


def _evaluate(api: Api, **body: Any) -> tuple[int, Any]:
    return api.call("POST", EVALUATE, body={"workspace_id": WORKSPACE, **body})


def test_an_empty_window_answers_zero_decisions(api: Api) -> None:
    status, answer = _evaluate(api)
    assert status == 200, answer
    assert answer["decisions"] == 0
    assert answer["logged"] is None
    assert answer["best"] is None
    assert [p["policy"] for p in answer["policies"]] == ["explore", "explore", "exploit", "uniform"]
    assert [p["apply_rules"] for p in answer["policies"]] == [True, False, True, False]


@pytest.mark.parametrize(
    ("policies", "field"),
    [
        ([{"policy": "greedy"}], "policies.0.policy"),
        ([{"policy": "agent"}], "policies.0"),
        ([{"policy": "uniform", "apply_rules": True}], "policies.0"),
        ([{"policy": "exploit", "agent_id": "AGENT-A"}], "policies.0"),
        ([{"policy": "uniform"}, {"policy": "agent", "agent_id": "NOBODY"}], "policies.1.agent_id"),
    ],
)
def test_undefined_policies_and_unknown_agents_are_422_naming_the_field(
    api: Api, policies: list[dict[str, Any]], field: str
) -> None:
    status, error = _evaluate(api, policies=policies)
    assert status == 422, error
    assert any(d["field"].startswith(field) for d in error["details"]), error


def test_estimates_join_outcomes_to_decisions_and_skip_what_cannot_be_judged(api: Api) -> None:
    # Floor 1: every first slot uniform, so the log's propensities are known exactly (1/3).
    decisions = [_route(api, exploration_floor=1.0) for _ in range(45)]
    for decision in decisions:
        _follow(api, decision)
    _follow(api, _route(api, exploration_floor=1.0), evaluate=False)  # no outcome yet
    _follow(api, _route(api, mode="exploit", exploration_floor=0.0))  # probability 1: no support
    logged = boto3.client("dynamodb").scan(TableName="RoutingDecisionsTable")["Items"]
    assert all(len(item["candidates"]["L"]) == 3 for item in logged)

    status, answer = _evaluate(
        api,
        recommendation_type="strategy",
        policies=[{"policy": "agent", "agent_id": a} for a in CANDIDATES] + [{"policy": "uniform"}],
    )
    assert status == 200, answer
    assert answer["decisions"] == 45
    assert answer["skipped"] == {"no_outcome": 1, "no_support": 1, "not_logged": 0}
    rewards = [REWARD[d["chosen"][0]["agent_id"]] for d in decisions]
    assert answer["logged"]["value"] == pytest.approx(sum(rewards) / 45, abs=1e-6)
    by_agent = {p["agent_id"]: p for p in answer["policies"] if p["policy"] == "agent"}
    for agent, reward in REWARD.items():
        # The agent policy's SNIPS and DR are exact here: every outcome of the agent is the same.
        assert by_agent[agent]["estimates"]["snips"]["value"] == pytest.approx(reward)
        chosen = sum(d["chosen"][0]["agent_id"] == agent for d in decisions)
        assert by_agent[agent]["estimates"]["ips"]["value"] == pytest.approx(
            3 * reward * chosen / 45, abs=1e-6
        )
        assert by_agent[agent]["effective_sample_size"] == pytest.approx(chosen)
    uniform = answer["policies"][-1]
    assert uniform["estimates"]["ips"]["value"] == pytest.approx(answer["logged"]["value"])
    assert uniform["effective_sample_size"] == pytest.approx(45)
    # 45 decisions are worth under 100: every estimate here says its support is thin.
    assert all(p["thin_support"] for p in answer["policies"])
    assert answer["best"]["agent_id"] == "AGENT-A"
    assert answer["best"]["beats_logged"] is True
    low, high = (
        by_agent["AGENT-C"]["estimates"]["ips"]["lower"],
        by_agent["AGENT-C"]["estimates"]["ips"]["upper"],
    )
    assert low == high == 0.0  # never approved: no spread

    status, other = _evaluate(api, recommendation_type="content")
    assert (status, other["decisions"]) == (200, 0)

    # The same log behind the alerts' comparison and the learning cycle's figures.
    from swarm_learning.services.trust.evaluation import get_routing_evaluation

    now = utcnow()
    comparison = get_routing_evaluation().router_against_best_agent(
        WORKSPACE, since=now - timedelta(days=1), until=now + timedelta(minutes=1)
    )
    assert (comparison.decisions, comparison.best_agent_id) == (45, "AGENT-A")
    assert comparison.router == pytest.approx(answer["logged"]["value"], abs=1e-6)
    assert comparison.difference == pytest.approx(comparison.router - 1.0)
    assert comparison.significantly_worse is True
    # Issue 23's RoutingUnderperforming reads this comparison after each learning cycle.
    from swarm_learning.services.alerts.service import get_cycle_alerts

    alert = get_cycle_alerts().routing_evaluated(WORKSPACE, now=now + timedelta(minutes=1))
    assert alert is not None
    assert alert.kind == "RoutingUnderperforming"

    status, accepted = api.call("POST", f"{PREFIX}/learning-cycles/trigger", body={"workspace_id": WORKSPACE})
    assert status == 202, accepted
    assert api.functions.deliver_events() == 1
    _, done = api.call(
        "GET", f"{PREFIX}/learning-cycles/{accepted['iteration_id']}", query={"workspace_id": WORKSPACE}
    )
    result = done["result"]
    # 45 decisions are under ROUTING_EVALUATION_MIN_DECISIONS (100): no figure, and the reason.
    assert result["rule_effectiveness_improvement"] is None
    assert result["rule_effectiveness_reason"] == (
        "45 routing decisions with outcomes in the window; at least 100 are needed"
    )
    assert result["routing_lift"]["decisions"] == 45
    assert result["routing_lift"]["vs_uniform"] is None


def test_the_floor_is_logged_and_a_request_may_turn_it_off(api: Api) -> None:
    decision = _route(api, mode="exploit", exploration_floor=0.0)
    assert decision["chosen"][0]["probability"] == 1.0
    item = boto3.client("dynamodb").scan(TableName="RoutingDecisionsTable")["Items"][0]
    assert float(item["exploration_floor"]["N"]) == 0.0
    first = {
        c["M"]["agent_id"]["S"]: float(c["M"]["first_slot_probability"]["N"]) for c in item["candidates"]["L"]
    }
    assert sorted(first.values()) == [0.0, 0.0, 1.0]

    default = _route(api)
    items = boto3.client("dynamodb").scan(TableName="RoutingDecisionsTable")["Items"]
    stored = next(i for i in items if i["decision_id"]["S"] == default["decision_id"])
    assert float(stored["exploration_floor"]["N"]) == 0.05
    probabilities = [float(c["M"]["first_slot_probability"]["N"]) for c in stored["candidates"]["L"]]
    assert min(probabilities) >= 0.05 / 3 - 1e-12
    assert sum(probabilities) == pytest.approx(1.0)


def test_a_client_minted_decision_id_makes_routing_retry_safe(api: Api) -> None:
    from ulid import ULID

    decision_id = f"dec_{ULID.from_datetime(utcnow())}"
    first = _route(api, decision_id=decision_id)
    again = _route(api, decision_id=decision_id)
    assert first == again
    assert first["decision_id"] == decision_id
    assert boto3.client("dynamodb").scan(TableName="RoutingDecisionsTable")["Count"] == 1
    body = {"workspace_id": WORKSPACE, "recommendation_type": "strategy", "candidates": CANDIDATES[:2]}
    status, error = api.call("POST", SELECT, body={**body, "decision_id": decision_id})
    assert (status, error["details"][0]["field"]) == (409, "decision_id"), error
    stale = f"dec_{ULID.from_datetime(utcnow() - timedelta(days=3))}"
    status, error = api.call("POST", SELECT, body={**body, "decision_id": stale})
    assert (status, error["details"][0]["field"]) == (422, "decision_id"), error
    assert boto3.client("dynamodb").scan(TableName="RoutingDecisionsTable")["Count"] == 1
