"""Laws of the trust model and the routing policy (pure maths, no AWS)."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from swarm_learning import routing, trust
from swarm_learning.counters import add_counters, evaluation_counters, tracking_counters
from swarm_learning.models import ExecutionStatus, Outcome

TODAY = date(2026, 11, 24)
outcomes = st.sampled_from(list(Outcome))
confidences = st.floats(min_value=0, max_value=1, allow_nan=False)
qualities = st.floats(min_value=0, max_value=100, allow_nan=False)
day_evidence = st.lists(
    st.tuples(st.integers(min_value=0, max_value=120), outcomes, confidences, qualities),
    max_size=60,
)


def _days(evidence) -> list[trust.DayCounters]:
    by_day: dict[int, list[dict[str, float]]] = {}
    for age, outcome, confidence, quality in evidence:
        by_day.setdefault(age, []).extend(
            [
                tracking_counters(ExecutionStatus.COMPLETED, confidence, 1000.0),
                evaluation_counters(outcome, confidence, quality, 60.0),
            ]
        )
    return [trust.DayCounters(TODAY - timedelta(days=age), add_counters(c)) for age, c in by_day.items()]


def _uniform(n: int, outcome: Outcome, age: int = 0) -> list[trust.DayCounters]:
    return _days([(age, outcome, 0.7, 80.0 if outcome is Outcome.APPROVED else 20.0)] * n)


def test_no_evidence_gives_the_prior_and_a_neutral_boost() -> None:
    config = trust.TrustConfig(prior_alpha=2, prior_beta=3)
    score = trust.score([], TODAY, config)
    assert score.accuracy_score == pytest.approx(2 / 5)
    assert score.confidence_factor == 0
    assert score.overall_trust_score == 0
    assert score.provisional
    assert score.trend is trust.Trend.STABLE
    assert trust.decision_boost(score, config) == 1.0


@given(day_evidence)
def test_scores_stay_in_range(evidence) -> None:
    score = trust.score(_days(evidence), TODAY)
    for value in (
        score.accuracy_score,
        score.accuracy_lower_bound,
        score.accuracy_upper_bound,
        score.consistency_score,
        score.timeliness_score,
        score.reliability_score,
        score.confidence_factor,
        score.overall_trust_score,
        score.overall_trust_lower_bound,
    ):
        assert 0 <= value <= 1
    assert score.accuracy_lower_bound <= score.accuracy_score <= score.accuracy_upper_bound
    assert score.overall_trust_lower_bound <= score.overall_trust_score + 1e-12
    assert 0.5 <= trust.decision_boost(score) <= 1.5


@given(day_evidence, st.integers(min_value=0, max_value=120), confidences)
def test_one_more_approval_never_lowers_accuracy(evidence, age, confidence) -> None:
    before = trust.score(_days(evidence), TODAY)
    after = trust.score(_days([*evidence, (age, Outcome.APPROVED, confidence, 90.0)]), TODAY)
    assert after.accuracy_score >= before.accuracy_score - 1e-12
    assert after.accuracy_lower_bound >= before.accuracy_lower_bound - 1e-9


@given(day_evidence, st.integers(min_value=0, max_value=120), confidences)
def test_one_more_rejection_never_raises_accuracy(evidence, age, confidence) -> None:
    before = trust.score(_days(evidence), TODAY)
    after = trust.score(_days([*evidence, (age, Outcome.REJECTED, confidence, 10.0)]), TODAY)
    assert after.accuracy_score <= before.accuracy_score + 1e-12


@given(st.integers(min_value=1, max_value=50), st.integers(min_value=0, max_value=200))
def test_old_evidence_decays_toward_the_prior_not_zero(n: int, age: int) -> None:
    fresh = trust.score(_uniform(n, Outcome.APPROVED), TODAY)
    aged = trust.score(_uniform(n, Outcome.APPROVED, age=age), TODAY)
    assert 0.5 <= aged.accuracy_score <= fresh.accuracy_score + 1e-12
    failing = trust.score(_uniform(n, Outcome.REJECTED, age=age), TODAY)
    assert failing.accuracy_score <= 0.5


def test_confidence_factor_grows_with_evidence() -> None:
    factors = [trust.score(_uniform(n, Outcome.APPROVED), TODAY).confidence_factor for n in (1, 5, 20, 100)]
    assert factors == sorted(factors)
    assert factors[-1] > 0.9


@given(
    st.floats(min_value=0.5, max_value=200),
    st.floats(min_value=0.5, max_value=200),
    st.floats(min_value=0.001, max_value=0.999),
)
def test_beta_quantile_inverts_the_cdf(a: float, b: float, q: float) -> None:
    x = trust.beta_quantile(q, a, b)
    assert trust.beta_cdf(x, a, b) == pytest.approx(q, abs=1e-6)


def test_beta_quantiles_match_known_values() -> None:
    assert trust.beta_quantile(0.05, 1, 1) == pytest.approx(0.05)
    assert trust.beta_quantile(0.5, 2, 5) == pytest.approx(0.26445, abs=1e-5)


def test_trend_needs_a_significant_difference() -> None:
    steady = _days(
        [(age, Outcome.APPROVED if age % 3 else Outcome.REJECTED, 0.7, 70.0) for age in range(28)] * 3
    )
    assert trust.score(steady, TODAY).trend is trust.Trend.STABLE
    drop = _days(
        [(age, Outcome.APPROVED, 0.8, 90.0) for age in range(7, 28)] * 3
        + [(age, Outcome.REJECTED, 0.8, 10.0) for age in range(7)] * 3
    )
    assert trust.score(drop, TODAY).trend is trust.Trend.DECLINING
    rise = _days(
        [(age, Outcome.REJECTED, 0.8, 10.0) for age in range(7, 28)] * 3
        + [(age, Outcome.APPROVED, 0.8, 90.0) for age in range(7)] * 3
    )
    assert trust.score(rise, TODAY).trend is trust.Trend.IMPROVING


def test_miscalibration_lowers_consistency() -> None:
    honest = _days([(0, Outcome.APPROVED, 0.75, 80.0)] * 30 + [(0, Outcome.REJECTED, 0.75, 20.0)] * 10)
    boastful = _days([(0, Outcome.APPROVED, 0.99, 80.0)] * 10 + [(0, Outcome.REJECTED, 0.99, 20.0)] * 30)
    assert trust.score(honest, TODAY).calibration_score > trust.score(boastful, TODAY).calibration_score


def test_failures_lower_reliability_and_slowness_lowers_timeliness() -> None:
    ok = [
        trust.DayCounters(
            TODAY, add_counters([tracking_counters(ExecutionStatus.COMPLETED, 0.5, 1000.0)] * 20)
        )
    ]
    bad = [
        trust.DayCounters(
            TODAY, add_counters([tracking_counters(ExecutionStatus.FAILED, 0.5, 120_000.0)] * 20)
        )
    ]
    assert trust.score(ok, TODAY).reliability_score > trust.score(bad, TODAY).reliability_score
    assert trust.score(ok, TODAY).timeliness_score > trust.score(bad, TODAY).timeliness_score


def test_adjustments_are_applied_on_top_and_clipped() -> None:
    days = _uniform(40, Outcome.APPROVED)
    base = trust.score(days, TODAY)
    nudged = trust.score(days, TODAY, accuracy_adjustment=-0.1, consistency_adjustment=0.9)
    assert nudged.accuracy_score == pytest.approx(base.accuracy_score - 0.1)
    assert nudged.consistency_score == 1.0
    assert nudged.evidence == base.evidence


# ---- routing ------------------------------------------------------------------------------------
candidates_strategy = st.lists(
    st.tuples(st.floats(min_value=1, max_value=100), st.floats(min_value=1, max_value=100)),
    min_size=1,
    max_size=8,
)


@given(candidates_strategy, st.integers(min_value=0, max_value=2**32 - 1), st.data())
def test_routing_choices_are_distinct_candidates_with_probabilities(params, seed, data) -> None:
    candidates = [routing.Candidate(f"A{i}", a, b, 0.0) for i, (a, b) in enumerate(params)]
    k = data.draw(st.integers(min_value=1, max_value=len(candidates)))
    chosen = routing.select(candidates, k, random.Random(seed), propensity_draws=200)
    assert len({c.agent_id for c in chosen}) == k
    assert all(0 <= c.probability <= 1 for c in chosen)
    assert [c.rank for c in chosen] == list(range(1, k + 1))


def test_thompson_prefers_the_clearly_better_agent_but_still_explores_the_unknown() -> None:
    rng = random.Random(7)
    good = routing.Candidate("good", 90, 10, 0.85)
    bad = routing.Candidate("bad", 10, 90, 0.05)
    new = routing.Candidate("new", 1, 1, 0.05)
    picks = [routing.select([good, bad, new], 1, rng, propensity_draws=1)[0].agent_id for _ in range(2000)]
    assert picks.count("good") > 1500
    assert picks.count("bad") == 0
    assert picks.count("new") > 50


def test_propensities_of_all_candidates_sum_to_k() -> None:
    candidates = [routing.Candidate(f"A{i}", 1 + i, 5 - i, 0.0) for i in range(5)]
    chosen = routing.select(candidates, 5, random.Random(1))
    assert sum(c.probability for c in chosen) == pytest.approx(5)


def test_exploit_picks_the_best_lower_bounds() -> None:
    candidates = [
        routing.Candidate("wide", 2, 1, 0.2),
        routing.Candidate("solid", 80, 20, 0.72),
        routing.Candidate("ok", 60, 40, 0.52),
    ]
    chosen = routing.select(candidates, 2, random.Random(0), mode=routing.RoutingMode.EXPLOIT)
    assert [c.agent_id for c in chosen] == ["solid", "ok"]
    assert all(c.probability == 1.0 for c in chosen)


def test_k_outside_the_candidates_is_rejected() -> None:
    with pytest.raises(ValueError, match="k must be"):
        routing.select([routing.Candidate("a", 1, 1, 0)], 2, random.Random(0))


def test_approval_posterior_pools_the_agents_record_and_counts_partials_as_misses() -> None:
    nothing = trust.approval_posterior([], [], TODAY)
    assert nothing.alpha / (nothing.alpha + nothing.beta) == pytest.approx(0.5)
    strong_elsewhere = _uniform(40, Outcome.APPROVED)
    new_type = trust.approval_posterior([], strong_elsewhere, TODAY)
    assert new_type.alpha / (new_type.alpha + new_type.beta) > 0.7  # starts from its record
    assert new_type.alpha + new_type.beta == pytest.approx(2 + trust.TrustConfig().routing_pooling_strength)
    partials = trust.approval_posterior(_uniform(10, Outcome.PARTIAL), [], TODAY)
    assert partials.alpha / (partials.alpha + partials.beta) < 0.5
