"""Routing (the specification's Phase 5 "apply trust scores to agent selection"), pure.

Thompson sampling over each candidate's Beta posterior of success for the task's type: one draw
per candidate, the k highest draws win. New agents (wide posteriors) get explored; agents that keep
failing have posteriors pressed toward zero and stop being drawn high. ``exploit`` picks the k best
lower credible bounds instead. Each choice carries the probability that the policy picks that agent
(estimated by repeating the draw), so decisions can be evaluated offline by inverse propensity.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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


@dataclass(frozen=True)
class RoutingPlan:
    candidates: list[str]
    k: int
    applied_rules: list[str]
    preferred: list[str] = field(default_factory=list)  # chosen first, without a draw


def apply_rules(candidates: Sequence[str], k: int, rules: Sequence[Mapping[str, Any]]) -> RoutingPlan:
    """What the learned decision rules change in a routing request (rules already filtered to
    those that hold for every decision of its type, strongest first): agents an ``avoid_agents``
    rule names are not offered, unless fewer than ``k`` would remain; a ``require_consensus`` rule
    raises ``k`` to its ``min_agents`` (at most every candidate); agents a ``prefer_agents`` rule
    names take their seats before the draw (at most ``k`` of them), and the draw fills the rest."""
    applied: list[str] = []
    avoid = [
        r for r in rules if r["action"] == "avoid_agents" and set(r["parameters"]["agents"]) & set(candidates)
    ]
    avoided = {agent for rule in avoid for agent in rule["parameters"]["agents"]}
    kept = [agent for agent in candidates if agent not in avoided]
    if avoid and len(kept) >= k:
        candidates = kept
        applied.extend(rule["rule_id"] for rule in avoid)
    consensus = [r for r in rules if r["action"] == "require_consensus"]
    if consensus:
        strictest = max(consensus, key=lambda r: r["parameters"]["min_agents"])
        raised = min(max(k, int(strictest["parameters"]["min_agents"])), len(candidates))
        if raised > k:
            k = raised
            applied.append(strictest["rule_id"])
    preferred: list[str] = []
    for rule in rules:
        if rule["action"] != "prefer_agents":
            continue
        seated = [a for a in rule["parameters"]["agents"] if a in candidates and a not in preferred]
        if seated and len(preferred) < k:
            preferred.extend(seated[: k - len(preferred)])
            applied.append(rule["rule_id"])
    return RoutingPlan(list(candidates), k, applied, preferred)


def select_planned(
    candidates: Sequence[Candidate],
    plan: RoutingPlan,
    rng: random.Random,
    *,
    mode: RoutingMode = RoutingMode.EXPLORE,
    propensity_draws: int = PROPENSITY_DRAWS,
) -> list[Choice]:
    """``select`` under a plan: the preferred agents first (chosen with probability 1), then the
    policy's draw among the others for the seats left."""
    by_id = {c.agent_id: c for c in candidates}
    seated = [
        Choice(agent, rank, by_id[agent].mean, 1.0, by_id[agent].mean)
        for rank, agent in enumerate(plan.preferred, start=1)
    ]
    left = plan.k - len(seated)
    if left <= 0:
        return seated
    others = [c for c in candidates if c.agent_id not in plan.preferred]
    drawn = select(others, left, rng, mode=mode, propensity_draws=propensity_draws)
    return seated + [
        Choice(c.agent_id, c.rank + len(seated), c.score, c.probability, c.expected_success) for c in drawn
    ]


# ---- the logged router: first slot with an exploration floor, and what offline evaluation needs ----


@dataclass(frozen=True)
class LoggedCandidate:
    """A candidate as the decision log keeps it: the policy's inputs and its first-slot probabilities."""

    agent_id: str
    alpha: float
    beta: float
    lower_bound: float
    offered: bool  # False when an avoid_agents rule took it off the draw
    first_slot_probability: float  # the logging router's (rules, mode and floor included)
    thompson_first: float  # Thompson sampling's over every candidate, without rules (no floor)
    thompson_offered: float  # Thompson sampling's over the offered candidates not seated by a rule


@dataclass(frozen=True)
class RoutedDecision:
    choices: list[Choice]
    candidates: list[LoggedCandidate]
    explored: bool  # the first slot was the floor's uniform choice
    first_slot_draws: int  # Monte-Carlo replays behind the Thompson first-slot probabilities


def _seed(decision_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(decision_id.encode(), digest_size=8).digest(), "big")


def decide(
    candidates: Sequence[Candidate],
    plan: RoutingPlan,
    decision_id: str,
    *,
    mode: RoutingMode = RoutingMode.EXPLORE,
    floor: float = 0.0,
    propensity_draws: int = PROPENSITY_DRAWS,
) -> RoutedDecision:
    """The router's decision over every requested candidate (``candidates``; the plan says which are
    offered and which a rule seats first), seeded by the decision id so it can be replayed.

    The first slot is the policy's (the first preferred agent, else the best draw or lower bound),
    except that with probability ``floor`` it goes to a candidate chosen uniformly among all of
    them, avoided ones included: every candidate then has a first-slot probability of at least
    ``floor / K``, so the log supports evaluating any other policy. The remaining seats follow the
    policy. Each choice's ``probability`` is that of being seated at all (exactly the first-slot
    probability when k = 1, else ``propensity_draws`` replays)."""
    import numpy as np  # here, not at the top: the other trust routes never load numpy

    from swarm_learning.domain import off_policy

    if not 0.0 <= floor <= 1.0:
        raise ValueError("floor must be within [0, 1]")
    rng = np.random.default_rng(_seed(decision_id))
    ids = [c.agent_id for c in candidates]
    width = len(candidates)
    alpha = np.array([c.alpha for c in candidates])
    beta = np.array([c.beta for c in candidates])
    offered = [c.agent_id in plan.candidates for c in candidates]
    preferred = [ids.index(agent) for agent in plan.preferred]
    drawn = [i for i in range(width) if offered[i] and i not in preferred]
    thompson_all = off_policy.thompson_first_slot(alpha, beta, rng)
    thompson_offered = np.zeros(width)
    if len(drawn) == width:
        thompson_offered = thompson_all
    elif drawn:
        thompson_offered[drawn] = off_policy.thompson_first_slot(alpha[drawn], beta[drawn], rng)
    bounds = [candidates[i].lower_bound for i in drawn]
    if preferred:
        base = off_policy.one_hot(np.array([preferred[0]]), width)[0]
    elif mode is RoutingMode.EXPLOIT:
        best = min(range(len(drawn)), key=lambda j: (-bounds[j], ids[drawn[j]]))
        base = off_policy.one_hot(np.array([drawn[best]]), width)[0]
    else:
        base = thompson_offered
    first_slot = off_policy.with_floor(base, floor)

    def seat(scores: Sequence[float], pick: int | None) -> list[int]:
        chosen = [] if pick is None else [pick]
        for agent in preferred:
            if len(chosen) < plan.k and agent not in chosen:
                chosen.append(agent)
        ranked = sorted(range(len(drawn)), key=lambda j: (-scores[j], ids[drawn[j]]))
        for j in ranked:
            if len(chosen) >= plan.k:
                break
            if drawn[j] not in chosen:
                chosen.append(drawn[j])
        return chosen

    def scores(rows: int) -> Any:
        if mode is RoutingMode.EXPLOIT or not drawn:
            return np.tile(np.array(bounds, dtype=float), (rows, 1))
        return rng.beta(alpha[drawn], beta[drawn], size=(rows, len(drawn)))

    row = scores(1)[0]
    explored = bool(rng.random() < floor)
    pick = int(rng.integers(width)) if explored else None
    chosen = seat(row.tolist(), pick)
    if plan.k == 1:
        seated = first_slot
    else:
        hits = np.zeros(width)
        replays = scores(propensity_draws)
        coins = rng.random(propensity_draws) < floor
        picks = rng.integers(width, size=propensity_draws)
        for r in range(propensity_draws):
            hits[seat(replays[r].tolist(), int(picks[r]) if coins[r] else None)] += 1
        seated = hits / propensity_draws
    position = {agent: j for j, agent in enumerate(drawn)}
    choices = [
        Choice(
            ids[i],
            rank,
            float(row[position[i]]) if i in position and not (explored and rank == 1) else candidates[i].mean,
            float(seated[i]),
            candidates[i].mean,
        )
        for rank, i in enumerate(chosen, start=1)
    ]
    logged = [
        LoggedCandidate(
            c.agent_id,
            c.alpha,
            c.beta,
            c.lower_bound,
            offered[i],
            float(first_slot[i]),
            float(thompson_all[i]),
            float(thompson_offered[i]),
        )
        for i, c in enumerate(candidates)
    ]
    return RoutedDecision(choices, logged, explored, off_policy.FIRST_SLOT_DRAWS)
