"""The trust score's settings, inputs (day counters, the workspace baseline) and results (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from swarm_learning.domain.counters import CALIBRATION_BINS
from swarm_learning.vocabulary import Strength, Trend

NEUTRAL = 0.5
MAX_FACTOR = 2.0


@dataclass(frozen=True)
class TrustWeights:
    accuracy: float = 0.40
    consistency: float = 0.25
    timeliness: float = 0.15
    reliability: float = 0.20


@dataclass(frozen=True)
class TrustConfig:
    """Tunables with their documented defaults (docs/trust.md)."""

    prior_alpha: float = 1.0
    prior_beta: float = 1.0
    reliability_prior_alpha: float = 1.0
    reliability_prior_beta: float = 1.0
    half_life_days: float = 30.0
    weights: TrustWeights = field(default_factory=TrustWeights)
    confidence_k: float = 5.0  # evaluations at which the confidence factor reaches 0.5
    # Pseudo-observations pulling a thin agent's calibration error, latency and failure rate toward
    # the workspace's (stability and calibration toward 0.5), so thin evidence sits neutral.
    shrinkage_k: float = 10.0
    latency_target_ms: float = 30_000.0  # the latency reference when there is no workspace baseline
    # Timeliness factor (workspace latency / agent latency) ** elasticity, at most 1: twice as slow
    # as the workspace costs 16 % of the dimension, sixteen times as slow half of it.
    timeliness_elasticity: float = 0.25
    quality_stddev_scale: float = 50.0
    credible_level: float = 0.90  # two-sided; the lower bound is its lower end
    min_sample: int = 10  # fewer evaluations: the score is provisional
    trend_recent_days: int = 5
    trend_baseline_days: int = 21
    trend_min_difference: float = 0.05
    # Read every refresh, the trend is many tests: z >= 3 keeps false alarms of a stable agent to
    # ~3.5 % over 48 days while a drop from 0.8 to 0.4 is still flagged within ~40 outcomes
    # (bench/trust_quality/).
    trend_z: float = 3.0
    # The trend over the order of outcomes: the last ``outcome_trend_window`` evaluated outcomes,
    # split where the approval rate changed most (segments of at least ``outcome_trend_min_segment``),
    # confirmed without the newest ``outcome_trend_confirm_lag``. z >= 3.25 with the confirmation:
    # 1-1.5 % of stable agents flagged over 48 daily reads, the demo's degrading agent caught on
    # ~70 % of seeds (without confirmation z >= 4 was needed for the same false alarms, catching 40 %;
    # bench/trust_quality/).
    outcome_trend_window: int = 100
    outcome_trend_min_segment: int = 20
    outcome_trend_z: float = 3.25
    outcome_trend_min_difference: float = 0.2
    outcome_trend_confirm_lag: int = 30
    strength_thresholds: tuple[float, float, float] = (0.4, 0.6, 0.8)  # moderate, strong, very strong
    # Routing keeps a longer memory than the reported score: the bandit re-explores by itself when
    # posteriors widen, and forgetting fast costs reward on a steady swarm (bench/trust_quality/).
    routing_half_life_days: float = 90.0
    # Pseudo-observations of the agent's all-types approval rate in the prior of each of its types:
    # a new type starts from what the agent has shown elsewhere, not from nothing.
    routing_pooling_strength: float = 4.0


@dataclass(frozen=True)
class DayCounters:
    """One day's counters (a statistics bucket, as the trust maths sees it)."""

    day: date
    counters: Mapping[str, float]


@dataclass(frozen=True)
class Baseline:
    """What the workspace does on the same recommendation types: the reference the consistency,
    timeliness and reliability factors and the strength are judged against. ``None`` fields: no
    workspace evidence (then: perfect calibration, the latency target, no failures, no gate)."""

    approval_rate: float | None = None  # undecayed, as GET /stats reports it
    expected_calibration_error: float | None = None
    mean_latency_ms: float | None = None
    failure_rate: float | None = None  # failed + timed out, per tracked execution

    @staticmethod
    def for_mix(
        shares: Mapping[str, float],
        per_type_decayed: Mapping[str, Mapping[str, float]],
        total_raw: Mapping[str, float],
    ) -> Baseline:
        """The baseline of an agent's all-types scope: the workspace doing the agent's mix of types
        (``shares``: its tracked recommendations per type) for calibration, latency and failures,
        and the workspace's overall approval rate (what GET /stats shows) for the strength gate."""
        return Baseline.of(type_mix(shares, per_type_decayed), total_raw)

    @staticmethod
    def of(decayed: Mapping[str, float], raw: Mapping[str, float]) -> Baseline:
        """The baseline of a scope's counters (decayed for the factors, raw for the approval rate)."""
        tracked = decayed.get("tracked", 0.0)
        failures = decayed.get("failed_executions", 0.0) + decayed.get("timed_out_executions", 0.0)
        return Baseline(
            approval_rate=ratio_or_none(raw.get("success_sum", 0.0), raw.get("evaluated", 0.0)),
            expected_calibration_error=expected_calibration_error(calibration_bins(decayed)),
            mean_latency_ms=ratio_or_none(
                decayed.get("latency_ms_sum", 0.0), decayed.get("latency_count", 0.0)
            ),
            failure_rate=ratio_or_none(failures, tracked),
        )


# Every counter ``Baseline.of`` reads (``type_mix`` scales by ``tracked``): the workspace's buckets
# are read with these only (a bucket holds ~20 counters; tests/unit/test_baseline_counters.py
# checks the baseline is the same from them alone).
BASELINE_COUNTERS: tuple[str, ...] = (
    "tracked",
    "evaluated",
    "success_sum",
    "failed_executions",
    "timed_out_executions",
    "latency_ms_sum",
    "latency_count",
    *(f"cal_{i}_{part}" for i in range(CALIBRATION_BINS) for part in ("n", "confidence_sum", "success_sum")),
)


def type_mix(shares: Mapping[str, float], per_type: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """The workspace's per-type counters mixed in the proportions ``shares`` (an agent's tracked
    recommendations per type), each type normalised per tracked recommendation: the workspace as it
    would look doing the agent's mix of work, so a specialist in a slow or hard type is compared
    with that type, not with everyone."""
    mixed: dict[str, float] = {}
    for recommendation_type, share in shares.items():
        counters = per_type.get(recommendation_type, {})
        scale = share / counters["tracked"] if counters.get("tracked", 0.0) > 0 else 0.0
        for name, value in counters.items():
            mixed[name] = mixed.get(name, 0.0) + scale * value
    return mixed


@dataclass(frozen=True)
class OutcomeTrend:
    """The trend over the order of outcomes: the split of the last outcomes where the success rate
    changed most, with the rates and sizes of its two segments."""

    trend: Trend
    recent_success_rate: float | None
    baseline_success_rate: float | None
    recent_outcomes: int
    baseline_outcomes: int
    z: float


@dataclass(frozen=True)
class CalibrationBin:
    lower: float
    upper: float
    count: float
    mean_confidence: float | None
    observed_success: float | None


@dataclass(frozen=True)
class Evidence:
    """The (decayed) counts behind a score, so it can be explained."""

    evaluated: int
    effective_evaluations: float
    effective_successes: float
    approved: int
    partial: int
    rejected: int
    tracked: int
    failed_executions: int
    timed_out_executions: int
    latency_observations: int
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class DimensionEvidence:
    """What each dimension stands on, so a reader can tell a measurement from the accuracy it
    defaults to: a count, or None when nothing was reported (the dimension's factor is then 1 by
    design and the dimension equals accuracy)."""

    accuracy: int  # evaluations
    consistency: int  # evaluations whose stated confidence is compared with the outcome
    timeliness: int | None  # latencies reported by this agent; None: none reported
    reliability: int | None  # executions tracked; None: no failure or timeout reported by the
    # agent nor, on its types, by the workspace, so reliability cannot tell it apart


@dataclass(frozen=True)
class TrustScore:
    accuracy_score: float
    accuracy_lower_bound: float
    accuracy_upper_bound: float
    posterior_alpha: float
    posterior_beta: float
    consistency_score: float
    calibration_score: float
    expected_calibration_error: float | None
    stability_score: float
    timeliness_score: float
    reliability_score: float
    confidence_factor: float
    overall_trust_score: float
    overall_trust_lower_bound: float
    overall_trust_upper_bound: float
    approval_rate: float | None
    avg_quality_score: float | None
    avg_latency_ms: float | None
    brier_score: float | None
    trend: Trend
    recent_success_rate: float | None
    baseline_success_rate: float | None
    recommendation_strength: Strength
    provisional: bool
    evidence: Evidence
    calibration: list[CalibrationBin]
    consistency_factor: float = 1.0
    timeliness_factor: float = 1.0
    reliability_factor: float = 1.0
    workspace_approval_rate: float | None = None
    trend_basis: str | None = None  # "days" or "outcomes": which test flagged the trend
    trend_recent_outcomes: int | None = None  # sizes of the outcome trend's segments, when read
    trend_baseline_outcomes: int | None = None
    dimension_evidence: DimensionEvidence | None = None
    avg_tokens: float | None = None  # input + output tokens per recommendation that reported usage


def calibration_bins(counters: Mapping[str, float]) -> list[CalibrationBin]:
    bins = []
    for i in range(CALIBRATION_BINS):
        n = counters.get(f"cal_{i}_n", 0.0)
        bins.append(
            CalibrationBin(
                lower=i / CALIBRATION_BINS,
                upper=(i + 1) / CALIBRATION_BINS,
                count=n,
                mean_confidence=counters.get(f"cal_{i}_confidence_sum", 0.0) / n if n > 0 else None,
                observed_success=counters.get(f"cal_{i}_success_sum", 0.0) / n if n > 0 else None,
            )
        )
    return bins


def expected_calibration_error(bins: Sequence[CalibrationBin]) -> float | None:
    total = sum(b.count for b in bins)
    if total <= 0:
        return None
    return (
        sum(
            b.count * abs(b.mean_confidence - b.observed_success)
            for b in bins
            if b.count > 0 and b.mean_confidence is not None and b.observed_success is not None
        )
        / total
    )


def ratio_or_none(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None
