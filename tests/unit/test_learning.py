"""Profiles, decision rules and the learning cycle on a planted swarm (pure, seeded)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from swarm_learning.domain import cycle as learning
from swarm_learning.domain import features as ft
from swarm_learning.domain import off_policy
from swarm_learning.vocabulary import PatternCategory
from tests.helpers.mining import planted_table, row

STARTED = datetime(2026, 11, 24, 2, tzinfo=UTC)


def test_profiles_find_the_planted_expert_type() -> None:
    rows = planted_table(seed=3)
    by_agent = {p.agent_id: p for p in learning.profiles(rows)}
    assert [s.recommendation_type for s in by_agent["A"].strengths] == ["content"]
    assert by_agent["G"].consensus_builder
    assert not by_agent["B"].strengths


def test_rules_are_machine_readable_and_suggested_by_context() -> None:
    rows = planted_table(seed=3)
    result = learning.run_cycle("ws", rows, iteration_id="iter_ws_1", started_at=STARTED)
    actions = {(r.action, str(r.parameters)) for r in result.rules}
    assert ("require_consensus", "{'min_agents': 3}") in actions
    assert ("prefer_agents", "{'agents': ['A']}") in actions
    assert any(action == "minimum_confidence" for action, _ in actions)
    for rule in result.rules:
        assert 0 <= rule.expected_success <= 1
        assert rule.support > 0
    strategy = learning.suggest(result.rules, {"task_type": "strategy"})
    assert all(r.conditions.get("recommendation_type") in (None, "strategy") for r in strategy)
    # A is the expert of content only: nothing prefers it for strategy.
    assert not any(r.action == "prefer_agents" and r.parameters == {"agents": ["A"]} for r in strategy)


def test_cycle_result_carries_the_seed_fields_and_confirms_repeated_patterns() -> None:
    rows = planted_table(seed=3)
    first = learning.run_cycle("ws", rows, iteration_id="iter_ws_1", started_at=STARTED)
    assert first.samples_analyzed == len(rows)
    assert first.patterns_discovered == len(first.patterns) > 0
    assert first.patterns_confirmed == 0
    assert first.iteration_accuracy is not None
    # About 30 % of the rows are coin flips (p = 0.5) nothing can call: the oracle scores ~0.80.
    assert first.iteration_accuracy > 0.75
    assert 0 < first.coverage <= 1
    assert first.key_insights
    assert first.recommendations_for_swarm
    assert first.completed_at >= first.started_at
    assert any(p.category is PatternCategory.CONSENSUS for p in first.patterns)
    previous = learning.PreviousCycle(
        pattern_conditions=frozenset(p.condition for p in first.patterns),
        mean_pattern_confidence=0.5,
        model_accuracy=0.5,
    )
    second = learning.run_cycle("ws", rows, iteration_id="iter_ws_2", started_at=STARTED, previous=previous)
    assert second.patterns_confirmed == second.patterns_discovered
    # The rules' effect is measured on routing outcomes; a cycle without decisions says why not.
    assert second.rule_effectiveness_improvement is None
    assert second.rule_effectiveness_reason == "no routing decisions were evaluated"


def _routed_log(n: int) -> off_policy.LoggedDecisions:
    """``n`` decisions between A (approved 90 %) and B (10 %), logged uniformly; a rule prefers A."""
    rng = np.random.default_rng(5)
    chosen = rng.integers(2, size=n)
    rewards = (rng.random(n) < np.where(chosen == 0, 0.9, 0.1)).astype(float)
    half = np.full((n, 2), 0.5)
    mask = np.ones((n, 2), dtype=bool)
    return off_policy.LoggedDecisions(
        agents=[["A", "B"]] * n,
        logged=half,
        chosen=chosen,
        rewards=rewards,
        reward_model=half,
        lower_bound=np.zeros((n, 2)),
        thompson_all=half,
        thompson_offered=half,
        offered=mask,
        preferred=np.zeros(n, dtype=np.int64),
        mask=mask,
    )


def test_the_cycle_reports_the_rules_effect_and_routing_lift_from_the_logged_decisions() -> None:
    rows = planted_table(seed=3)
    effect = off_policy.routing_effect(_routed_log(400), min_decisions=100)
    result = learning.run_cycle("ws", rows, iteration_id="iter_ws_1", started_at=STARTED, routing=effect)
    # With the rule, A always (0.9); without it, half the time (0.5).
    assert result.rule_effectiveness_improvement == pytest.approx(0.4, abs=0.06)
    assert result.rule_effectiveness_reason is None
    lift = result.routing_lift
    assert lift is not None
    assert lift["decisions"] == 400
    assert lift["vs_best_agent"]["agent_id"] == "A"
    assert lift["vs_best_agent"]["upper"] < 0  # the uniform logger did worse than always asking A
    # The logger was uniform: against uniform it is the same policy, decision by decision.
    assert (lift["vs_uniform"]["value"], lift["vs_uniform"]["lower"], lift["vs_uniform"]["upper"]) == (
        0,
        0,
        0,
    )
    assert any(
        i.startswith("The learned rules raised routing's approval by 36 points (95 % CI 32\u201341)")
        for i in result.key_insights
    ), result.key_insights
    assert any(
        i.startswith("Routing approved") and "fewer than always asking A" in i for i in result.key_insights
    )
    assert not any(i.startswith("Routing with the learned rules") for i in result.key_insights)

    thin = off_policy.routing_effect(_routed_log(50), min_decisions=100)
    result = learning.run_cycle("ws", rows, iteration_id="iter_ws_2", started_at=STARTED, routing=thin)
    assert result.rule_effectiveness_improvement is None
    assert result.rule_effectiveness_reason == (
        "50 routing decisions with outcomes in the window; at least 100 are needed"
    )
    assert result.routing_lift == {
        "decisions": 50,
        "vs_uniform": None,
        "vs_best_agent": None,
        "reason": result.rule_effectiveness_reason,
    }


def test_rules_keep_the_patterns_other_items_as_conditions() -> None:
    from swarm_learning.domain.patterns import Pattern
    from swarm_learning.vocabulary import Strength

    # X fails at low confidence (1 of 10 approved); other agents at low confidence: 6 of 10.
    rows = [row(i, "X", i == 0, confidence=0.1) for i in range(10)]
    rows += [row(10 + i, "Y", i < 6, confidence=0.1) for i in range(10)]
    rows += [row(20 + i, "X", True, confidence=0.9) for i in range(10)]
    table = ft.build(rows)
    failing = Pattern(
        ("agent=X", "confidence=low"), PatternCategory.FAILURE_AVOIDANCE, 0.1, 10, 0.8, 0.2, Strength.STRONG
    )
    (rule,) = learning.rules([failing], table)
    assert (rule.action, rule.parameters, rule.conditions) == (
        "avoid_agents",
        {"agents": ["X"]},
        {"confidence_band": "low"},
    )
    # What avoiding X at low confidence keeps: the other agents' low-confidence advice, 6 of 10
    # approved; not X's failure rate (0.9).
    assert (rule.expected_success, rule.expected_success_basis) == (pytest.approx(0.6), "kept")
    assert learning.suggest([rule], {"confidence_band": "low"}) == [rule]
    assert learning.suggest([rule], {"confidence_band": "high"}) == []


def test_a_favouring_rule_expects_the_success_of_what_it_favours() -> None:
    from swarm_learning.domain.patterns import Pattern
    from swarm_learning.vocabulary import Strength

    table = ft.build(
        [row(i, "X", i % 4 != 0) for i in range(20)] + [row(20 + i, "Y", i % 2 == 0) for i in range(20)]
    )
    preferred = Pattern(("agent=X",), PatternCategory.EXPERT_OPINION, 0.75, 20, 0.9, 1.2, Strength.STRONG)
    (rule,) = learning.rules([preferred], table)
    assert (rule.action, rule.expected_success, rule.expected_success_basis) == (
        "prefer_agents",
        0.75,
        "matched",
    )


def test_an_avoid_rule_with_nothing_left_to_keep_is_not_made() -> None:
    from swarm_learning.domain.patterns import Pattern
    from swarm_learning.vocabulary import Strength

    table = ft.build([row(i, "X", i == 0) for i in range(20)])  # X is the only agent
    failing = Pattern(("agent=X",), PatternCategory.FAILURE_AVOIDANCE, 0.05, 20, 0.9, 0.5, Strength.STRONG)
    assert learning.rules([failing], table) == []


def test_profile_approval_rate_counts_partial_as_half_and_strict_counts_approved_only() -> None:
    rows = [row(i, "X", i < 4) for i in range(10)]
    # 4 approved, 2 partial, 4 rejected
    rows = [r._replace(partial=4 <= i < 6) for i, r in enumerate(rows)]
    (profile,) = learning.profiles(ft.build(rows))
    assert profile.approval_rate == pytest.approx((4 + 2 / 2) / 10)
    assert profile.strict_approval_rate == pytest.approx(4 / 10)
    assert profile.calibration_gap == pytest.approx(0.6 - 0.5, abs=1e-6)


def test_routing_acts_only_on_rules_that_hold_for_the_whole_type() -> None:
    from swarm_learning.domain.routing import apply_rules
    from swarm_learning.domain.rules import unconditional_for_type

    assert unconditional_for_type({}, "strategy")
    assert unconditional_for_type({"recommendation_type": "strategy"}, "strategy")
    assert not unconditional_for_type({"recommendation_type": "content"}, "strategy")
    assert not unconditional_for_type({"confidence_band": "low"}, "strategy")
    avoid = {"rule_id": "avoid", "action": "avoid_agents", "parameters": {"agents": ["B"]}}
    consensus = {"rule_id": "consensus", "action": "require_consensus", "parameters": {"min_agents": 3}}
    plan = apply_rules(["A", "B", "C", "D"], 1, [avoid, consensus])
    assert (plan.candidates, plan.k, plan.applied_rules) == (["A", "C", "D"], 3, ["avoid", "consensus"])
    # never below k candidates, never above the candidates there are
    plan = apply_rules(["A", "B"], 2, [avoid, consensus])
    assert (plan.candidates, plan.k, plan.applied_rules) == (["A", "B"], 2, [])
