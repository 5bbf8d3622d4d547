"""Features and pattern mining: planted patterns are found, noise is not (pure, seeded)."""

from __future__ import annotations

import random

import pytest

from swarm_learning import evaluated as ev
from swarm_learning import features as ft
from swarm_learning import patterns as pt
from tests.helpers.mining import planted_table, row


def test_canonical_action_ignores_order_case_and_bookkeeping() -> None:
    a = {"Channels": ["LinkedIn", "email"], "budget": 1000.00001, "request_id": "x1"}
    b = {"channels": ["email", "linkedin"], "budget": 1000.0, "timestamp": "now"}
    assert ev.canonical_action(a) == ev.canonical_action(b)
    assert ev.canonical_action(a) != ev.canonical_action({"channels": ["email"]})


def test_consensus_counts_distinct_agents_with_the_same_action_in_a_workflow() -> None:
    same = {"action": "increase_budget"}
    rows = [
        row(0, "A", True, workflow="w1", content=same),
        row(1, "B", True, workflow="w1", content={"ACTION": "Increase_Budget "}),
        row(2, "A", True, workflow="w1", content=same),  # same agent again: still two agents
        row(3, "C", False, workflow="w1", content={"action": "pause"}),
        row(4, "D", True, workflow="w2", content=same),
    ]
    sizes = ft.build(rows).consensus.tolist()
    assert sizes == [2, 2, 2, 1, 1]


def test_expertise_is_judged_on_earlier_outcomes_only() -> None:
    rows = [row(i, "A", True) for i in range(7)]
    flags = ft.build(rows).expert.tolist()
    assert flags == [False] * 5 + [True, True]


def test_planted_patterns_are_found_and_validate_on_later_data() -> None:
    rows = planted_table(seed=11)
    train, test = pt.time_split(rows)
    found = pt.mine(train)
    conditions = {p.condition for p in found}
    assert ("consensus=3+",) in conditions
    assert ("agent=A", "type=content") in conditions
    assert any(
        p.category is pt.PatternCategory.FAILURE_AVOIDANCE and "confidence=low" in p.condition for p in found
    )
    for pattern in found:
        assert 0 <= pattern.confidence_level <= 1
        assert pattern.frequency_count >= pt.MiningConfig().min_support
    validation = pt.validate(found, test)
    assert validation.model_accuracy is not None
    assert validation.model_accuracy > 0.8


def test_noise_yields_no_patterns() -> None:
    rng = random.Random(5)
    rows = [
        row(
            i,
            rng.choice("ABCDEFGH"),
            rng.random() < 0.5,
            workflow=f"w{i}",
            confidence=rng.random(),
            rtype=rng.choice(["strategy", "content", "research"]),
        )
        for i in range(4000)
    ]
    assert pt.mine(ft.build(rows)) == []


@pytest.mark.parametrize(("successes", "n"), [(0, 10), (5, 10), (10, 10), (37, 120)])
def test_wilson_bounds_bracket_the_rate(successes: int, n: int) -> None:
    lower, upper = pt.wilson_bounds(successes, n, 1.96)
    assert 0 <= lower <= successes / n <= upper <= 1
