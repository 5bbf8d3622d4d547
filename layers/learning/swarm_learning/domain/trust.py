"""Trust scoring (the seed's TrustScorer) as pure functions over statistics buckets.

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
- Overall: the seed's weighted sum (0.40 / 0.25 / 0.15 / 0.20) times a confidence factor
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
from dataclasses import dataclass, field
from datetime import date

from swarm_learning.domain.counters import CALIBRATION_BINS, add_counters
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
    # (bench/trust_quality.py).
    trend_z: float = 3.0
    # The trend over the order of outcomes: the last ``outcome_trend_window`` evaluated outcomes,
    # split where the approval rate changed most (segments of at least ``outcome_trend_min_segment``),
    # confirmed without the newest ``outcome_trend_confirm_lag``. z >= 3.25 with the confirmation:
    # 1-1.5 % of stable agents flagged over 48 daily reads, the demo's degrading agent caught on
    # ~70 % of seeds (without confirmation z >= 4 was needed for the same false alarms, catching 40 %;
    # bench/trust_quality.py).
    outcome_trend_window: int = 100
    outcome_trend_min_segment: int = 20
    outcome_trend_z: float = 3.25
    outcome_trend_min_difference: float = 0.2
    outcome_trend_confirm_lag: int = 30
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
            approval_rate=_ratio(raw.get("success_sum", 0.0), raw.get("evaluated", 0.0)),
            expected_calibration_error=expected_calibration_error(calibration_bins(decayed)),
            mean_latency_ms=_ratio(decayed.get("latency_ms_sum", 0.0), decayed.get("latency_count", 0.0)),
            failure_rate=_ratio(failures, tracked),
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


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


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
    approval_rate = _ratio(raw.get("success_sum", 0.0), raw.get("evaluated", 0.0))
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
        avg_quality_score=_ratio(raw.get("quality_sum", 0.0), raw.get("evaluated", 0.0)),
        avg_latency_ms=_ratio(raw.get("latency_ms_sum", 0.0), raw.get("latency_count", 0.0)),
        brier_score=_ratio(raw.get("brier_sum", 0.0), raw.get("evaluated", 0.0)),
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
        ),
        calibration=calibration_bins(raw),
        consistency_factor=factors.consistency,
        timeliness_factor=factors.timeliness,
        reliability_factor=factors.reliability,
        workspace_approval_rate=baseline.approval_rate,
        trend_basis=basis,
        trend_recent_outcomes=recent_count,
        trend_baseline_outcomes=baseline_count,
    )


def _unit(value: float) -> float:
    return min(max(value, 0.0), 1.0)


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
    """Multiplier for an agent's say in a decision of one type, in [0.5, 1.5], from its trust for
    that type.

    ``1 + 0.5 * (overall - confidence_factor * par) / max(par, 1 - par)``, where ``par`` is the
    workspace's approval rate for the type (the prior mean without one): the overall score of an
    agent exactly as good as its workspace with the same evidence is ``confidence_factor * par``,
    since every factor is then 1. So the boost is exactly 1.0 without evidence, above 1 precisely
    when the agent's trust beats that of a par agent, below when it trails, it rises with the trust
    score (for agents with the same confidence factor, strictly in the same order) and it never
    leaves the bounds.
    """
    config = config or TrustConfig()
    par = trust.workspace_approval_rate
    if par is None:
        par = config.prior_alpha / (config.prior_alpha + config.prior_beta)
    edge = (trust.overall_trust_score - trust.confidence_factor * par) / max(par, 1 - par)
    boost = 1.0 + MAX_BOOST_DELTA * edge
    return min(max(boost, 1.0 - MAX_BOOST_DELTA), 1.0 + MAX_BOOST_DELTA)
