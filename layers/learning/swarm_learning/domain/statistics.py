"""Agent and workspace statistics derived from summed counters (pure, no AWS)."""

from __future__ import annotations

import math
from collections.abc import Mapping

from swarm_learning.domain.counters import calibrated
from swarm_learning.models.reads import OutcomeCounts, PerformanceSummary
from swarm_learning.vocabulary import Trend


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def _stddev(total: float, sq_total: float, n: float) -> float | None:
    if n < 2:
        return None
    variance = (sq_total - total * total / n) / (n - 1)
    return math.sqrt(max(variance, 0.0))  # rounding can make a zero variance slightly negative


def summarize(counters: Mapping[str, float]) -> PerformanceSummary:
    def count(name: str) -> int:
        return round(counters.get(name, 0))

    tracked, evaluated = count("tracked"), count("evaluated")
    approved, partial = count("approved"), count("partial")
    return PerformanceSummary(
        counts=OutcomeCounts(
            tracked=tracked,
            # Within a window an evaluation can belong to a recommendation tracked before it.
            pending=max(tracked - evaluated, 0),
            evaluated=evaluated,
            approved=approved,
            rejected=count("rejected"),
            partial=partial,
            failed_executions=count("failed_executions"),
            timed_out_executions=count("timed_out_executions"),
        ),
        approval_rate=_ratio(approved + 0.5 * partial, evaluated),
        strict_approval_rate=_ratio(approved, evaluated),
        avg_quality_score=_ratio(counters.get("quality_sum", 0.0), evaluated),
        quality_stddev=_stddev(
            counters.get("quality_sum", 0.0), counters.get("quality_sq_sum", 0.0), evaluated
        ),
        avg_confidence=_ratio(counters.get("confidence_sum", 0.0), calibrated(counters)),
        brier_score=_ratio(counters.get("brier_sum", 0.0), calibrated(counters)),
        avg_latency_ms=_ratio(counters.get("latency_ms_sum", 0.0), counters.get("latency_count", 0)),
        avg_evaluation_delay_seconds=_ratio(counters.get("evaluation_delay_seconds_sum", 0.0), evaluated),
        input_tokens=count("input_tokens_sum"),
        output_tokens=count("output_tokens_sum"),
        avg_tokens=_ratio(
            counters.get("input_tokens_sum", 0.0) + counters.get("output_tokens_sum", 0.0),
            counters.get("token_count", 0.0),
        ),
    )


def halves_trend(
    evaluated: int, approval_rate: float, slope: float, *, min_difference: float, z_threshold: float
) -> Trend:
    """The word for ``slope``, the approval rate of an agent's later half of ``evaluated`` outcomes
    minus its earlier half's, by the test the trust trend uses: a pooled two-proportion z at least
    ``z_threshold`` and a change of at least ``min_difference``. (The later half has the odd one.)"""
    later, earlier = evaluated - evaluated // 2, evaluated // 2
    if not later or not earlier:
        return Trend.STABLE
    spread = math.sqrt(max(approval_rate * (1 - approval_rate), 1e-9) * (1 / later + 1 / earlier))
    if abs(slope) < min_difference or abs(slope / spread) < z_threshold:
        return Trend.STABLE
    return Trend.IMPROVING if slope > 0 else Trend.DECLINING
