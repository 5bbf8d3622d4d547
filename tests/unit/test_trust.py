"""Laws of the trust model and the routing policy (pure maths, no AWS)."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm_learning.domain import approval, beta, routing, trust, trust_values
from swarm_learning.domain.counters import add_counters, evaluation_counters, tracking_counters
from swarm_learning.vocabulary import ExecutionStatus, Outcome

TODAY = date(2026, 11, 24)
outcomes = st.sampled_from(list(Outcome))
confidences = st.floats(min_value=0, max_value=1, allow_nan=False)
qualities = st.floats(min_value=0, max_value=100, allow_nan=False)
day_evidence = st.lists(
    st.tuples(st.integers(min_value=0, max_value=120), outcomes, confidences, qualities),
    max_size=60,
)


def _days(evidence) -> list[trust_values.DayCounters]:
    by_day: dict[int, list[dict[str, float]]] = {}
    for age, outcome, confidence, quality in evidence:
        by_day.setdefault(age, []).extend(
            [
                tracking_counters(ExecutionStatus.COMPLETED, confidence, 1000.0),
                evaluation_counters(outcome, confidence, quality, 60.0),
            ]
        )
    return [
        trust_values.DayCounters(TODAY - timedelta(days=age), add_counters(c)) for age, c in by_day.items()
    ]


def _uniform(n: int, outcome: Outcome, age: int = 0) -> list[trust_values.DayCounters]:
    return _days([(age, outcome, 0.7, 80.0 if outcome is Outcome.APPROVED else 20.0)] * n)


def test_no_evidence_gives_the_prior_and_a_neutral_boost() -> None:
    config = trust_values.TrustConfig(prior_alpha=2, prior_beta=3)
    score = trust.score([], TODAY, config)
    assert score.accuracy_score == pytest.approx(2 / 5)
    assert score.confidence_factor == 0
    assert score.overall_trust_score == 0
    assert score.provisional
    assert score.trend is trust.Trend.STABLE
    assert approval.decision_boost(score, config) == 1.0


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
    assert 0.5 <= approval.decision_boost(score) <= 1.5


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
    x = beta.beta_quantile(q, a, b)
    assert beta.beta_cdf(x, a, b) == pytest.approx(q, abs=1e-6)


def test_beta_quantiles_match_known_values() -> None:
    assert beta.beta_quantile(0.05, 1, 1) == pytest.approx(0.05)
    assert beta.beta_quantile(0.5, 2, 5) == pytest.approx(0.26445, abs=1e-5)


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
        trust_values.DayCounters(
            TODAY, add_counters([tracking_counters(ExecutionStatus.COMPLETED, 0.5, 1000.0)] * 20)
        )
    ]
    bad = [
        trust_values.DayCounters(
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
    nothing = approval.approval_posterior([], [], TODAY)
    assert nothing.alpha / (nothing.alpha + nothing.beta) == pytest.approx(0.5)
    strong_elsewhere = _uniform(40, Outcome.APPROVED)
    new_type = approval.approval_posterior([], strong_elsewhere, TODAY)
    assert new_type.alpha / (new_type.alpha + new_type.beta) > 0.7  # starts from its record
    assert new_type.alpha + new_type.beta == pytest.approx(
        2 + trust_values.TrustConfig().routing_pooling_strength
    )
    partials = approval.approval_posterior(_uniform(10, Outcome.PARTIAL), [], TODAY)
    assert partials.alpha / (partials.alpha + partials.beta) < 0.5


# ---- against the workspace ----------------------------------------------------------------------
def _own_baseline(days: list[trust_values.DayCounters]) -> trust_values.Baseline:
    """The baseline of a workspace that does exactly what this agent does."""
    return trust_values.Baseline.of(
        trust.decayed_counters(days, TODAY, 30.0), add_counters(d.counters for d in days)
    )


@settings(deadline=None)  # scores take Beta quantiles: slow on a loaded machine, not wrong
@given(day_evidence)
def test_an_agent_like_its_workspace_scores_its_accuracy_on_every_dimension(evidence) -> None:
    # Nothing sets it apart from its peers, so no dimension pulls its overall toward a constant:
    # overall = confidence factor x accuracy, the spread of accuracy passes through undiminished.
    days = _days(evidence)
    score = trust.score(days, TODAY, baseline=_own_baseline(days))
    assert score.timeliness_factor == pytest.approx(1.0)
    assert score.reliability_factor == pytest.approx(1.0)
    assert score.consistency_factor == pytest.approx(1.0)
    for value in (score.consistency_score, score.timeliness_score, score.reliability_score):
        assert value == pytest.approx(score.accuracy_score)
    assert score.overall_trust_score == pytest.approx(score.confidence_factor * score.accuracy_score)


@settings(deadline=None)  # scores take Beta quantiles: slow on a loaded machine, not wrong
@given(day_evidence, st.floats(min_value=100, max_value=200_000), st.floats(min_value=0, max_value=1))
def test_dimensions_stay_in_range_against_any_workspace(evidence, latency, failure_rate) -> None:
    baseline = trust_values.Baseline(0.6, 0.1, latency, min(failure_rate, 0.99))
    score = trust.score(_days(evidence), TODAY, baseline=baseline)
    for value in (
        score.consistency_score,
        score.timeliness_score,
        score.reliability_score,
        score.overall_trust_score,
        score.overall_trust_lower_bound,
    ):
        assert 0 <= value <= 1
    assert score.timeliness_factor <= 1.0  # being faster than the workspace earns nothing
    assert score.overall_trust_lower_bound <= score.overall_trust_score + 1e-12


def test_slower_and_less_reliable_than_the_workspace_costs_timeliness_and_reliability() -> None:
    def agent(latency_ms: float, status: ExecutionStatus) -> list[trust_values.DayCounters]:
        counters = [tracking_counters(status, 0.7, latency_ms) for _ in range(40)]
        counters += [evaluation_counters(Outcome.APPROVED, 0.7, 85.0, 60.0) for _ in range(30)]
        counters += [evaluation_counters(Outcome.REJECTED, 0.7, 15.0, 60.0) for _ in range(10)]
        return [trust_values.DayCounters(TODAY, add_counters(counters))]

    workspace = trust_values.Baseline(
        approval_rate=0.75, expected_calibration_error=0.05, mean_latency_ms=2_000, failure_rate=0.02
    )
    par = trust.score(agent(2_000, ExecutionStatus.COMPLETED), TODAY, baseline=workspace)
    slow = trust.score(agent(16_000, ExecutionStatus.COMPLETED), TODAY, baseline=workspace)
    failing = trust.score(agent(2_000, ExecutionStatus.FAILED), TODAY, baseline=workspace)
    assert par.timeliness_factor == pytest.approx(1.0)
    assert slow.timeliness_score < par.timeliness_score
    assert failing.reliability_score < par.reliability_score < par.accuracy_score * 1.03
    assert slow.overall_trust_score < par.overall_trust_score
    assert failing.overall_trust_score < par.overall_trust_score


def test_type_mix_compares_an_agent_with_the_workspace_doing_the_same_work() -> None:
    fast = {"tracked": 10.0, "latency_count": 10.0, "latency_ms_sum": 10_000.0}
    slow = {"tracked": 20.0, "latency_count": 20.0, "latency_ms_sum": 200_000.0}
    mixed = trust_values.type_mix({"chat": 3.0, "research": 1.0}, {"chat": fast, "research": slow})
    assert mixed["tracked"] == pytest.approx(4.0)
    assert mixed["latency_ms_sum"] / mixed["latency_count"] == pytest.approx((3 * 1_000 + 10_000) / 4)


@given(
    st.floats(min_value=0, max_value=1),
    st.floats(min_value=0, max_value=1),
    st.floats(min_value=0, max_value=1),
    st.floats(min_value=0, max_value=1),
)
def test_an_agent_under_the_workspace_approval_rate_is_never_strong(
    score, approval, workspace, lower
) -> None:
    strength = trust.strength_of(
        score,
        trust_values.TrustConfig(),
        approval_rate=approval,
        workspace_approval_rate=workspace,
        accuracy_lower_bound=lower,
    )
    if approval < workspace:
        assert strength in {trust.Strength.WEAK, trust.Strength.MODERATE}
    if strength is trust.Strength.VERY_STRONG:
        assert lower >= workspace
        assert score >= 0.8


# ---- the trend over the order of outcomes -------------------------------------------------------
def _order(pattern: str) -> list[float]:
    """Approvals (A) and others (R) oldest first, returned newest first as the index reads them."""
    return [1.0 if letter == "A" else 0.0 for letter in pattern][::-1]


def test_a_lasting_drop_in_the_order_of_outcomes_is_declining() -> None:
    config = trust_values.TrustConfig()
    found = trust.outcome_trend(_order("AAAAR" * 10 + "ARRRR" * 10), config)
    assert found.trend is trust.Trend.DECLINING
    assert found.baseline_success_rate == pytest.approx(0.8, abs=0.05)
    assert found.recent_success_rate == pytest.approx(0.2, abs=0.05)
    assert found.baseline_outcomes + found.recent_outcomes == 100
    assert abs(found.baseline_outcomes - 50) <= 2
    assert trust.outcome_trend(_order("ARRRR" * 10 + "AAAAR" * 10), config).trend is trust.Trend.IMPROVING


def test_the_outcome_trend_needs_enough_outcomes_and_a_lasting_change() -> None:
    config = trust_values.TrustConfig()
    assert trust.outcome_trend(_order("A" * 20 + "R" * 15), config).trend is trust.Trend.STABLE  # too few
    assert trust.outcome_trend(_order("AAAR" * 25), config).trend is trust.Trend.STABLE
    # A fresh streak of 25 failures after 75 approvals is a change, but it is not confirmed without
    # the newest 30 outcomes yet.
    fresh = _order("A" * 75 + "R" * 25)
    assert trust._change_point(fresh, config).trend is trust.Trend.DECLINING
    assert trust.outcome_trend(fresh, config).trend is trust.Trend.STABLE


@settings(deadline=None)  # scores take Beta quantiles: slow on a loaded machine, not wrong
@given(st.lists(st.booleans(), max_size=150), st.lists(st.booleans(), max_size=150))
def test_the_outcome_trend_only_reads_its_window(recent, older) -> None:
    config = trust_values.TrustConfig(outcome_trend_window=60, outcome_trend_confirm_lag=10)
    values = [float(v) for v in recent + older]
    window = config.outcome_trend_window + config.outcome_trend_confirm_lag
    assert trust.outcome_trend(values, config) == trust.outcome_trend(values[:window], config)


def test_the_order_of_outcomes_speaks_only_where_the_day_windows_cannot_judge() -> None:
    pattern = "AAAAR" * 10 + "ARRRR" * 10
    letters = [Outcome.APPROVED if letter == "A" else Outcome.REJECTED for letter in pattern]
    # The same drop spread over weeks: the day windows judge it, the order is not consulted.
    spread = _days(
        [(6 + i % 20, outcome, 0.7, 70.0) for i, outcome in enumerate(letters[:50])]
        + [(i % 5, outcome, 0.7, 70.0) for i, outcome in enumerate(letters[50:])]
    )
    assert trust.day_windows_can_judge(spread, TODAY, trust_values.TrustConfig())
    read = trust.score(spread, TODAY, recent_outcomes=_order(pattern))
    assert read.trend is trust.Trend.DECLINING
    assert read.trend_basis == "days"
    assert read.trend_recent_outcomes is None
    assert not trust.day_windows_can_judge(_uniform(10, Outcome.APPROVED), TODAY, trust_values.TrustConfig())


def test_score_reports_a_drop_within_one_day_from_the_order_of_outcomes() -> None:
    pattern = "AAAAR" * 10 + "ARRRR" * 10
    days = _days(
        [(0, Outcome.APPROVED if letter == "A" else Outcome.REJECTED, 0.7, 70.0) for letter in pattern]
    )
    assert trust.score(days, TODAY).trend is trust.Trend.STABLE  # one day bucket: no day trend
    read = trust.score(days, TODAY, recent_outcomes=_order(pattern))
    assert read.trend is trust.Trend.DECLINING
    assert read.trend_basis == "outcomes"
    assert read.recent_success_rate < read.baseline_success_rate


# ---- the decision boost agrees with trust ---------------------------------------------------------
@settings(deadline=None)  # scores take Beta quantiles: slow on a loaded machine, not wrong
@given(
    st.integers(min_value=1, max_value=60),
    st.integers(min_value=0, max_value=60),
    st.integers(min_value=0, max_value=60),
)
def test_boost_follows_the_trust_order_for_the_same_evidence(n: int, a: int, b: int) -> None:
    a, b = min(a, n), min(b, n)
    workspace = trust_values.Baseline(approval_rate=0.6)

    def scored(approvals: int) -> trust_values.TrustScore:
        return trust.score(
            _days(
                [(0, Outcome.APPROVED, 0.7, 80.0)] * approvals
                + [(0, Outcome.REJECTED, 0.7, 20.0)] * (n - approvals)
            ),
            TODAY,
            baseline=workspace,
        )

    first, second = scored(a), scored(b)
    if first.overall_trust_score > second.overall_trust_score + 1e-12:
        assert approval.decision_boost(first) >= approval.decision_boost(second)
    par = first.confidence_factor * 0.6
    assert (approval.decision_boost(first) > 1.0) == (first.overall_trust_score > par + 1e-12) or abs(
        first.overall_trust_score - par
    ) < 1e-9
