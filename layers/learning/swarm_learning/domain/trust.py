"""Trust scoring (the specification's TrustScorer) as pure functions over statistics buckets.

Every score is derived from the day buckets of sufficient statistics that tracking and evaluation
``ADD`` to, so it can be recomputed at any time, explained by its counts, and never loses an update.

- Accuracy: Beta posterior over approvals (partial counts half), ``Beta(a0 + s, b0 + n - s)`` with
  s, n the *decayed* success sum and evaluation count; reported with a lower credible bound.
- Recency: a bucket ``age`` days old weighs ``0.5 ** (age / half_life)``. Old evidence fades and the
  posterior returns toward the prior, not toward zero.
- Consistency, timeliness, reliability are scored *on the accuracy scale, against the workspace*:
  each is the agent's accuracy times a factor that is 1 where the agent does as well as its
  workspace (for the same recommendation types) and moves only where it really differs —
  calibration error (consistency), mean latency (timeliness, never above 1: being faster than the
  workspace earns nothing), failed and timed-out executions (reliability) — each shrunk toward the
  workspace while evidence is thin. A dimension on which every agent is alike therefore sits at the
  agent's accuracy and does not pull everyone's overall score toward one value.
- Overall: the specification's weighted sum (0.40 / 0.25 / 0.15 / 0.20) times a confidence factor
  ``n / (n + k)`` that grows with the decayed number of evaluations.
- Strength: from the overall score, but ``strong`` and ``very_strong`` only for agents whose approval
  rate is at least the workspace's (``very_strong``: credibly above it).
- Trend: the day windows (recent days against the weeks before) where they have evidence on both
  sides; otherwise (a record that is all recent) the order of outcomes: the agent's last evaluated
  outcomes, scanned for the split where its approval rate changed most.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from swarm_learning.domain.beta import beta_quantile
from swarm_learning.domain.counters import add_counters, calibrated
from swarm_learning.domain.trust_values import (
    MAX_FACTOR,
    NEUTRAL,
    Baseline,
    DayCounters,
    DimensionEvidence,
    Evidence,
    OutcomeTrend,
    TrustConfig,
    TrustScore,
    calibration_bins,
    expected_calibration_error,
    ratio_or_none,
)
from swarm_learning.vocabulary import Strength, Trend


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


def outcome_trend(values: Sequence[float], config: TrustConfig) -> OutcomeTrend:
    """The trend over the order of outcomes. ``values``: 1.0 for each approved and 0.0 for each
    other outcome (a partial is not an approval: counting it ½ only adds noise here) of the
    agent's last evaluated recommendations, *newest first*, as the by-agent index returns them.

    The last ``outcome_trend_window`` outcomes are scanned for a change point (``_change_point``).
    A change is claimed only if it is also found, in the same direction, without the newest
    ``outcome_trend_confirm_lag`` outcomes: a drop that has lasted is seen from both ends, while
    the chance streaks that make a scan re-read at every request raise false alarms rarely are.
    Scanning all splits finds a drop wherever it happened in the window — also one within a single
    day, which day windows can never see.
    """
    found = _change_point(values[: config.outcome_trend_window], config)
    if found.trend is not Trend.STABLE:
        lag = config.outcome_trend_confirm_lag
        confirmed = _change_point(values[lag : lag + config.outcome_trend_window], config)
        if confirmed.trend is not found.trend:
            return OutcomeTrend(
                Trend.STABLE,
                found.recent_success_rate,
                found.baseline_success_rate,
                found.recent_outcomes,
                found.baseline_outcomes,
                found.z,
            )
    return found


def _change_point(values: Sequence[float], config: TrustConfig) -> OutcomeTrend:
    """Every split of ``values`` (newest first) into an older and a newer segment, each at least
    ``outcome_trend_min_segment`` long, tested with the two-sample z statistic on the window's
    variance; the split with the largest |z| is the change point. ``declining``/``improving``
    needs |z| >= ``outcome_trend_z`` and a difference of at least
    ``outcome_trend_min_difference``."""
    window = list(values)[::-1]  # oldest first
    n, m = len(window), config.outcome_trend_min_segment
    if n < 2 * m:
        return OutcomeTrend(Trend.STABLE, None, None, 0, 0, 0.0)
    mean = sum(window) / n
    # The window's variance: under "no change" it is the noise of every split alike.
    variance = max(sum(v * v for v in window) / n - mean * mean, 1e-9)
    prefix = [0.0]
    for value in window:
        prefix.append(prefix[-1] + value)
    best: tuple[float, int] = (0.0, n - m)
    for split in range(m, n - m + 1):
        older, newer = prefix[split] / split, (prefix[n] - prefix[split]) / (n - split)
        z = (newer - older) / math.sqrt(variance * (1 / split + 1 / (n - split)))
        if abs(z) > abs(best[0]):
            best = (z, split)
    z, split = best
    older, newer = prefix[split] / split, (prefix[n] - prefix[split]) / (n - split)
    trend = Trend.STABLE
    if abs(z) >= config.outcome_trend_z and abs(newer - older) >= config.outcome_trend_min_difference:
        trend = Trend.IMPROVING if z > 0 else Trend.DECLINING
    return OutcomeTrend(trend, newer, older, n - split, split, z)


def day_windows_can_judge(days: Sequence[DayCounters], today: date, config: TrustConfig) -> bool:
    """Whether the day windows have evaluations on both sides (the recent days and the weeks
    before). When they do, the trend is theirs; when they do not — an agent whose whole record is
    recent, as in a demo tracked within minutes — the order of outcomes decides."""
    recent_start = config.trend_recent_days
    baseline_end = config.trend_recent_days + config.trend_baseline_days
    ages = [(today - b.day).days for b in days if b.counters.get("evaluated", 0.0) > 0]
    return any(age < recent_start for age in ages) and any(recent_start <= age < baseline_end for age in ages)


def strength_of(
    score: float,
    config: TrustConfig,
    *,
    approval_rate: float | None = None,
    workspace_approval_rate: float | None = None,
    accuracy_lower_bound: float | None = None,
) -> Strength:
    """Strength from the overall score, gated by the workspace: an agent whose approval rate is
    below its workspace's is at most ``moderate``; ``very_strong`` also needs the accuracy's lower
    credible bound at or above the workspace's rate (credibly better than its peers)."""
    moderate, strong, very_strong = config.strength_thresholds
    if score < moderate:
        return Strength.WEAK
    below_workspace = (
        workspace_approval_rate is not None
        and approval_rate is not None
        and approval_rate < workspace_approval_rate
    )
    if score < strong or below_workspace:
        return Strength.MODERATE
    credibly_above = (
        workspace_approval_rate is None
        or accuracy_lower_bound is None
        or accuracy_lower_bound >= workspace_approval_rate
    )
    return Strength.VERY_STRONG if score >= very_strong and credibly_above else Strength.STRONG


@dataclass(frozen=True)
class _Factors:
    """How the agent compares with its workspace; 1.0 = as the workspace does."""

    consistency: float
    timeliness: float
    reliability: float


def relative_factors(decayed: Mapping[str, float], baseline: Baseline, config: TrustConfig) -> _Factors:
    """The consistency, timeliness and reliability factors of one scope against its baseline.

    Each of the agent's own rates is first shrunk toward the workspace's with ``shrinkage_k``
    pseudo-observations, so an agent with little evidence sits at 1.0 (neutral).
    """
    k = config.shrinkage_k
    n = decayed.get("evaluated", 0.0)
    reference_ece = baseline.expected_calibration_error or 0.0
    own_ece = expected_calibration_error(calibration_bins(decayed))
    ece = (n * own_ece + k * reference_ece) / (n + k) if own_ece is not None else reference_ece
    consistency = _relative(1 - ece, 1 - reference_ece)

    latency_n = decayed.get("latency_count", 0.0)
    reference_latency = baseline.mean_latency_ms or config.latency_target_ms
    timeliness = 1.0
    if latency_n > 0 and decayed.get("latency_ms_sum", 0.0) > 0:
        own = math.log(decayed["latency_ms_sum"] / latency_n)
        shrunk = (latency_n * own + k * math.log(reference_latency)) / (latency_n + k)
        timeliness = min(1.0, math.exp(config.timeliness_elasticity * (math.log(reference_latency) - shrunk)))

    tracked = decayed.get("tracked", 0.0)
    failures = decayed.get("failed_executions", 0.0) + decayed.get("timed_out_executions", 0.0)
    reference_failures = baseline.failure_rate or 0.0
    failure_rate = (failures + k * reference_failures) / (tracked + k)
    reliability = _relative(1 - failure_rate, 1 - reference_failures)
    return _Factors(consistency, timeliness, reliability)


def _relative(own: float, reference: float) -> float:
    """``own / reference``, 1.0 when both are (near) zero; at most ``MAX_FACTOR`` (the dimension it
    multiplies is clipped to 1 anyway; this keeps the reported factor readable)."""
    epsilon = 1e-9
    return min((own + epsilon) / (reference + epsilon), MAX_FACTOR)


def score(
    days: Sequence[DayCounters],
    today: date,
    config: TrustConfig | None = None,
    *,
    baseline: Baseline | None = None,
    recent_outcomes: Sequence[float] | None = None,
    accuracy_adjustment: float = 0.0,
    consistency_adjustment: float = 0.0,
) -> TrustScore:
    """Trust from one scope's day buckets (an agent overall, or an agent and a type).

    ``baseline``: the workspace on the same types (without one, the agent is judged against
    perfect calibration, the latency target and no failures, and strength is not gated).
    ``recent_outcomes``: approvals (1/0) of its last evaluated outcomes, newest first, for the
    trend over the order of outcomes, read when the day windows cannot judge (without them only the
    day windows are read).
    Adjustments are the bounded manual updates (``TrustScoreUpdate``), applied on top of the
    evidence and clipped to [0, 1]; they never change the evidence itself.
    """
    config = config or TrustConfig()
    baseline = baseline or Baseline()
    raw = add_counters(b.counters for b in days)
    decayed = decayed_counters(days, today, config.half_life_days)

    n = decayed.get("evaluated", 0.0)
    successes = decayed.get("success_sum", 0.0)
    alpha, beta = config.prior_alpha + successes, config.prior_beta + max(n - successes, 0.0)
    tail = (1 - config.credible_level) / 2
    accuracy = _unit(alpha / (alpha + beta) + accuracy_adjustment)
    lower = _unit(beta_quantile(tail, alpha, beta) + accuracy_adjustment)
    upper = _unit(beta_quantile(1 - tail, alpha, beta) + accuracy_adjustment)

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
    factors = relative_factors(decayed, baseline, config)
    weights = config.weights
    confidence_factor = n / (n + config.confidence_k)

    def dimensions(accuracy_value: float) -> tuple[float, float, float]:
        return (
            _unit(accuracy_value * factors.consistency + consistency_adjustment),
            _unit(accuracy_value * factors.timeliness),
            _unit(accuracy_value * factors.reliability),
        )

    def overall(accuracy_value: float) -> float:
        consistency_value, timeliness_value, reliability_value = dimensions(accuracy_value)
        weighted = (
            weights.accuracy * accuracy_value
            + weights.consistency * consistency_value
            + weights.timeliness * timeliness_value
            + weights.reliability * reliability_value
        )
        return weighted * confidence_factor

    consistency, timeliness, reliability = dimensions(accuracy)
    trend, recent_rate, baseline_rate = _trend(days, today, config)
    basis = "days" if trend is not Trend.STABLE else None
    recent_count = baseline_count = None
    if recent_outcomes is not None and not day_windows_can_judge(days, today, config):
        by_order = outcome_trend(recent_outcomes, config)
        trend, recent_count, baseline_count = (
            by_order.trend,
            by_order.recent_outcomes,
            by_order.baseline_outcomes,
        )
        basis = "outcomes" if trend is not Trend.STABLE else None
        if basis:
            recent_rate, baseline_rate = by_order.recent_success_rate, by_order.baseline_success_rate
    evaluated = round(raw.get("evaluated", 0.0))
    overall_score = overall(accuracy)
    approval_rate = ratio_or_none(raw.get("success_sum", 0.0), raw.get("evaluated", 0.0))
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
        approval_rate=approval_rate,
        avg_quality_score=ratio_or_none(raw.get("quality_sum", 0.0), raw.get("evaluated", 0.0)),
        avg_latency_ms=ratio_or_none(raw.get("latency_ms_sum", 0.0), raw.get("latency_count", 0.0)),
        brier_score=ratio_or_none(raw.get("brier_sum", 0.0), calibrated(raw)),
        avg_tokens=ratio_or_none(
            raw.get("input_tokens_sum", 0.0) + raw.get("output_tokens_sum", 0.0), raw.get("token_count", 0.0)
        ),
        trend=trend,
        recent_success_rate=recent_rate,
        baseline_success_rate=baseline_rate,
        recommendation_strength=strength_of(
            overall_score,
            config,
            approval_rate=approval_rate,
            workspace_approval_rate=baseline.approval_rate,
            accuracy_lower_bound=lower,
        ),
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
            input_tokens=round(raw.get("input_tokens_sum", 0.0)),
            output_tokens=round(raw.get("output_tokens_sum", 0.0)),
        ),
        calibration=calibration_bins(raw),
        consistency_factor=factors.consistency,
        timeliness_factor=factors.timeliness,
        reliability_factor=factors.reliability,
        workspace_approval_rate=baseline.approval_rate,
        trend_basis=basis,
        trend_recent_outcomes=recent_count,
        trend_baseline_outcomes=baseline_count,
        dimension_evidence=dimension_evidence(raw, baseline),
    )


def dimension_evidence(raw: Mapping[str, float], baseline: Baseline) -> DimensionEvidence:
    """The count behind each dimension, or None where nothing was reported (see DimensionEvidence)."""
    evaluated = round(raw.get("evaluated", 0.0))
    latencies = round(raw.get("latency_count", 0.0))
    failures = raw.get("failed_executions", 0.0) + raw.get("timed_out_executions", 0.0)
    failures_reported = failures > 0 or bool(baseline.failure_rate)
    return DimensionEvidence(
        accuracy=evaluated,
        consistency=evaluated,
        timeliness=latencies or None,
        reliability=round(raw.get("tracked", 0.0)) if failures_reported else None,
    )


def _unit(value: float) -> float:
    return min(max(value, 0.0), 1.0)
