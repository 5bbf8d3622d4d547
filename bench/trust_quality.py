"""Trust quality benchmark: does the trust maths agree with the ground truth of a simulated swarm?

    pip install -r requirements-bench.txt           (MABWiser, the routing baseline)
    python -m bench.trust_quality [--strict]        (from the repository root)

Everything is simulated in memory with ``localdev.swarm`` and scored with the service's own pure
functions: each simulated recommendation adds exactly the counters the API adds
(``tracking_counters`` + ``evaluation_counters``, the outcome derived from the quality score), a
day bucket is the sum of one day's counters, and ``trust.score`` reads the buckets of one scope
(an agent, or an agent and a type). Every random draw comes from ``random.Random(seed)`` (and
MABWiser's seeded generator), so two runs print the same numbers except the timings. It prints a
machine line, the command and markdown tables:

ranking      Spearman between trust and each agent's hidden mean success probability
             (20 agents, 2,000 evaluated outcomes over 20 days)
routing      Thompson sampling on trust posteriors vs. the per-type oracle, uniform random and
             MABWiser's Thompson sampling, on one stream of tasks with common random numbers
close        routing on 8 agents whose three best are within 1.5 points, against always asking the best
drift        outcomes from a drop 0.8 -> 0.4 until ``trend == declining``; false alarms on stable agents
demo trend   the demo's shape (default_swarm, 300 workflows on one day): is ANLY-01 ``declining``?
calibration  calibration bias recovered from the calibration bins vs. the simulator's truth
config       the ranking under other ``TrustConfig`` values (drift and routing show theirs inline)
targets      PASS/FAIL against the targets of the benchmark issue

docs/benchmarks.md explains the method and records a run.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from mabwiser.mab import MAB, LearningPolicy

from bench.report import machine_line, markdown_table, verdict
from localdev import swarm
from localdev.swarm import (
    APPROVED_MIN,
    DEGRADED_EXECUTION_FACTOR,
    PARTIAL_MIN,
    RECOMMENDATION_TYPES,
    AgentProfile,
    Drift,
    SimulatedRecommendation,
    Swarm,
)
from swarm_learning.domain import approval, routing, trust, trust_values
from swarm_learning.domain.counters import (
    add_counters,
    derive_outcome,
    evaluation_counters,
    tracking_counters,
)
from swarm_learning.domain.trust_values import DayCounters, TrustConfig, TrustWeights
from swarm_learning.vocabulary import (
    ExecutionStatus,
    Trend,
)

ROOT = Path(__file__).resolve().parent.parent

WORKSPACE = "ws_bench"
FIRST_DAY = date(2026, 11, 1)
EVALUATION_DELAY_SECONDS = 3_600.0  # irrelevant to trust; the counter wants a value

# The swarm under test (its profiles are drawn once from AGENT_SEED).
AGENT_SEED = 2026
AGENT_COUNT = 20
QUALITY_LOW, QUALITY_STEP = 0.30, 0.03  # hidden mean success probabilities 0.30, 0.33, ... 0.87

# 1. ranking
RANKING_OUTCOMES, RANKING_PER_DAY = 2_000, 100
RANKING_SEEDS = tuple(range(1, 21))  # the first is the run shown agent by agent
TARGET_SPEARMAN = 0.95

# 2. routing
ROUTING_ROUNDS, ROUTING_PER_DAY = 5_000, 250
ROUTING_CANDIDATES = (5, 8)  # candidates per task, drawn among the agents that handle its type
ROUTING_SEEDS = (1, 2, 3)  # the first is the run shown in detail
ROUTING_WINDOW = 1_000  # tasks in the "first" and "last" columns
ROUTING_PROPENSITY_DRAWS = 1
PROPENSITY_TIMING_EVERY = 25  # decisions between timings of select() with its default draws
TARGET_ORACLE_SHARE = 0.97

# 3. drift
DRIFT_PER_DAY = 20
DRIFT_PRE_DAYS = 28  # fills the trend's recent + baseline windows (7 + 21 days) before the drop
DRIFT_POST_DAYS = 20
DRIFT_BEFORE, DRIFT_AFTER = 0.8, 0.4
DRIFT_SEEDS = tuple(range(1, 201))
TARGET_DETECTION_OUTCOMES = 100
TARGET_FALSE_ALARM_RATE = 0.05

# Other TrustConfig values to measure (the first of each is the service's default).
RANKING_CONFIGS: dict[str, TrustConfig] = {
    "default": TrustConfig(),
    "confidence_k=10 (the previous default)": TrustConfig(confidence_k=10.0),
    "confidence_k=2": TrustConfig(confidence_k=2.0),
    "weights 0.60/0.15/0.10/0.15": TrustConfig(weights=TrustWeights(0.60, 0.15, 0.10, 0.15)),
    "weights 0.60/0.15/0.10/0.15, confidence_k=2": TrustConfig(
        confidence_k=2.0, weights=TrustWeights(0.60, 0.15, 0.10, 0.15)
    ),
    "weights 1/0/0/0 (accuracy x confidence factor)": TrustConfig(weights=TrustWeights(1.0, 0.0, 0.0, 0.0)),
}


@dataclass(frozen=True)
class TrendReader:
    """How a trend is read: ``both`` is the service (the day windows where they can judge, else the
    order of outcomes, as ``trust.score`` does); ``days`` and ``outcomes`` read one test alone."""

    config: TrustConfig
    tests: str = "both"  # "both", "days" or "outcomes"


DRIFT_CONFIGS: dict[str, TrendReader] = {
    "default (day windows, else the order of outcomes)": TrendReader(TrustConfig()),
    "day windows only (the previous trend)": TrendReader(TrustConfig(), "days"),
    "order of outcomes only": TrendReader(TrustConfig(), "outcomes"),
    "both, trend_z=3.29": TrendReader(TrustConfig(trend_z=3.29)),
    "both, outcome_trend_z=3.5": TrendReader(TrustConfig(outcome_trend_z=3.5)),
    "both, outcome_trend_z=4.5": TrendReader(TrustConfig(outcome_trend_z=4.5)),
    "both, outcome_trend_min_segment=30": TrendReader(TrustConfig(outcome_trend_min_segment=30)),
    # What catching weaker drops at the demo's size would cost on stable agents.
    "order of outcomes only, outcome_trend_z=2.75": TrendReader(
        TrustConfig(outcome_trend_z=2.75), "outcomes"
    ),
    "order of outcomes only, outcome_trend_z=2.5, no confirmation": TrendReader(
        TrustConfig(outcome_trend_z=2.5, outcome_trend_confirm_lag=0), "outcomes"
    ),
}


def progress_printer() -> Callable[[str], None]:
    started = time.monotonic()

    def progress(message: str) -> None:
        print(f"[{time.monotonic() - started:5.0f} s] {message}", file=sys.stderr, flush=True)

    return progress


# ---- the swarm --------------------------------------------------------------------------------
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


# ---- statistics -------------------------------------------------------------------------------
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


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


# ---- 1. ranking (and 4. calibration, from the same run) -----------------------------------------
@dataclass(frozen=True)
class AgentResult:
    agent: AgentProfile
    score: trust_values.TrustScore
    totals: dict[str, float]
    mean_hidden_probability: float  # of the recommendations it actually made (failures included)


def ranking_run(
    agents: Sequence[AgentProfile], seed: int, configs: Sequence[TrustConfig]
) -> list[list[AgentResult]]:
    """2,000 evaluated recommendations from ``Swarm.workflows``, 100 a day; every agent scored on
    its own (all-types) scope on the last day, once per config, against its workspace baseline as
    the service builds it (``Baseline.for_mix`` of the workspace's per-type buckets) and with the
    order of its outcomes (for the trend)."""
    buckets: dict[str, Buckets] = defaultdict(Buckets)
    workspace: dict[str, Buckets] = defaultdict(Buckets)
    shares: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    outcomes: dict[str, list[float]] = defaultdict(list)
    probabilities: dict[str, list[float]] = defaultdict(list)
    made = 0
    for workflow in Swarm(agents, seed=seed).workflows(WORKSPACE, RANKING_OUTCOMES):
        for recommendation in workflow.recommendations:
            if made < RANKING_OUTCOMES:
                counters = recommendation_counters(recommendation)
                recommendation_type = recommendation.request["recommendation_type"]
                buckets[recommendation.agent_id].add(made // RANKING_PER_DAY, counters)
                workspace[recommendation_type].add(made // RANKING_PER_DAY, counters)
                shares[recommendation.agent_id][recommendation_type] += 1
                outcomes[recommendation.agent_id].append(counters.get("approved", 0.0))
                probabilities[recommendation.agent_id].append(recommendation.truth.success_probability)
                made += 1
        if made >= RANKING_OUTCOMES:
            break
    today = day_of((RANKING_OUTCOMES - 1) // RANKING_PER_DAY)
    total = add_counters(b.totals() for b in workspace.values())
    results = []
    for config in configs:
        decayed = {
            t: trust.decayed_counters(b.days(), today, config.half_life_days) for t, b in workspace.items()
        }
        results.append(
            [
                AgentResult(
                    agent,
                    trust.score(
                        buckets[agent.agent_id].days(),
                        today,
                        config,
                        baseline=trust_values.Baseline.for_mix(shares[agent.agent_id], decayed, total),
                        recent_outcomes=outcomes[agent.agent_id][::-1],
                    ),
                    buckets[agent.agent_id].totals(),
                    statistics.fmean(probabilities[agent.agent_id]) if probabilities[agent.agent_id] else 0.0,
                )
                for agent in agents
            ]
        )
    return results


@dataclass(frozen=True)
class Correlations:
    overall: float
    accuracy: float
    lower_bound: float


def correlations(results: Sequence[AgentResult]) -> Correlations:
    truth = [hidden_quality(r.agent) for r in results]
    return Correlations(
        spearman(truth, [r.score.overall_trust_score for r in results]),
        spearman(truth, [r.score.accuracy_score for r in results]),
        spearman(truth, [r.score.accuracy_lower_bound for r in results]),
    )


@dataclass(frozen=True)
class CalibrationResult:
    true_bias: float
    realized_bias: float  # mean stated confidence - mean hidden probability of its draws
    recovered_bias: float  # from the calibration bins: mean confidence - observed success
    approvals_bias: float  # mean confidence - approval rate (partial counted as a failure)
    ece: float | None


def calibration_of(result: AgentResult) -> CalibrationResult:
    bins = result.score.calibration
    count = sum(b.count for b in bins)
    confidence = sum(b.count * (b.mean_confidence or 0.0) for b in bins) / count
    observed = sum(b.count * (b.observed_success or 0.0) for b in bins) / count
    evaluated = result.totals["evaluated"]
    return CalibrationResult(
        true_bias=result.agent.calibration_bias,
        realized_bias=result.totals["confidence_sum"] / evaluated - result.mean_hidden_probability,
        recovered_bias=confidence - observed,
        approvals_bias=result.totals["confidence_sum"] / evaluated
        - result.totals.get("approved", 0.0) / evaluated,
        ece=trust_values.expected_calibration_error(bins),
    )


# ---- 2. routing -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Task:
    day: int
    recommendation_type: str
    candidates: tuple[str, ...]
    outcomes: dict[str, RoutedOutcome]  # per candidate: the same draw whoever picks it
    best: str  # the candidate with the highest expected success (the oracle's pick)


def task_stream(agents: Sequence[AgentProfile], seed: int) -> list[Task]:
    rng = random.Random(seed)
    by_id = {a.agent_id: a for a in agents}
    handlers = {t: sorted(a.agent_id for a in agents if a.handles(t)) for t in RECOMMENDATION_TYPES}
    types = [t for t in RECOMMENDATION_TYPES if handlers[t]]
    tasks = []
    for number in range(ROUTING_ROUNDS):
        recommendation_type = rng.choice(types)
        pool = handlers[recommendation_type]
        size = min(rng.randint(*ROUTING_CANDIDATES), len(pool))
        candidates = tuple(sorted(rng.sample(pool, size)))
        outcomes = {
            agent_id: simulate_outcome(
                random.Random(rng.getrandbits(64)), by_id[agent_id], recommendation_type
            )
            for agent_id in candidates
        }
        best = max(candidates, key=lambda a: (outcomes[a].expected, a))
        tasks.append(Task(number // ROUTING_PER_DAY, recommendation_type, candidates, outcomes, best))
    return tasks


class Policy:
    name = ""
    untimed_seconds = 0.0  # spent inside choose() on measurements that are not the decision

    def choose(self, task: Task) -> str:
        raise NotImplementedError

    def update(self, task: Task, agent_id: str, outcome: RoutedOutcome) -> None:
        """Learn from the outcome (a no-op for policies that do not learn)."""


class OraclePolicy(Policy):
    name = "oracle (best expected success per task)"

    def choose(self, task: Task) -> str:
        return task.best


class RandomPolicy(Policy):
    name = "uniform random"

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def choose(self, task: Task) -> str:
        return self.rng.choice(task.candidates)


class TrustPolicy(Policy):
    """``routing.select`` over candidates built as the service builds them: the approval posterior
    (``approval.approval_posterior``) of each agent x type scope.

    A scope is re-scored when its counters change or the day turns (decay); otherwise its last
    score is reused, which is the number ``trust.score`` would return again.
    """

    def __init__(
        self,
        seed: int,
        config: TrustConfig,
        mode: routing.RoutingMode = routing.RoutingMode.EXPLORE,
        *,
        time_default_draws: bool = False,
        name: str = "",
    ) -> None:
        self.rng = random.Random(seed)
        self.timing_rng = random.Random(seed + 1)  # so timing the default draws leaves the stream alone
        self.config = config
        self.mode = mode
        draws = (
            f", propensity_draws={ROUTING_PROPENSITY_DRAWS}" if mode is routing.RoutingMode.EXPLORE else ""
        )
        self.name = name or f"service: pooled approval posterior + routing.select ({mode.value}{draws})"
        self.buckets: dict[tuple[str, str], Buckets] = defaultdict(Buckets)
        self.cache: dict[tuple[str, str], tuple[int, routing.Candidate]] = {}
        self.time_default_draws = time_default_draws
        self.select_seconds = 0.0
        self.default_draw_seconds: list[float] = []
        self.decisions = 0

    def posterior(self, scope: tuple[str, str], day: int) -> routing.Candidate:
        # What the service's routing does (TrustService.route): the approval posterior of the type,
        # pooled with the agent's all-types record (the sum of its type scopes here).
        agent_days = [d for (agent, _), b in self.buckets.items() if agent == scope[0] for d in b.days()]
        posterior = approval.approval_posterior(
            self.buckets[scope].days(), agent_days, day_of(day), self.config
        )
        return routing.Candidate(scope[0], posterior.alpha, posterior.beta, posterior.lower_bound)

    def candidate(self, agent_id: str, recommendation_type: str, day: int) -> routing.Candidate:
        scope = (agent_id, recommendation_type)
        cached = self.cache.get(scope)
        if cached is not None and cached[0] == day:
            return cached[1]
        candidate = self.posterior(scope, day)
        self.cache[scope] = (day, candidate)
        return candidate

    def choose(self, task: Task) -> str:
        candidates = [self.candidate(a, task.recommendation_type, task.day) for a in task.candidates]
        started = time.perf_counter()
        choice = routing.select(
            candidates, 1, self.rng, mode=self.mode, propensity_draws=ROUTING_PROPENSITY_DRAWS
        )
        self.select_seconds += time.perf_counter() - started
        if self.time_default_draws and self.decisions % PROPENSITY_TIMING_EVERY == 0:
            started = time.perf_counter()
            routing.select(candidates, 1, self.timing_rng, mode=self.mode)
            self.default_draw_seconds.append(time.perf_counter() - started)
            self.untimed_seconds += self.default_draw_seconds[-1]
        self.decisions += 1
        return choice[0].agent_id

    def update(self, task: Task, agent_id: str, outcome: RoutedOutcome) -> None:
        scope = (agent_id, task.recommendation_type)
        self.buckets[scope].add(task.day, outcome.counters)
        self.cache.pop(scope, None)


class ApprovalsPolicy(TrustPolicy):
    """A what-if, not the service: a Beta posterior of the type's approvals alone (a partial outcome
    as a failure, as MABWiser's binary reward does), without the service's pooling across types,
    decayed with ``half_life_days``."""

    def posterior(self, scope: tuple[str, str], day: int) -> routing.Candidate:
        decayed = trust.decayed_counters(self.buckets[scope].days(), day_of(day), self.config.half_life_days)
        n, approved = decayed.get("evaluated", 0.0), decayed.get("approved", 0.0)
        alpha, beta = self.config.prior_alpha + approved, self.config.prior_beta + n - approved
        return routing.Candidate(scope[0], alpha, beta, 0.0)


class MabwiserPolicy(Policy):
    """MABWiser's Thompson sampling, one bandit per type over the agents that handle it. Its arms
    are fixed, so each bandit draws all its arms and the best draw among the task's candidates
    wins. It learns from binary rewards (approved or not), as its Beta model requires."""

    name = "MABWiser ThompsonSampling (one MAB per type)"

    def __init__(self, seed: int, agents: Sequence[AgentProfile]) -> None:
        self.bandits: dict[str, MAB] = {}
        for offset, recommendation_type in enumerate(RECOMMENDATION_TYPES):
            arms = sorted(a.agent_id for a in agents if a.handles(recommendation_type))
            if not arms:
                continue
            bandit = MAB(arms, LearningPolicy.ThompsonSampling(), seed=seed * 100 + offset)
            bandit.fit([], [])
            self.bandits[recommendation_type] = bandit

    def choose(self, task: Task) -> str:
        draws = self.bandits[task.recommendation_type].predict_expectations()
        return max(task.candidates, key=lambda a: (draws[a], a))

    def update(self, task: Task, agent_id: str, outcome: RoutedOutcome) -> None:
        self.bandits[task.recommendation_type].partial_fit([agent_id], [int(outcome.success)])


@dataclass
class PolicyResult:
    name: str
    rewards: list[bool] = field(default_factory=list)  # per task: did the pick succeed
    expected: list[float] = field(default_factory=list)  # per task: the pick's success probability
    picks_best: int = 0
    decision_seconds: float = 0.0

    @property
    def reward(self) -> int:
        return sum(self.rewards)

    def share(self, oracle: PolicyResult, window: slice = slice(None)) -> float:
        """Realized reward as a share of the oracle's on the same tasks and draws."""
        return sum(self.rewards[window]) / sum(oracle.rewards[window])

    def expected_share(self, oracle: PolicyResult, window: slice = slice(None)) -> float:
        return sum(self.expected[window]) / sum(oracle.expected[window])


def run_policy(policy: Policy, tasks: Sequence[Task]) -> PolicyResult:
    result = PolicyResult(policy.name)
    for task in tasks:
        started = time.perf_counter()
        agent_id = policy.choose(task)
        result.decision_seconds += time.perf_counter() - started
        outcome = task.outcomes[agent_id]
        result.rewards.append(outcome.success)
        result.expected.append(outcome.expected)
        result.picks_best += agent_id == task.best
        policy.update(task, agent_id, outcome)
    result.decision_seconds -= policy.untimed_seconds
    return result


@dataclass
class RoutingRun:
    seed: int
    results: list[PolicyResult]  # the oracle first, then the policies in ROUTING_POLICIES order
    trust_policy: TrustPolicy  # the service's policy, for its timings


DEMO_SWARM_AGENTS = 8
# The service's policy first, then the baselines, then what-ifs (not the service).
ROUTING_WHAT_IFS = ("no decay", "approvals", "approvals, no decay")
ROUTING_POLICIES = ("trust", "mabwiser", "random", "exploit", *ROUTING_WHAT_IFS)


def routing_run(agents: Sequence[AgentProfile], seed: int, *, detailed: bool) -> RoutingRun:
    """Every policy on the same tasks and draws; the detailed run also times the default select()."""
    tasks = task_stream(agents, seed)
    trust_policy = TrustPolicy(seed, TrustConfig(), time_default_draws=detailed)
    explore = "what-if: routing.select (explore)"
    policies: dict[str, Policy] = {
        "trust": trust_policy,
        "mabwiser": MabwiserPolicy(seed, agents),
        "random": RandomPolicy(seed),
        "exploit": TrustPolicy(seed, TrustConfig(), routing.RoutingMode.EXPLOIT),
        "no decay": TrustPolicy(
            seed,
            TrustConfig(routing_half_life_days=math.inf),
            name=f"{explore}, the service's posterior without decay",
        ),
        "approvals": ApprovalsPolicy(
            seed, TrustConfig(), name=f"{explore}, approvals posterior without pooling, 30-day half-life"
        ),
        "approvals, no decay": ApprovalsPolicy(
            seed,
            TrustConfig(half_life_days=math.inf),
            name=f"{explore}, approvals posterior without pooling or decay",
        ),
    }
    results = [run_policy(OraclePolicy(), tasks), *(run_policy(policies[k], tasks) for k in ROUTING_POLICIES)]
    return RoutingRun(seed, results, trust_policy)


# ---- 2b. routing on a swarm whose best agents are close --------------------------------------
CLOSE_TYPE = "analytics"
# Hidden success probabilities: the three best within 1.5 points of each other (the shape).
CLOSE_PROBABILITIES = (0.967, 0.960, 0.952, 0.92, 0.88, 0.82, 0.75, 0.65)
CLOSE_ROUNDS = 3_000
CLOSE_SEEDS = tuple(range(1, 6))
TARGET_CLOSE_GAP = 0.01  # explore-mode success within 1 point of always asking the best agent


def close_agents() -> tuple[AgentProfile, ...]:
    return tuple(
        AgentProfile(f"CLOSE-{i + 1:02d}", f"Close{i + 1:02d}", {CLOSE_TYPE: p}, mean_latency_ms=1_500)
        for i, p in enumerate(CLOSE_PROBABILITIES)
    )


def close_task_stream(agents: Sequence[AgentProfile], seed: int) -> list[Task]:
    """3,000 tasks of one type, every agent a candidate each time, 250 a day, common random numbers."""
    rng = random.Random(seed)
    candidates = tuple(sorted(a.agent_id for a in agents))
    by_id = {a.agent_id: a for a in agents}
    tasks = []
    for number in range(CLOSE_ROUNDS):
        outcomes = {
            agent_id: simulate_outcome(random.Random(rng.getrandbits(64)), by_id[agent_id], CLOSE_TYPE)
            for agent_id in candidates
        }
        best = max(candidates, key=lambda a: (outcomes[a].expected, a))
        tasks.append(Task(number // ROUTING_PER_DAY, CLOSE_TYPE, candidates, outcomes, best))
    return tasks


@dataclass(frozen=True)
class CloseRun:
    results: list[PolicyResult]  # always-the-best first, then CLOSE_POLICIES


CLOSE_POLICIES = ("trust", "exploit", "mabwiser", "random")


def close_run(seed: int) -> CloseRun:
    agents = close_agents()
    tasks = close_task_stream(agents, seed)
    policies: dict[str, Policy] = {
        "trust": TrustPolicy(seed, TrustConfig()),
        "exploit": TrustPolicy(seed, TrustConfig(), routing.RoutingMode.EXPLOIT),
        "mabwiser": MabwiserPolicy(seed, agents),
        "random": RandomPolicy(seed),
    }
    oracle = run_policy(OraclePolicy(), tasks)
    oracle.name = "always the best single agent"
    return CloseRun([oracle, *(run_policy(policies[k], tasks) for k in CLOSE_POLICIES)])


def close_section(runs: Sequence[CloseRun]) -> tuple[str, float]:
    """The table, and the service's mean gap to the best agent (expected success, all tasks)."""
    last = slice(CLOSE_ROUNDS - ROUTING_WINDOW, CLOSE_ROUNDS)

    def mean(pick: Callable[[PolicyResult], float], index: int) -> float:
        return statistics.fmean(pick(run.results[index]) for run in runs)

    rows = []
    for index, result in enumerate(runs[0].results):
        expected = mean(lambda r: statistics.fmean(r.expected), index)
        rows.append(
            [
                result.name,
                f"{mean(lambda r: r.reward / CLOSE_ROUNDS, index):.3f}",
                f"{expected:.3f}",
                f"{mean(lambda r: statistics.fmean(r.expected[last]), index):.3f}",
                f"{(expected - mean(lambda r: statistics.fmean(r.expected), 0)) * 100:+.2f}",
                f"{mean(lambda r: r.picks_best / CLOSE_ROUNDS, index):.3f}",
            ]
        )
    gap = mean(lambda r: statistics.fmean(r.expected), 0) - mean(lambda r: statistics.fmean(r.expected), 1)
    text = "\n\n".join(
        [
            f"### Routing when the best agents are close: {len(CLOSE_PROBABILITIES)} agents of one type, success "
            f"{', '.join(f'{p:.3f}' for p in CLOSE_PROBABILITIES)}, {CLOSE_ROUNDS:,} tasks, every agent a candidate, "
            f"k=1, {ROUTING_PER_DAY} tasks/day, cold start, mean of {len(CLOSE_SEEDS)} seeds",
            "Success: approved outcomes per task (realized), and the mean success probability of the picks "
            "(expected; less noisy), over all tasks and the last 1,000; gap: expected success minus that of always "
            "asking the best agent, in points.",
            markdown_table(
                [
                    "policy",
                    "success (realized)",
                    "success (expected)",
                    f"expected, tasks {CLOSE_ROUNDS - ROUTING_WINDOW + 1:,}-{CLOSE_ROUNDS:,}",
                    "gap, points",
                    "picks the best",
                ],
                rows,
            ),
        ]
    )
    return text, gap


def propensity_zero_error() -> str:
    """What ``select`` does with ``propensity_draws=0``."""
    candidates = [routing.Candidate("a", 1.0, 1.0, 0.05), routing.Candidate("b", 1.0, 1.0, 0.05)]
    try:
        routing.select(candidates, 1, random.Random(0), propensity_draws=0)
    except (ValueError, ZeroDivisionError) as error:
        return f"raises {type(error).__name__} ({error})"
    return "returns without error"


# ---- 3. drift ---------------------------------------------------------------------------------
def drift_agent(drifting: bool, probability: float = DRIFT_BEFORE) -> AgentProfile:
    return AgentProfile(
        "DRIFT-01" if drifting else "STABLE-01",
        "Drifter" if drifting else "Steady",
        {"analytics": probability},
        confidence_noise=0.05,
        mean_latency_ms=2_000,
        drift=Drift(DRIFT_PRE_DAYS * DRIFT_PER_DAY, {"analytics": DRIFT_AFTER}) if drifting else None,
    )


def trend_of(
    days: Sequence[DayCounters], outcomes: Sequence[float], today: date, reader: TrendReader, *, exact: bool
) -> Trend:
    """The trend as ``reader`` reads it. ``outcomes``: approvals (1/0), newest first. ``exact``
    calls ``trust.score`` itself and checks that the shortcut (``trust._trend`` where
    ``trust.day_windows_can_judge``, else ``trust.outcome_trend``: where ``score`` takes its trend
    from) agrees; otherwise only the shortcut runs (``score`` spends most of its time on the two
    Beta quantiles)."""
    by_days = trust._trend(days, today, reader.config)[0]
    by_order = trust.outcome_trend(outcomes, reader.config).trend
    service = by_days if trust.day_windows_can_judge(days, today, reader.config) else by_order
    trend = {"days": by_days, "outcomes": by_order}.get(reader.tests, service)
    if exact:
        reported = trust.score(days, today, reader.config, recent_outcomes=outcomes).trend
        if reported is not trend:
            raise RuntimeError(f"trust.score reports {reported}, the shortcut {trend}: the shortcut is wrong")
    return trend


def daily_trends(
    agent: AgentProfile,
    seed: int,
    readers: Sequence[TrendReader],
    first_day: int,
    *,
    exact: bool,
    until_declining: bool,
) -> list[list[Trend]]:
    """The agent alone, 20 recommendations a day; per reader, its trend at the end of each day from
    ``first_day`` on (the first reader through ``trust.score`` when ``exact``). With
    ``until_declining``, a reader's checks stop at its first "declining"."""
    days = DRIFT_PRE_DAYS + DRIFT_POST_DAYS
    buckets = Buckets()
    approvals: list[float] = []
    trends: list[list[Trend]] = [[] for _ in readers]
    pending = list(range(len(readers)))
    for number, workflow in enumerate(Swarm([agent], seed=seed).workflows(WORKSPACE, days * DRIFT_PER_DAY)):
        day = number // DRIFT_PER_DAY
        for recommendation in workflow.recommendations:
            counters = recommendation_counters(recommendation)
            buckets.add(day, counters)
            approvals.append(counters.get("approved", 0.0))
        if (number + 1) % DRIFT_PER_DAY or day < first_day:
            continue
        day_buckets = buckets.days()
        newest_first = approvals[::-1]
        for index in list(pending):
            reader = readers[index]
            trend = trend_of(day_buckets, newest_first, day_of(day), reader, exact=exact and index == 0)
            trends[index].append(trend)
            if until_declining and trend is Trend.DECLINING:
                pending.remove(index)
        if not pending:
            break
    return trends


@dataclass(frozen=True)
class DriftResult:
    delays: list[int | None]  # outcomes after the drop until the first "declining" (None: never)
    false_alarms: int  # stable agents (p = 0.8) flagged "declining" at least once over the horizon
    flagged_checks: int
    checks: int
    false_alarms_half: int  # the same for stable agents with p = 0.5

    def _censored(self) -> list[int]:
        beyond = DRIFT_POST_DAYS * DRIFT_PER_DAY + DRIFT_PER_DAY  # undetected: beyond the horizon
        return [d if d is not None else beyond for d in self.delays]

    @property
    def detected(self) -> list[int]:
        return [d for d in self.delays if d is not None]

    @property
    def median_delay(self) -> float:
        return statistics.median(self._censored())

    @property
    def p90_delay(self) -> float:
        return percentile(self._censored(), 0.9)

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / len(self.delays)


def drift_experiment(configs: Sequence[TrendReader]) -> list[DriftResult]:
    """Per seed: a drifting agent from the drop on, a stable agent with its profile and one at
    p = 0.5 over the whole horizon. The first reader is read through ``trust.score``."""
    count = len(configs)
    delays: list[list[int | None]] = [[] for _ in configs]
    alarms, flagged, alarms_half = [0] * count, [0] * count, [0] * count
    checks = 0
    for seed in DRIFT_SEEDS:
        drifting = daily_trends(
            drift_agent(True), seed, configs, DRIFT_PRE_DAYS, exact=True, until_declining=True
        )
        stable = daily_trends(drift_agent(False), seed, configs, 0, exact=True, until_declining=False)
        half = daily_trends(drift_agent(False, 0.5), seed, configs, 0, exact=False, until_declining=True)
        checks += len(stable[0])
        for index in range(count):
            first = next((n for n, t in enumerate(drifting[index]) if t is Trend.DECLINING), None)
            delays[index].append(None if first is None else (first + 1) * DRIFT_PER_DAY)
            flags = sum(t is Trend.DECLINING for t in stable[index])
            alarms[index] += flags > 0
            flagged[index] += flags
            alarms_half[index] += Trend.DECLINING in half[index]
    return [DriftResult(delays[i], alarms[i], flagged[i], checks, alarms_half[i]) for i in range(count)]


# ---- output -----------------------------------------------------------------------------------


def signed(value: float) -> str:
    return f"{value:+.3f}"


def median_min(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.3f} / {min(values):.3f}"


def ranking_section(results: Sequence[AgentResult], spread: Sequence[Correlations]) -> str:
    truth = [hidden_quality(r.agent) for r in results]
    true_rank = ranks([-t for t in truth])
    trust_rank = ranks([-r.score.overall_trust_score for r in results])
    rows = []
    for i in sorted(range(len(results)), key=lambda i: true_rank[i]):
        s = results[i].score
        rows.append(
            [
                results[i].agent.agent_id,
                f"{truth[i]:.3f}",
                f"{s.evidence.evaluated}",
                f"{s.accuracy_score:.3f}",
                f"{s.accuracy_lower_bound:.3f}",
                f"{s.consistency_score:.3f}",
                f"{s.timeliness_score:.3f}",
                f"{s.reliability_score:.3f}",
                f"{s.confidence_factor:.3f}",
                f"{s.overall_trust_score:.3f}",
                f"{true_rank[i]:.0f} / {trust_rank[i]:.0f}",
            ]
        )
    headers = [
        "agent",
        "hidden p",
        "evaluated",
        "accuracy",
        "lower bound",
        "consistency",
        "timeliness",
        "reliability",
        "conf. factor",
        "overall",
        "rank true / trust",
    ]
    seed = RANKING_SEEDS[0]
    first = spread[0]
    return "\n\n".join(
        [
            f"### Ranking: trust vs. hidden quality ({len(results)} agents, {RANKING_OUTCOMES:,} evaluated "
            f"outcomes, {RANKING_PER_DAY}/day over {RANKING_OUTCOMES // RANKING_PER_DAY} days, default TrustConfig)",
            f"Stream seed {seed}, agents by hidden mean success probability (rank 1 = best); each agent "
            "scored on its all-types scope on the last day:",
            markdown_table(headers, rows),
            markdown_table(
                ["Spearman vs. hidden p", f"seed {seed}", f"median / min over {len(spread)} stream seeds"],
                [
                    ["overall_trust_score", f"{first.overall:.3f}", median_min([c.overall for c in spread])],
                    ["accuracy_score", f"{first.accuracy:.3f}", median_min([c.accuracy for c in spread])],
                    [
                        "accuracy_lower_bound",
                        f"{first.lower_bound:.3f}",
                        median_min([c.lower_bound for c in spread]),
                    ],
                ],
            ),
        ]
    )


def routing_row(result: PolicyResult, oracle: PolicyResult, shares: Sequence[float]) -> list[str]:
    first, last = slice(0, ROUTING_WINDOW), slice(ROUTING_ROUNDS - ROUTING_WINDOW, ROUTING_ROUNDS)
    return [
        result.name,
        f"{result.reward:,}",
        f"{result.share(oracle):.3f}",
        f"{result.expected_share(oracle):.3f}",
        f"{result.expected_share(oracle, first):.3f}",
        f"{result.expected_share(oracle, last):.3f}",
        f"{result.picks_best / ROUTING_ROUNDS:.3f}",
        f"{statistics.fmean(shares):.3f} / {min(shares):.3f}",
        f"{result.decision_seconds / ROUTING_ROUNDS * 1e3:.3f}",
    ]


ROUTING_HEADERS = [
    "policy",
    "reward",
    "share of oracle",
    "expected share",
    f"expected share, tasks 1-{ROUTING_WINDOW:,}",
    f"tasks {ROUTING_ROUNDS - ROUTING_WINDOW + 1:,}-{ROUTING_ROUNDS:,}",
    "picks the best",
    f"share, mean / min over {len(ROUTING_SEEDS)} seeds",
    "decision ms",
]


def routing_section(runs: Sequence[RoutingRun], zero_draws: str) -> str:
    detail = runs[0]

    rows = [
        routing_row(result, detail.results[0], [run.results[i].share(run.results[0]) for run in runs])
        for i, result in enumerate(detail.results)
    ]
    policy = detail.trust_policy
    timing_rows = [
        [
            f"routing.select, propensity_draws={ROUTING_PROPENSITY_DRAWS}",
            f"{policy.select_seconds / policy.decisions * 1e3:.3f}",
            f"{policy.decisions:,}",
        ],
        [
            f"routing.select, propensity_draws={routing.PROPENSITY_DRAWS:,} (default)",
            f"{statistics.median(policy.default_draw_seconds) * 1e3:.3f} (median)",
            f"{len(policy.default_draw_seconds)} (every {PROPENSITY_TIMING_EVERY}th decision)",
        ],
    ]
    return "\n\n".join(
        [
            f"### Routing: {ROUTING_ROUNDS:,} tasks, {ROUTING_CANDIDATES[0]}-{ROUTING_CANDIDATES[1]} candidates "
            f"each, k=1, {ROUTING_PER_DAY} tasks/day, cold start, common random numbers",
            f"Stream seed {detail.seed}. Reward: successes (approved outcomes). Share of oracle: reward / the "
            "oracle's reward on the same tasks and draws; expected share: the same with each pick's success "
            f"probability in place of its draw (less noisy). The last {len(ROUTING_WHAT_IFS)} rows are what-ifs, not the "
            "service: its posterior without decay, and a posterior of the type's approvals alone (no pooling).",
            markdown_table(ROUTING_HEADERS, rows),
            f"`routing.select(..., propensity_draws=0)` {zero_draws}; the loop passes "
            f"`propensity_draws={ROUTING_PROPENSITY_DRAWS}` (the propensities are not used here). Decision ms "
            "above includes scoring the candidates; select() alone:",
            markdown_table(["select() alone", "ms per decision", "decisions timed"], timing_rows),
        ]
    )


DRIFT_HEADERS = [
    "trend config",
    "drops detected",
    "outcomes to detect: median",
    "p90",
    "max",
    f"stable p={DRIFT_BEFORE}: ever flagged declining",
    "daily checks flagged",
    "stable p=0.5: ever flagged",
]


def drift_row(label: str, result: DriftResult) -> list[str]:
    detected, seeds = result.detected, len(result.delays)
    return [
        label,
        f"{len(detected)}/{seeds}",
        f"{result.median_delay:.0f}",
        f"{result.p90_delay:.0f}",
        f"{max(detected)}" if detected else "—",
        f"{result.false_alarms}/{seeds} ({result.false_alarm_rate:.1%})",
        f"{result.flagged_checks / result.checks:.2%}",
        f"{result.false_alarms_half}/{seeds} ({result.false_alarms_half / seeds:.1%})",
    ]


def drift_section(results: Mapping[str, DriftResult]) -> str:
    return "\n\n".join(
        [
            f"### Drift: success {DRIFT_BEFORE} → {DRIFT_AFTER} after {DRIFT_PRE_DAYS} days, {DRIFT_PER_DAY} "
            f"outcomes/day, trend read at the end of each day, {len(DRIFT_SEEDS)} seeds",
            f"Outcomes to detect: outcomes after the drop until the first `declining` (a multiple of "
            f"{DRIFT_PER_DAY}, as the trend is read daily; undetected within {DRIFT_POST_DAYS} days counts as "
            f"beyond). False alarms: a stable agent (the same profile without the drop, and one at p=0.5) read "
            f"at the end of each of the same {DRIFT_PRE_DAYS + DRIFT_POST_DAYS} days; daily checks flagged: the "
            "share of those reads that say `declining`. The first row is the service, read through `trust.score` "
            "(the agent's buckets and its last outcomes in order); the others through the functions `score` takes "
            "its trend from (`trust._trend` where the day windows can judge, else `trust.outcome_trend`; checked "
            "equal on every first-row read).",
            markdown_table(DRIFT_HEADERS, [drift_row(name, result) for name, result in results.items()]),
        ]
    )


def calibration_section(results: Sequence[AgentResult]) -> tuple[str, float, float]:
    calibrations = [calibration_of(r) for r in results]
    rows = [
        [
            r.agent.agent_id,
            f"{hidden_quality(r.agent):.3f}",
            signed(c.true_bias),
            signed(c.realized_bias),
            signed(c.recovered_bias),
            signed(c.approvals_bias),
            f"{c.ece:.3f}" if c.ece is not None else "—",
        ]
        for r, c in sorted(zip(results, calibrations, strict=True), key=lambda rc: rc[1].true_bias)
    ]

    def errors(pick: Callable[[CalibrationResult], float]) -> tuple[float, float]:
        return (
            statistics.fmean(abs(pick(c) - c.true_bias) for c in calibrations),
            statistics.fmean(pick(c) - c.true_bias for c in calibrations),
        )

    bins, approvals, realized = (
        errors(lambda c: c.recovered_bias),
        errors(lambda c: c.approvals_bias),
        errors(lambda c: c.realized_bias),
    )
    summary = markdown_table(
        ["bias estimate", "MAE vs. true bias", "mean signed error"],
        [
            [
                "calibration bins: mean confidence - observed success (partial = 0.5)",
                f"{bins[0]:.3f}",
                signed(bins[1]),
            ],
            [
                "mean confidence - approval rate (partial = failure)",
                f"{approvals[0]:.3f}",
                signed(approvals[1]),
            ],
            [
                "realized: mean confidence - mean hidden p of its draws",
                f"{realized[0]:.3f}",
                signed(realized[1]),
            ],
        ],
    )
    text = "\n\n".join(
        [
            f"### Calibration: bias recovered from the calibration bins (the ranking run, seed {RANKING_SEEDS[0]})",
            "True bias: the profile's `calibration_bias` (stated confidence = believed p + bias + noise, clipped "
            "to [0, 1]). Realized: what this sample's confidences and hidden probabilities (failed executions "
            "degrade p) imply, the best any estimate from outcomes can aim at.",
            markdown_table(
                ["agent", "hidden p", "true bias", "realized", "from bins", "from approvals", "ECE"],
                rows,
            ),
            summary,
        ]
    )
    return text, bins[0], approvals[0]


def config_section(ranking: Mapping[str, Sequence[Correlations]]) -> str:
    rows = [
        [
            name,
            f"{spread[0].overall:.3f}",
            f"{statistics.median(c.overall for c in spread):.3f}",
            f"{min(c.overall for c in spread):.3f}",
            f"{sum(c.overall >= TARGET_SPEARMAN for c in spread)}/{len(spread)}",
        ]
        for name, spread in ranking.items()
    ]
    return "\n\n".join(
        [
            "### Ranking under other TrustConfig values (same streams)",
            markdown_table(
                [
                    "config",
                    f"Spearman(overall), seed {RANKING_SEEDS[0]}",
                    f"median over {len(RANKING_SEEDS)} seeds",
                    "min",
                    f"seeds >= {TARGET_SPEARMAN}",
                ],
                rows,
            ),
        ]
    )


DEMO_TREND_SEEDS = tuple(range(50))
DEMO_TREND_WORKFLOWS = 300  # make demo's default
DEGRADING_AGENT = "ANLY-01"


def demo_trend_section() -> tuple[str, float, float]:
    """The demo's shape: ``default_swarm`` (8 agents; ANLY-01 drops from ~0.8 to ~0.2 after 40
    recommendations), 300 workflows, every outcome on the same day (the demo runs in minutes).
    Day windows cannot see a change within one day; the order of outcomes can. Returns the text,
    the share of seeds where ANLY-01 reads ``declining`` and the share of the other agents' reads
    that are not ``stable``."""
    rows = []
    caught = flagged = others = 0
    for seed in DEMO_TREND_SEEDS:
        agents = swarm.default_swarm(DEMO_SWARM_AGENTS, seed=seed)
        buckets: dict[str, Buckets] = defaultdict(Buckets)
        approvals: dict[str, list[float]] = defaultdict(list)
        for workflow in Swarm(agents, seed=seed).workflows(WORKSPACE, DEMO_TREND_WORKFLOWS):
            for recommendation in workflow.recommendations:
                counters = recommendation_counters(recommendation)
                buckets[recommendation.agent_id].add(0, counters)
                approvals[recommendation.agent_id].append(counters.get("approved", 0.0))
        for agent_id, agent_buckets in buckets.items():
            read = trust.score(agent_buckets.days(), day_of(0), recent_outcomes=approvals[agent_id][::-1])
            if agent_id == DEGRADING_AGENT:
                caught += read.trend is Trend.DECLINING
                if seed < 5:
                    rows.append(
                        [
                            str(seed),
                            read.trend.value,
                            f"{read.trend_baseline_outcomes} / {read.trend_recent_outcomes}",
                            f"{read.baseline_success_rate:.2f} → {read.recent_success_rate:.2f}"
                            if read.trend_basis
                            else "—",
                        ]
                    )
            else:
                others += 1
                flagged += read.trend is not Trend.STABLE
    seeds = len(DEMO_TREND_SEEDS)
    text = "\n\n".join(
        [
            f"### Trend on the demo's shape: {DEMO_SWARM_AGENTS} agents of `default_swarm`, "
            f"{DEMO_TREND_WORKFLOWS} workflows, all on one day, {seeds} seeds",
            f"{DEGRADING_AGENT} reads `declining` on {caught}/{seeds} seeds ({caught / seeds:.0%}); the other "
            f"agents read something other than `stable` on {flagged}/{others} reads ({flagged / others:.1%}). "
            "The day windows alone (the previous trend) read `stable` on every one of them. First seeds:",
            markdown_table(
                ["seed", f"{DEGRADING_AGENT} trend", "outcomes before / after the change point", "approval"],
                rows,
            ),
        ]
    )
    return text, caught / seeds, flagged / others


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--strict", action="store_true", help="exit with status 1 when a target fails")
    args = parser.parse_args(argv)
    command = "python -m bench.trust_quality" + (" --strict" if args.strict else "")
    progress = progress_printer()
    agents = bench_agents()

    progress(f"ranking: {len(RANKING_SEEDS)} streams x {len(RANKING_CONFIGS)} configs")
    ranking: dict[str, list[Correlations]] = {name: [] for name in RANKING_CONFIGS}
    detail: list[AgentResult] = []
    for seed in RANKING_SEEDS:
        per_config = ranking_run(agents, seed, list(RANKING_CONFIGS.values()))
        detail = detail or per_config[0]
        for name, results in zip(RANKING_CONFIGS, per_config, strict=True):
            ranking[name].append(correlations(results))

    progress(f"routing: {len(ROUTING_SEEDS)} streams of {ROUTING_ROUNDS:,} tasks")
    runs = [routing_run(agents, seed, detailed=seed == ROUTING_SEEDS[0]) for seed in ROUTING_SEEDS]
    progress(
        f"routing: the same on the demo swarm ({DEMO_SWARM_AGENTS} agents of localdev.swarm.default_swarm)"
    )
    demo_agents = swarm.default_swarm(DEMO_SWARM_AGENTS, seed=0)
    demo_runs = [routing_run(demo_agents, seed, detailed=False) for seed in ROUTING_SEEDS]

    progress(f"routing: {len(CLOSE_SEEDS)} streams of {CLOSE_ROUNDS:,} tasks, the best agents close")
    close_text, close_gap = close_section([close_run(seed) for seed in CLOSE_SEEDS])

    progress(f"trend on the demo's shape: {len(DEMO_TREND_SEEDS)} seeds")
    demo_trend_text, demo_caught, demo_flagged = demo_trend_section()

    progress(f"drift: {len(DRIFT_SEEDS)} seeds x {len(DRIFT_CONFIGS)} trend configs")
    drift = dict(zip(DRIFT_CONFIGS, drift_experiment(list(DRIFT_CONFIGS.values())), strict=True))

    calibration_text, mae_bins, mae_approvals = calibration_section(detail)
    spearman_median = statistics.median(c.overall for c in ranking["default"])
    routing_share = statistics.fmean(run.results[1].share(run.results[0]) for run in runs)
    demo_share = statistics.fmean(run.results[1].share(run.results[0]) for run in demo_runs)
    demo_mabwiser = statistics.fmean(run.results[2].share(run.results[0]) for run in demo_runs)
    default_drift = drift[next(iter(DRIFT_CONFIGS))]
    targets = [
        (
            f"Spearman(overall_trust_score, hidden p) >= {TARGET_SPEARMAN} (median of {len(RANKING_SEEDS)} seeds)",
            f"{spearman_median:.3f}",
            spearman_median >= TARGET_SPEARMAN,
        ),
        (
            f"routing reward >= {TARGET_ORACLE_SHARE:.0%} of the oracle's, {AGENT_COUNT} bench agents "
            f"(mean of {len(ROUTING_SEEDS)} seeds)",
            f"{routing_share:.1%}",
            routing_share >= TARGET_ORACLE_SHARE,
        ),
        (
            f"routing reward >= {TARGET_ORACLE_SHARE:.0%} of the oracle's, the {DEMO_SWARM_AGENTS}-agent demo "
            f"swarm (mean of {len(ROUTING_SEEDS)} seeds; MABWiser {demo_mabwiser:.1%})",
            f"{demo_share:.1%}",
            demo_share >= TARGET_ORACLE_SHARE,
        ),
        (
            f"drop {DRIFT_BEFORE} → {DRIFT_AFTER} flagged declining within {TARGET_DETECTION_OUTCOMES} outcomes "
            "(median)",
            f"{default_drift.median_delay:.0f} outcomes",
            default_drift.median_delay <= TARGET_DETECTION_OUTCOMES,
        ),
        (
            f"stable agents ever flagged declining over {DRIFT_PRE_DAYS + DRIFT_POST_DAYS} days <= "
            f"{TARGET_FALSE_ALARM_RATE:.0%}",
            f"{default_drift.false_alarm_rate:.1%}",
            default_drift.false_alarm_rate <= TARGET_FALSE_ALARM_RATE,
        ),
        (
            f"routing, best agents within 1.5 points: explore-mode success within {TARGET_CLOSE_GAP * 100:.0f} "
            f"point of always asking the best agent after {CLOSE_ROUNDS:,} outcomes (expected success, mean of "
            f"{len(CLOSE_SEEDS)} seeds)",
            f"{close_gap * 100:.2f} points behind",
            close_gap <= TARGET_CLOSE_GAP,
        ),
        (
            f"demo's shape: {DEGRADING_AGENT} declining (share of {len(DEMO_TREND_SEEDS)} seeds; other agents "
            "flagged: no target)",
            f"{demo_caught:.0%} (others {demo_flagged:.1%})",
            None,
        ),
        (
            "calibration: MAE of the recovered bias vs. the true bias (no target)",
            f"{mae_bins:.3f} (bins), {mae_approvals:.3f} (approvals)",
            None,
        ),
    ]
    sections = [
        machine_line(("mabwiser", "numpy")),
        f"command: {command}",
        ranking_section(detail, ranking["default"]),
        routing_section(runs, propensity_zero_error()),
        f"### Routing on the demo swarm ({DEMO_SWARM_AGENTS} agents of `default_swarm`, same task design)\n\n"
        + markdown_table(
            ["policy", "share of the oracle's reward (mean of seeds)"],
            [
                [
                    result.name,
                    f"{statistics.fmean(run.results[i].share(run.results[0]) for run in demo_runs):.1%}",
                ]
                for i, result in enumerate(demo_runs[0].results)
            ],
        ),
        close_text,
        drift_section(drift),
        demo_trend_text,
        calibration_text,
        config_section(ranking),
        "### Targets\n\n"
        + markdown_table(["target", "measured", "result"], [[n, m, verdict(p)] for n, m, p in targets]),
    ]
    progress("done")
    print("\n\n".join(sections))
    return 1 if args.strict and any(passed is False for _, _, passed in targets) else 0


if __name__ == "__main__":
    sys.exit(main())
