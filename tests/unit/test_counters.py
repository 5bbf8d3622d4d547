"""The sufficient statistics and the figures derived from them (pure maths, no AWS)."""

from __future__ import annotations

import statistics as stdlib_statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm_learning.domain.counters import (
    CALIBRATION_BINS,
    SUCCESS_VALUE,
    add_counters,
    calibration_bin,
    derive_outcome,
    evaluation_counters,
    tracking_counters,
)
from swarm_learning.domain.statistics import summarize
from swarm_learning.vocabulary import ExecutionStatus, Outcome

settings.register_profile("ci", derandomize=True, max_examples=150, deadline=None)
settings.load_profile("ci")

confidences = st.floats(min_value=0, max_value=1, allow_nan=False)
qualities = st.floats(min_value=0, max_value=100, allow_nan=False)
outcomes = st.sampled_from(list(Outcome))
evaluations = st.lists(st.tuples(outcomes, confidences, qualities), min_size=0, max_size=40)


def _counters(evals: list[tuple[Outcome, float, float]]) -> dict[str, float]:
    return add_counters(
        [tracking_counters(ExecutionStatus.COMPLETED, c, None) for _, c, _ in evals]
        + [evaluation_counters(o, c, q, 1.0) for o, c, q in evals]
    )


@given(qualities, qualities)
def test_derived_outcome_is_monotonic_in_quality(a: float, b: float) -> None:
    rank = {Outcome.REJECTED: 0, Outcome.PARTIAL: 1, Outcome.APPROVED: 2}
    low, high = sorted((a, b))
    assert (
        rank[derive_outcome(low, approved_min=70, partial_min=40)]
        <= rank[derive_outcome(high, approved_min=70, partial_min=40)]
    )


@given(confidences)
def test_calibration_bin_is_in_range_and_contains_the_confidence(c: float) -> None:
    b = calibration_bin(c)
    assert 0 <= b < CALIBRATION_BINS
    assert b / CALIBRATION_BINS <= c <= (b + 1) / CALIBRATION_BINS


@given(evaluations)
def test_figures_stay_in_range(evals) -> None:
    summary = summarize(_counters(evals))
    if not evals:
        assert summary.approval_rate is None
        assert summary.brier_score is None
        return
    assert 0 <= summary.approval_rate <= 1
    assert 0 <= summary.strict_approval_rate <= summary.approval_rate + 1e-12
    assert 0 <= summary.brier_score <= 1
    assert 0 <= summary.avg_quality_score <= 100 + 1e-9
    assert summary.counts.evaluated == len(evals)
    assert summary.counts.approved + summary.counts.partial + summary.counts.rejected == len(evals)


@given(evaluations, evaluations)
def test_buckets_add_up_whatever_the_split(first, second) -> None:
    """Summing two days' buckets gives the figures of all the evidence at once."""
    split = summarize(add_counters([_counters(first), _counters(second)]))
    together = summarize(_counters(first + second))
    assert split.counts == together.counts
    for field in ("approval_rate", "avg_quality_score", "brier_score", "avg_confidence"):
        a, b = getattr(split, field), getattr(together, field)
        assert (a is None and b is None) or a == pytest.approx(b)


@given(st.lists(st.tuples(outcomes, confidences, qualities), min_size=2, max_size=40))
def test_quality_stddev_matches_the_sample_standard_deviation(evals) -> None:
    summary = summarize(_counters(evals))
    expected = stdlib_statistics.stdev([q for _, _, q in evals])
    assert summary.quality_stddev == pytest.approx(expected, abs=1e-6)


@given(evaluations)
def test_brier_is_the_mean_squared_gap_between_confidence_and_success(evals) -> None:
    summary = summarize(_counters(evals))
    if evals:
        expected = sum((c - SUCCESS_VALUE[o]) ** 2 for o, c, _ in evals) / len(evals)
        assert summary.brier_score == pytest.approx(expected)


def test_calibration_bins_count_confidence_and_success() -> None:
    totals = add_counters(
        [
            evaluation_counters(Outcome.APPROVED, 0.85, 90, 0),
            evaluation_counters(Outcome.REJECTED, 0.82, 10, 0),
            evaluation_counters(Outcome.PARTIAL, 0.15, 50, 0),
        ]
    )
    assert totals["cal_8_n"] == 2
    assert totals["cal_8_confidence_sum"] == pytest.approx(1.67)
    assert totals["cal_8_success_sum"] == 1
    assert totals["cal_1_success_sum"] == 0.5


def test_execution_failures_and_latency_are_counted() -> None:
    assert tracking_counters(ExecutionStatus.FAILED, 0.5, None)["failed_executions"] == 1
    timed_out = tracking_counters(ExecutionStatus.TIMED_OUT, 0.5, 200.0)
    assert timed_out["timed_out_executions"] == 1
    assert (timed_out["latency_count"], timed_out["latency_ms_sum"], timed_out["latency_ms_sq_sum"]) == (
        1,
        200.0,
        40_000.0,
    )


def test_numbers_too_small_for_dynamodb_are_stored_as_zero() -> None:
    from swarm_learning.dal.items import deserialize, serialize

    item = serialize({"tiny": 5e-324, "negative_tiny": -1e-200, "small": 1e-100, "plain": 0.25})
    assert deserialize(item) == {"tiny": 0, "negative_tiny": 0, "small": 1e-100, "plain": 0.25}


@given(st.lists(st.tuples(outcomes, st.one_of(st.none(), confidences), qualities), min_size=1, max_size=40))
def test_recommendations_without_a_confidence_are_left_out_of_calibration(
    evals: list[tuple[Outcome, float | None, float]],
) -> None:
    """Confidence means and the Brier score are over the evaluations that stated a confidence;
    approval and quality over all of them; the calibration bins hold only the stated ones."""
    summary = summarize(add_counters(evaluation_counters(o, c, q, 0.0) for o, c, q in evals))
    stated = [(o, c) for o, c, _ in evals if c is not None]
    assert summary.counts.evaluated == len(evals)
    if stated:
        assert summary.avg_confidence == pytest.approx(stdlib_statistics.fmean(c for _, c in stated))
        brier = stdlib_statistics.fmean((c - SUCCESS_VALUE[o]) ** 2 for o, c in stated)
        assert summary.brier_score == pytest.approx(brier)
    else:
        assert summary.avg_confidence is None
        assert summary.brier_score is None
    totals = add_counters(evaluation_counters(o, c, q, 0.0) for o, c, q in evals)
    assert sum(totals.get(f"cal_{i}_n", 0) for i in range(CALIBRATION_BINS)) == len(stated)


def test_token_usage_is_counted_where_reported() -> None:
    tracked = [
        tracking_counters(ExecutionStatus.COMPLETED, None, None, input_tokens=100, output_tokens=20),
        tracking_counters(ExecutionStatus.COMPLETED, 0.5, None, input_tokens=50, output_tokens=None),
        tracking_counters(ExecutionStatus.COMPLETED, 0.5, None),
    ]
    summary = summarize(add_counters(tracked))
    assert (summary.input_tokens, summary.output_tokens) == (150, 20)
    assert summary.avg_tokens == 85  # (120 + 50) / the two that reported usage
