"""Routing: Thompson sampling on trust posteriors against the oracle, random and MABWiser on one stream of tasks."""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from mabwiser.mab import MAB, LearningPolicy

from bench.trust_quality.simulation import Buckets, RoutedOutcome, day_of, simulate_outcome
from localdev.swarm import (
    RECOMMENDATION_TYPES,
    AgentProfile,
)
from swarm_learning.domain import approval, routing, trust
from swarm_learning.domain.trust_values import TrustConfig

# 2. routing
ROUTING_ROUNDS, ROUTING_PER_DAY = 5_000, 250


ROUTING_CANDIDATES = (5, 8)  # candidates per task, drawn among the agents that handle its type


ROUTING_SEEDS = (1, 2, 3)  # the first is the run shown in detail


ROUTING_WINDOW = 1_000  # tasks in the "first" and "last" columns


ROUTING_PROPENSITY_DRAWS = 1


PROPENSITY_TIMING_EVERY = 25  # decisions between timings of select() with its default draws


TARGET_ORACLE_SHARE = 0.97


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


def propensity_zero_error() -> str:
    """What ``select`` does with ``propensity_draws=0``."""
    candidates = [routing.Candidate("a", 1.0, 1.0, 0.05), routing.Candidate("b", 1.0, 1.0, 0.05)]
    try:
        routing.select(candidates, 1, random.Random(0), propensity_draws=0)
    except (ValueError, ZeroDivisionError) as error:
        return f"raises {type(error).__name__} ({error})"
    return "returns without error"
