"""Features and pattern mining: planted patterns are found, noise is not (pure, seeded)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from swarm_learning.domain import evaluated as ev
from swarm_learning.domain import features as ft
from swarm_learning.domain import pattern_validation as pv
from swarm_learning.domain import patterns as pt
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
    train, test = pv.time_split(rows)
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
    validation = pv.validate(found, test)
    assert validation.model_accuracy is not None
    # About 30 % of the rows are coin flips (p = 0.5) nothing can call: the oracle scores ~0.80.
    assert validation.model_accuracy > 0.75
    assert validation.coverage > 0.9


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


def _small_swarm(seed: int, n: int = 250) -> ft.FeatureTable:
    """Workflows of three agents over a task with a right action, as real swarms are: an agent
    finds it 70 % of the time, otherwise proposes one of three wrong ones."""
    rng = random.Random(seed)
    rows: list[ev.EvaluatedRow] = []
    task = 0
    while len(rows) < n:
        task += 1
        for agent in rng.sample("ABCDEF", 3):
            right = rng.random() < 0.7
            action = f"right{task}" if right else f"wrong{task}-{rng.randrange(3)}"
            rows.append(row(len(rows), agent, right, workflow=f"t{task}", content={"action": action}))
    return ft.build(rows[:n])


def test_at_a_few_hundred_rows_agreement_and_dissent_are_found() -> None:
    for seed in range(5):
        found = {p.condition: p for p in pt.mine(_small_swarm(seed))}
        assert found[("dissent=yes",)].category is pt.PatternCategory.FAILURE_AVOIDANCE
        assert any(
            p.category is pt.PatternCategory.CONSENSUS and p.success_rate > 0.85 for p in found.values()
        )
        for pattern in found.values():  # the learner is sure, beyond the seed's 0.7
            assert pattern.confidence_level >= 0.7


def test_noise_at_a_few_hundred_rows_yields_nothing_across_seeds() -> None:
    reported = 0
    for seed in range(40):
        rng = random.Random(seed)
        rows = [
            row(
                i,
                rng.choice("ABCDEFGH"),
                rng.random() < 0.6,
                workflow=f"w{i // 2}",
                confidence=rng.random(),
                rtype=rng.choice(["strategy", "content", "research"]),
            )
            for i in range(250)
        ]
        reported += len(pt.mine(ft.build(rows)))
    assert reported <= 2  # the false-discovery rate is 5 % of cycles at most, in expectation


def test_validation_never_sees_the_rows_it_judges() -> None:
    # A's advice is always right in the first half of time and always wrong in the second: patterns
    # mined on the past predict the future wrong, and an honest out-of-sample accuracy says so.
    rows = [row(i, "A" if i % 2 else "B", (i % 2 == 1) == (i < 300), workflow=f"w{i}") for i in range(600)]
    validation = pv.rolling_validation(ft.build(rows))
    assert validation.evaluated == 300  # the later half, fold by fold
    assert validation.matched > 0
    assert validation.model_accuracy is not None
    assert validation.model_accuracy < 0.5


def test_a_pattern_whose_call_is_a_coin_flip_does_not_judge() -> None:
    mild = pt.Pattern(
        ("consensus=1",), pt.PatternCategory.FAILURE_AVOIDANCE, 0.52, 400, 0.99, 0.8, pt.Strength.WEAK
    )
    sharp = pt.Pattern(
        ("confidence=low",), pt.PatternCategory.FAILURE_AVOIDANCE, 0.1, 60, 0.99, 0.2, pt.Strength.STRONG
    )
    sure = pt.Pattern(
        ("consensus=3+",), pt.PatternCategory.CONSENSUS, 0.95, 40, 0.99, 1.4, pt.Strength.STRONG
    )
    assert pv.prediction_order([mild, sharp, sure]) == [sure, sharp]


@given(
    p_values=st.lists(st.floats(min_value=0.0, max_value=1.0, allow_nan=False), min_size=1, max_size=40),
    level=st.floats(min_value=0.001, max_value=0.5),
)
def test_q_values_reject_exactly_what_benjamini_hochberg_rejects(p_values: list[float], level: float) -> None:
    q = pt.benjamini_hochberg_q(p_values)
    rejected = pt.benjamini_hochberg(p_values, level)
    # Equal up to rounding at the boundary (q is a product, the procedure a comparison).
    decided = np.abs(q - level) > 1e-12
    assert ((q <= level) == rejected)[decided].all()
    assert ((q >= np.asarray(p_values)) | np.isclose(q, p_values)).all()


def test_mined_patterns_carry_q_values_that_separate_them() -> None:
    found = pt.mine(planted_table(seed=3))
    assert found
    q = [p.q_value for p in found]
    assert all(v is not None and 0 <= v <= 0.05 for v in q)
    # Confidence is ~1 for every discovery; the q-values spread over orders of magnitude.
    assert len({round(p.confidence_level, 2) for p in found}) <= 3
    assert max(q) / max(min(q), 1e-300) > 1e3


def test_lift_interval_contains_the_lift() -> None:
    lower, upper = pt.lift_interval(0.8, 50, 1.6)
    assert lower < 1.6 < upper
    assert pt.lift_interval(0.8, 5000, 1.6)[0] > lower  # more rows, a tighter interval
