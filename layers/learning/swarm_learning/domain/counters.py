"""Sufficient statistics: the counters each tracked or evaluated recommendation adds.

Pure functions. Trust, calibration and agent statistics are all derived from sums of these
counters over day buckets, so concurrent writers only ever ``ADD`` and never lose an update.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from swarm_learning.vocabulary import ExecutionStatus, Outcome

CALIBRATION_BINS = 10

# What an outcome counts as, on the 0..1 scale of a confidence score.
SUCCESS_VALUE: dict[Outcome, float] = {
    Outcome.APPROVED: 1.0,
    Outcome.PARTIAL: 0.5,
    Outcome.REJECTED: 0.0,
}


def derive_outcome(overall_quality_score: float, *, approved_min: float, partial_min: float) -> Outcome:
    """The outcome implied by a quality score when the evaluator does not state one."""
    if overall_quality_score >= approved_min:
        return Outcome.APPROVED
    if overall_quality_score >= partial_min:
        return Outcome.PARTIAL
    return Outcome.REJECTED


def calibration_bin(confidence: float) -> int:
    """Equal-width bin of a confidence in [0, 1]; 1.0 falls in the top bin."""
    return min(int(confidence * CALIBRATION_BINS), CALIBRATION_BINS - 1)


def tracking_counters(
    execution_status: ExecutionStatus,
    confidence: float | None,
    latency_ms: float | None,
    *,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
) -> dict[str, float]:
    counters: dict[str, float] = {"tracked": 1}
    if confidence is None:
        counters["tracked_without_confidence"] = 1
    else:
        counters["tracked_confidence_sum"] = confidence
    if execution_status is ExecutionStatus.FAILED:
        counters["failed_executions"] = 1
    elif execution_status is ExecutionStatus.TIMED_OUT:
        counters["timed_out_executions"] = 1
    if latency_ms is not None:
        counters["latency_count"] = 1
        counters["latency_ms_sum"] = latency_ms
        counters["latency_ms_sq_sum"] = latency_ms * latency_ms
    if input_tokens is not None or output_tokens is not None:
        # Token usage, so quality can be read per token (counted only where it was reported).
        counters["token_count"] = 1
        counters["input_tokens_sum"] = input_tokens or 0
        counters["output_tokens_sum"] = output_tokens or 0
    return counters


def evaluation_counters(
    outcome: Outcome, confidence: float | None, quality: float, delay_seconds: float
) -> dict[str, float]:
    success = SUCCESS_VALUE[outcome]
    counters: dict[str, float] = {
        "evaluated": 1,
        outcome.value: 1,
        "success_sum": success,
        "quality_sum": quality,
        "quality_sq_sum": quality * quality,
        "evaluation_delay_seconds_sum": max(delay_seconds, 0.0),
    }
    if confidence is None:
        # No stated confidence: nothing to calibrate. Counted, so the confidence means and the
        # Brier score divide by the evaluations that had one (evaluated - this).
        counters["evaluated_without_confidence"] = 1
        return counters
    calibration = f"cal_{calibration_bin(confidence)}"
    return counters | {
        "confidence_sum": confidence,
        "confidence_sq_sum": confidence * confidence,
        "confidence_success_sum": confidence * success,
        "brier_sum": (confidence - success) ** 2,
        f"{calibration}_n": 1,
        f"{calibration}_confidence_sum": confidence,
        f"{calibration}_success_sum": success,
    }


def calibrated(counters: Mapping[str, float]) -> float:
    """Evaluations whose recommendation stated a confidence (the denominator of confidence means)."""
    return counters.get("evaluated", 0.0) - counters.get("evaluated_without_confidence", 0.0)


def add_counters(buckets: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Sum counter dictionaries (the aggregation of day buckets)."""
    totals: dict[str, float] = {}
    for bucket in buckets:
        for name, value in bucket.items():
            totals[name] = totals.get(name, 0.0) + value
    return totals
