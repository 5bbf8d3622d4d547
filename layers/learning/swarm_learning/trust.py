"""Trust scoring (the seed's TrustScorer) as pure functions over statistics buckets.

Every score is derived from the day buckets of sufficient statistics that tracking and evaluation
``ADD`` to, so it can be recomputed at any time, explained by its counts, and never loses an update.

- Accuracy: Beta posterior over approvals (partial counts half), ``Beta(a0 + s, b0 + n - s)`` with
  s, n the *decayed* success sum and evaluation count; reported with a lower credible bound.
- Recency: a bucket ``age`` days old weighs ``0.5 ** (age / half_life)``. Old evidence fades and the
  posterior returns toward the prior, not toward zero.
- Consistency: calibration (1 - expected calibration error over ten confidence bins) and stability
  of quality (1 - stddev / 50), each shrunk toward 0.5 while evidence is thin.
- Timeliness: ``min(1, target / mean latency)``, shrunk toward 0.5 while evidence is thin.
- Reliability: Beta posterior of executions that neither failed nor timed out.
- Overall: the seed's weighted sum (0.40 / 0.25 / 0.15 / 0.20) times a confidence factor
  ``n / (n + k)`` that grows with the decayed number of evaluations.
- Trend: success rate of the recent window against the window before it, a two-proportion z-test
  plus a minimum difference, so noise does not flip it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from swarm_learning.counters import CALIBRATION_BINS, add_counters
from swarm_learning.vocabulary import Strength, Trend

NEUTRAL = 0.5


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
    confidence_k: float = 10.0  # evaluations at which the confidence factor reaches 0.5
    shrinkage_k: float = 10.0  # pseudo-observations pulling thin consistency/timeliness to 0.5
    latency_target_ms: float = 30_000.0
    quality_stddev_scale: float = 50.0
    calibration_share: float = 0.6  # of consistency; the rest is stability
    credible_level: float = 0.90  # two-sided; the lower bound is its lower end
    min_sample: int = 10  # fewer evaluations: the score is provisional
    trend_recent_days: int = 5
    trend_baseline_days: int = 21
    trend_min_difference: float = 0.05
    # Read every refresh, the trend is many tests: z >= 3 keeps false alarms of a stable agent to
    # ~3.5 % over 48 days while a drop from 0.8 to 0.4 is still flagged within ~40 outcomes
    # (bench/trust_quality.py).
    trend_z: float = 3.0
    strength_thresholds: tuple[float, float, float] = (0.4, 0.6, 0.8)  # moderate, strong, very strong
    # Routing keeps a longer memory than the reported score: the bandit re-explores by itself when
    # posteriors widen, and forgetting fast costs reward on a steady swarm (bench/trust_quality.py).
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


# ---- Beta distribution ------------------------------------------------------------------------
def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the regularized incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-12:
            break
    return h


def beta_cdf(x: float, a: float, b: float) -> float:
    """Regularized incomplete beta I_x(a, b): P(X <= x) for X ~ Beta(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def beta_quantile(q: float, a: float, b: float) -> float:
    """Inverse of ``beta_cdf`` by bisection (exact to 1e-10; a few dozen CDF evaluations).

    Written here rather than importing SciPy, which would add ~100 MB and ~0.3 s of cold start to
    the layer for this one function.
    """
    low, high = 0.0, 1.0
    for _ in range(60):
        mid = (low + high) / 2
        if beta_cdf(mid, a, b) < q:
            low = mid
        else:
            high = mid
    return (low + high) / 2


# ---- the score --------------------------------------------------------------------------------
def decay_weight(age_days: float, half_life_days: float) -> float:
    return 0.5 ** (max(age_days, 0.0) / half_life_days)


def decayed_counters(days: Iterable[DayCounters], today: date, half_life_days: float) -> dict[str, float]:
    totals: dict[str, float] = {}
    for bucket in days:
        weight = decay_weight((today - bucket.day).days, half_life_days)
        for name, value in bucket.counters.items():
            totals[name] = totals.get(name, 0.0) + weight * value
    return totals


def _shrunk(score: float, n: float, k: float) -> float:
    return (n * score + k * NEUTRAL) / (n + k)


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


def _trend(
    days: Sequence[DayCounters], today: date, config: TrustConfig
) -> tuple[Trend, float | None, float | None]:
    recent_start = config.trend_recent_days
    baseline_end = config.trend_recent_days + config.trend_baseline_days
    recent = add_counters(b.counters for b in days if (today - b.day).days < recent_start)
    baseline = add_counters(b.counters for b in days if recent_start <= (today - b.day).days < baseline_end)
    n1, n0 = recent.get("evaluated", 0.0), baseline.get("evaluated", 0.0)
    p1 = recent.get("success_sum", 0.0) / n1 if n1 else None
    p0 = baseline.get("success_sum", 0.0) / n0 if n0 else None
    if p1 is None or p0 is None:
        return Trend.STABLE, p1, p0
    pooled = (recent.get("success_sum", 0.0) + baseline.get("success_sum", 0.0)) / (n1 + n0)
    spread = math.sqrt(max(pooled * (1 - pooled), 1e-9) * (1 / n1 + 1 / n0))
    z = (p1 - p0) / spread
    if abs(p1 - p0) < config.trend_min_difference or abs(z) < config.trend_z:
        return Trend.STABLE, p1, p0
    return (Trend.IMPROVING if p1 > p0 else Trend.DECLINING), p1, p0


def strength_of(score: float, config: TrustConfig) -> Strength:
    moderate, strong, very_strong = config.strength_thresholds
    if score >= very_strong:
        return Strength.VERY_STRONG
    if score >= strong:
        return Strength.STRONG
    if score >= moderate:
        return Strength.MODERATE
    return Strength.WEAK


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def score(
    days: Sequence[DayCounters],
    today: date,
    config: TrustConfig | None = None,
    *,
    accuracy_adjustment: float = 0.0,
    consistency_adjustment: float = 0.0,
) -> TrustScore:
    """Trust from one scope's day buckets (an agent overall, or an agent and a type).

    Adjustments are the bounded manual updates (``TrustScoreUpdate``), applied on top of the
    evidence and clipped to [0, 1]; they never change the evidence itself.
    """
    config = config or TrustConfig()
    raw = add_counters(b.counters for b in days)
    decayed = decayed_counters(days, today, config.half_life_days)

    n = decayed.get("evaluated", 0.0)
    successes = decayed.get("success_sum", 0.0)
    alpha, beta = config.prior_alpha + successes, config.prior_beta + max(n - successes, 0.0)
    tail = (1 - config.credible_level) / 2
    accuracy = min(max(alpha / (alpha + beta) + accuracy_adjustment, 0.0), 1.0)
    lower = min(max(beta_quantile(tail, alpha, beta) + accuracy_adjustment, 0.0), 1.0)
    upper = min(max(beta_quantile(1 - tail, alpha, beta) + accuracy_adjustment, 0.0), 1.0)

    bins = calibration_bins(decayed)
    ece = expected_calibration_error(bins)
    calibration = _shrunk(1 - ece, n, config.shrinkage_k) if ece is not None else NEUTRAL
    quality_var = (
        (decayed.get("quality_sq_sum", 0.0) - decayed.get("quality_sum", 0.0) ** 2 / n) / n if n > 0 else None
    )
    stability_raw = (
        1 - min(math.sqrt(max(quality_var, 0.0)) / config.quality_stddev_scale, 1.0)
        if quality_var is not None
        else NEUTRAL
    )
    stability = _shrunk(stability_raw, n, config.shrinkage_k)
    consistency = config.calibration_share * calibration + (1 - config.calibration_share) * stability
    consistency = min(max(consistency + consistency_adjustment, 0.0), 1.0)

    latency_n = decayed.get("latency_count", 0.0)
    mean_latency = _ratio(decayed.get("latency_ms_sum", 0.0), latency_n)
    timeliness_raw = min(1.0, config.latency_target_ms / mean_latency) if mean_latency else 1.0
    timeliness = _shrunk(timeliness_raw, latency_n, config.shrinkage_k) if latency_n else NEUTRAL

    tracked = decayed.get("tracked", 0.0)
    failures = decayed.get("failed_executions", 0.0) + decayed.get("timed_out_executions", 0.0)
    r_alpha = config.reliability_prior_alpha + max(tracked - failures, 0.0)
    r_beta = config.reliability_prior_beta + failures
    reliability = r_alpha / (r_alpha + r_beta)

    weights = config.weights
    confidence_factor = n / (n + config.confidence_k)

    def overall(accuracy_value: float) -> float:
        weighted = (
            weights.accuracy * accuracy_value
            + weights.consistency * consistency
            + weights.timeliness * timeliness
            + weights.reliability * reliability
        )
        return weighted * confidence_factor

    trend, recent_rate, baseline_rate = _trend(days, today, config)
    evaluated = round(raw.get("evaluated", 0.0))
    overall_score = overall(accuracy)
    return TrustScore(
        accuracy_score=accuracy,
        accuracy_lower_bound=lower,
        accuracy_upper_bound=upper,
        posterior_alpha=alpha,
        posterior_beta=beta,
        consistency_score=consistency,
        calibration_score=calibration,
        expected_calibration_error=ece,
        stability_score=stability,
        timeliness_score=timeliness,
        reliability_score=reliability,
        confidence_factor=confidence_factor,
        overall_trust_score=overall_score,
        overall_trust_lower_bound=overall(lower),
        overall_trust_upper_bound=overall(upper),
        approval_rate=_ratio(raw.get("success_sum", 0.0), raw.get("evaluated", 0.0)),
        avg_quality_score=_ratio(raw.get("quality_sum", 0.0), raw.get("evaluated", 0.0)),
        avg_latency_ms=_ratio(raw.get("latency_ms_sum", 0.0), raw.get("latency_count", 0.0)),
        brier_score=_ratio(raw.get("brier_sum", 0.0), raw.get("evaluated", 0.0)),
        trend=trend,
        recent_success_rate=recent_rate,
        baseline_success_rate=baseline_rate,
        recommendation_strength=strength_of(overall_score, config),
        provisional=evaluated < config.min_sample,
        evidence=Evidence(
            evaluated=evaluated,
            effective_evaluations=n,
            effective_successes=successes,
            approved=round(raw.get("approved", 0.0)),
            partial=round(raw.get("partial", 0.0)),
            rejected=round(raw.get("rejected", 0.0)),
            tracked=round(raw.get("tracked", 0.0)),
            failed_executions=round(raw.get("failed_executions", 0.0)),
            timed_out_executions=round(raw.get("timed_out_executions", 0.0)),
            latency_observations=round(raw.get("latency_count", 0.0)),
        ),
        calibration=calibration_bins(raw),
    )


# ---- decisions --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ApprovalPosterior:
    alpha: float
    beta: float
    lower_bound: float


def approval_posterior(
    type_days: Sequence[DayCounters],
    agent_days: Sequence[DayCounters],
    today: date,
    config: TrustConfig | None = None,
) -> ApprovalPosterior:
    """The posterior routing samples from for one agent and type.

    ``Beta(a + approved, b + evaluated - approved)`` over the type's decayed counts (half-life
    ``routing_half_life_days``), where the prior ``(a, b)`` adds ``routing_pooling_strength``
    pseudo-observations at the agent's all-types approval rate (``agent_days``: its all-types
    buckets) — partial pooling, so a type the agent has not done yet starts from its record
    elsewhere. Routing maximises approvals, so a partial outcome counts as a miss here, unlike the
    reported accuracy where it is half a success.
    """
    config = config or TrustConfig()
    overall = decayed_counters(agent_days, today, config.routing_half_life_days)
    n_all, approved_all = overall.get("evaluated", 0.0), overall.get("approved", 0.0)
    agent_rate = (config.prior_alpha + approved_all) / (config.prior_alpha + config.prior_beta + n_all)
    prior_alpha = config.prior_alpha + config.routing_pooling_strength * agent_rate
    prior_beta = config.prior_beta + config.routing_pooling_strength * (1 - agent_rate)
    own = decayed_counters(type_days, today, config.routing_half_life_days)
    n, approved = own.get("evaluated", 0.0), own.get("approved", 0.0)
    alpha, beta = prior_alpha + approved, prior_beta + max(n - approved, 0.0)
    tail = (1 - config.credible_level) / 2
    return ApprovalPosterior(alpha, beta, beta_quantile(tail, alpha, beta))


MAX_BOOST_DELTA = 0.5


def decision_boost(trust: TrustScore, config: TrustConfig | None = None) -> float:
    """Multiplier for an agent's say in a decision of one type, in [0.5, 1.5].

    ``1 + 0.5 * confidence_factor * (accuracy - prior_mean) / max(prior_mean, 1 - prior_mean)``:
    exactly 1.0 without evidence (confidence factor 0), above 1 for agents better than the prior,
    below for worse ones, and never outside the bounds.
    """
    config = config or TrustConfig()
    prior_mean = config.prior_alpha / (config.prior_alpha + config.prior_beta)
    edge = (trust.accuracy_score - prior_mean) / max(prior_mean, 1 - prior_mean)
    boost = 1.0 + MAX_BOOST_DELTA * trust.confidence_factor * edge
    return min(max(boost, 1.0 - MAX_BOOST_DELTA), 1.0 + MAX_BOOST_DELTA)
