"""Routing (the seed's Phase 5 "apply trust scores to agent selection"), pure.

Thompson sampling over each candidate's Beta posterior of success for the task's type: one draw
per candidate, the k highest draws win. New agents (wide posteriors) get explored; agents that keep
failing have posteriors pressed toward zero and stop being drawn high. ``exploit`` picks the k best
lower credible bounds instead. Each choice carries the probability that the policy picks that agent
(estimated by repeating the draw), so decisions can be evaluated offline by inverse propensity.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from swarm_learning.vocabulary import RoutingMode

# Replays behind each choice's probability: standard error <= 0.5 / sqrt(500) ~ 0.022.
PROPENSITY_DRAWS = 500


@dataclass(frozen=True)
class Candidate:
    agent_id: str
    alpha: float
    beta: float
    lower_bound: float

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)


@dataclass(frozen=True)
class Choice:
    agent_id: str
    rank: int
    score: float  # the Thompson draw, or the lower bound when exploiting
    probability: float  # that the policy puts this agent among the k chosen
    expected_success: float


def _top_k(candidates: Sequence[Candidate], draws: Sequence[float], k: int) -> list[int]:
    # Ties broken by agent id so a decision is reproducible from its seed.
    order = sorted(range(len(candidates)), key=lambda i: (-draws[i], candidates[i].agent_id))
    return order[:k]


def select(
    candidates: Sequence[Candidate],
    k: int,
    rng: random.Random,
    *,
    mode: RoutingMode = RoutingMode.EXPLORE,
    propensity_draws: int = PROPENSITY_DRAWS,
) -> list[Choice]:
    if not 1 <= k <= len(candidates):
        raise ValueError("k must be between 1 and the number of candidates")
    if propensity_draws < 1:
        raise ValueError("propensity_draws must be at least 1")
    if mode is RoutingMode.EXPLOIT:
        bounds = [c.lower_bound for c in candidates]
        return [
            Choice(candidates[i].agent_id, rank, bounds[i], 1.0, candidates[i].mean)
            for rank, i in enumerate(_top_k(candidates, bounds, k), start=1)
        ]
    draws = [rng.betavariate(c.alpha, c.beta) for c in candidates]
    chosen = _top_k(candidates, draws, k)
    hits = [0] * len(candidates)
    for _ in range(propensity_draws):
        replay = [rng.betavariate(c.alpha, c.beta) for c in candidates]
        for i in _top_k(candidates, replay, k):
            hits[i] += 1
    return [
        Choice(candidates[i].agent_id, rank, draws[i], hits[i] / propensity_draws, candidates[i].mean)
        for rank, i in enumerate(chosen, start=1)
    ]
