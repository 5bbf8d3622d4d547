"""The simulated swarm the trust maths is judged on, and the counters the service would keep of it."""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from localdev import swarm
from localdev.swarm import (
    APPROVED_MIN,
    DEGRADED_EXECUTION_FACTOR,
    PARTIAL_MIN,
    RECOMMENDATION_TYPES,
    AgentProfile,
    SimulatedRecommendation,
)
from swarm_learning.domain.counters import (
    add_counters,
    derive_outcome,
    evaluation_counters,
    tracking_counters,
)
from swarm_learning.domain.trust_values import DayCounters
from swarm_learning.vocabulary import (
    ExecutionStatus,
)

WORKSPACE = "ws_bench"


FIRST_DAY = date(2026, 11, 1)


EVALUATION_DELAY_SECONDS = 3_600.0  # irrelevant to trust; the counter wants a value


# The swarm under test (its profiles are drawn once from AGENT_SEED).
AGENT_SEED = 2026


AGENT_COUNT = 20


QUALITY_LOW, QUALITY_STEP = 0.30, 0.03  # hidden mean success probabilities 0.30, 0.33, ... 0.87


def bench_agents(seed: int = AGENT_SEED, count: int = AGENT_COUNT) -> tuple[AgentProfile, ...]:
    """Twenty agents whose hidden mean success probabilities are evenly spaced (0.30 to 0.87, in
    shuffled order), each handling two or three types (ten agents per type) with per-type
    probabilities spread symmetrically around that mean. Calibration bias, confidence noise,
    latency, failure and timeout rates are drawn independently of quality, as they would be in a
    real swarm, so trust's non-accuracy dimensions act as noise on the ranking."""
    rng = random.Random(seed)
    qualities = [round(QUALITY_LOW + QUALITY_STEP * i, 2) for i in range(count)]
    rng.shuffle(qualities)
    agents = []
    for index, quality in enumerate(qualities):
        type_count = 2 + index % 2
        types = [RECOMMENDATION_TYPES[(index + j) % len(RECOMMENDATION_TYPES)] for j in range(type_count)]
        spread = rng.uniform(0.0, 0.08)
        offsets = [spread, -spread] if type_count == 2 else [spread, 0.0, -spread]
        rng.shuffle(offsets)
        agents.append(
            AgentProfile(
                f"AGENT-{index + 1:02d}",
                f"Bench{index + 1:02d}",
                {t: round(quality + offset, 3) for t, offset in zip(types, offsets, strict=True)},
                calibration_bias=round(rng.uniform(-0.2, 0.2), 2),
                confidence_noise=round(rng.uniform(0.03, 0.1), 2),
                mean_latency_ms=round(rng.uniform(500, 6_000)),
                latency_spread=round(rng.uniform(0.3, 0.7), 2),
                failure_rate=round(rng.uniform(0.0, 0.06), 3),
                timeout_rate=round(rng.uniform(0.0, 0.03), 3),
            )
        )
    return tuple(agents)


def hidden_quality(agent: AgentProfile) -> float:
    """The agent's hidden mean success probability over the types it handles."""
    return statistics.fmean(agent.success_probability.values())


def expected_success(agent: AgentProfile, recommendation_type: str) -> float:
    """Probability of a success once failed and timed-out executions (which degrade the
    recommendation) are counted in: what an oracle router would maximise."""
    degraded = (agent.failure_rate + agent.timeout_rate) * (1.0 - DEGRADED_EXECUTION_FACTOR)
    return agent.success_probability[recommendation_type] * (1.0 - degraded)


def service_counters(
    execution_status: str, confidence: float, latency_ms: float | None, quality: float
) -> dict[str, float]:
    """What the API adds to a day bucket for one tracked and evaluated recommendation."""
    outcome = derive_outcome(quality, approved_min=APPROVED_MIN, partial_min=PARTIAL_MIN)
    return add_counters(
        [
            tracking_counters(ExecutionStatus(execution_status), confidence, latency_ms),
            evaluation_counters(outcome, confidence, quality, EVALUATION_DELAY_SECONDS),
        ]
    )


def recommendation_counters(recommendation: SimulatedRecommendation) -> dict[str, float]:
    request = recommendation.request
    return service_counters(
        request["execution_status"],
        float(request["confidence_score"]),
        request["latency_ms"],
        recommendation.evaluation.overall_quality_score,
    )


@dataclass(frozen=True)
class RoutedOutcome:
    """What happens if this agent gets this task: drawn once, shared by every policy."""

    success: bool
    expected: float
    counters: dict[str, float]


def simulate_outcome(rng: random.Random, agent: AgentProfile, recommendation_type: str) -> RoutedOutcome:
    """One recommendation of a given agent and type, drawn as ``Swarm`` draws it.

    ``Swarm`` chooses agents and types itself; a router must choose them, so this mirrors
    ``Swarm._recommend`` (execution status, degraded probability, stated confidence) and reuses
    the simulator's own latency and evaluation draws for everything else.
    """
    roll = rng.random()
    if roll < agent.failure_rate:
        status = "failed"
    elif roll < agent.failure_rate + agent.timeout_rate:
        status = "timed_out"
    else:
        status = "completed"
    latency_ms = swarm._latency(rng, agent, status)
    probability = agent.true_success_probability(recommendation_type, 0)
    if status != "completed":
        probability *= DEGRADED_EXECUTION_FACTOR
    success = rng.random() < probability
    believed = agent.success_probability[recommendation_type]
    confidence = round(
        min(1.0, max(0.0, believed + agent.calibration_bias + rng.gauss(0, agent.confidence_noise))), 3
    )
    evaluation = swarm._evaluate(rng, success, probability, {"action": "routed_task"})
    return RoutedOutcome(
        success,
        expected_success(agent, recommendation_type),
        service_counters(status, confidence, latency_ms, evaluation.overall_quality_score),
    )


def day_of(index: int) -> date:
    return FIRST_DAY + timedelta(days=index)


class Buckets:
    """One scope's day buckets, as the statistics table holds them."""

    def __init__(self) -> None:
        self._days: dict[int, dict[str, float]] = {}

    def add(self, day: int, counters: Mapping[str, float]) -> None:
        bucket = self._days.setdefault(day, {})
        for name, value in counters.items():
            bucket[name] = bucket.get(name, 0.0) + value

    def days(self) -> list[DayCounters]:
        return [DayCounters(day_of(day), dict(counters)) for day, counters in sorted(self._days.items())]

    def totals(self) -> dict[str, float]:
        return add_counters(self._days.values())


def ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties sharing their average rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    result = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            result[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return result


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rho: the Pearson correlation of the ranks."""
    rx, ry = ranks(x), ranks(y)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    return cov / math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))


def signed(value: float) -> str:
    return f"{value:+.3f}"


def median_min(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.3f} / {min(values):.3f}"
