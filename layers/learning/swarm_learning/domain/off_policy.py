"""Off-policy evaluation of routing: what another routing policy would have achieved, estimated from
the logged decisions and the probabilities the logging router gave each candidate. Pure numpy.

Every decision is judged on its first slot (rank 1): the logged first-slot propensity of the agent
chosen there, the outcome of that agent's recommendation, and each policy's first-slot
distribution over the same candidates. A decision is a row; candidates are columns, padded with
zeros up to the widest decision (a padded column has probability 0 under every policy).

Estimators (each returns its per-decision influence values ``psi``; the value is their mean and
the 95 % interval the normal approximation ``mean +- 1.96 * sd(psi) / sqrt(n)``, so the
difference of two estimates on the same decisions has the interval of ``psi_a - psi_b``):

- IPS: ``psi_i = w_i r_i`` with ``w_i = pi(a_i | x_i) / mu(a_i | x_i)``;
- SNIPS: ``sum w r / sum w``, linearised: ``psi_i = V + w_i (r_i - V) / mean(w)``;
- DR: ``psi_i = sum_a pi(a | x_i) q_i(a) + w_i (r_i - q_i(a_i))``, ``q`` the reward model (the
  routing posterior's mean, logged with the decision);
- the logged (on-policy) value: ``psi_i = r_i``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Monte-Carlo draws behind a Thompson first-slot probability: each estimate is a binomial share, so
# its standard error is sqrt(p (1 - p) / draws) <= 0.5 / sqrt(4000) ~ 0.0079.
FIRST_SLOT_DRAWS = 4000
Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    """A value with its 95 % interval (None below two decisions) and the influence values behind it."""

    value: float
    lower: float | None
    upper: float | None
    standard_error: float | None
    psi: FloatArray = field(repr=False, compare=False)

    @property
    def excludes_zero(self) -> bool:
        return self.lower is not None and self.upper is not None and (self.lower > 0 or self.upper < 0)


def from_influence(psi: FloatArray) -> Estimate:
    n = len(psi)
    value = float(psi.mean()) if n else 0.0
    if n < 2:
        return Estimate(value, None, None, None, psi)
    se = float(psi.std(ddof=1) / np.sqrt(n))
    return Estimate(value, value - Z_95 * se, value + Z_95 * se, se, psi)


def thompson_first_slot(
    alpha: FloatArray, beta: FloatArray, rng: np.random.Generator, draws: int = FIRST_SLOT_DRAWS
) -> FloatArray:
    """Each candidate's probability of the highest draw from its Beta posterior (Thompson sampling's
    first slot), by ``draws`` seeded Monte-Carlo replays."""
    if len(alpha) == 1:
        return np.ones(1)
    samples = rng.beta(alpha, beta, size=(draws, len(alpha)))
    return np.bincount(samples.argmax(axis=1), minlength=len(alpha)) / draws


def with_floor(
    probabilities: FloatArray, floor: float, mask: npt.NDArray[np.bool_] | None = None
) -> FloatArray:
    """Mix a uniform choice over the candidates (``mask``: the real columns) into a first-slot
    distribution: ``(1 - floor) p + floor / K``, so every candidate has at least ``floor / K``."""
    real = np.ones_like(probabilities, dtype=bool) if mask is None else mask
    k = real.sum(axis=-1, keepdims=True)
    return np.where(real, (1 - floor) * probabilities + floor / np.maximum(k, 1), 0.0)


def uniform(mask: npt.NDArray[np.bool_]) -> FloatArray:
    return mask / np.maximum(mask.sum(axis=1, keepdims=True), 1)


def one_hot(index: IntArray, width: int) -> FloatArray:
    out = np.zeros((len(index), width))
    out[np.arange(len(index)), index] = 1.0
    return out


def argmax_first(scores: FloatArray, mask: npt.NDArray[np.bool_]) -> FloatArray:
    """The deterministic policy choosing each row's highest score among its masked columns (ties go to
    the leftmost column: callers order columns by agent id, as the router breaks ties)."""
    masked = np.where(mask, scores, -np.inf)
    return one_hot(masked.argmax(axis=1), scores.shape[1])


def importance_weights(target: FloatArray, logged: FloatArray, chosen: IntArray) -> FloatArray:
    rows = np.arange(len(chosen))
    return target[rows, chosen] / logged[rows, chosen]


def effective_sample_size(weights: FloatArray) -> float:
    squares = float(np.square(weights).sum())
    return float(weights.sum()) ** 2 / squares if squares > 0 else 0.0


def on_policy(rewards: FloatArray) -> Estimate:
    return from_influence(rewards.astype(float))


def ips(rewards: FloatArray, weights: FloatArray) -> Estimate:
    return from_influence(weights * rewards)


def snips(rewards: FloatArray, weights: FloatArray) -> Estimate:
    if len(rewards) == 0 or weights.sum() <= 0:
        # No logged decision chose what the policy would: the ratio has no evidence to stand on.
        return Estimate(0.0, None, None, None, np.zeros(len(rewards)))
    value = float((weights * rewards).sum() / weights.sum())
    psi = value + weights * (rewards - value) / weights.mean()
    estimate = from_influence(psi)
    return Estimate(value, estimate.lower, estimate.upper, estimate.standard_error, psi)


def doubly_robust(
    rewards: FloatArray, weights: FloatArray, target: FloatArray, reward_model: FloatArray, chosen: IntArray
) -> Estimate:
    direct = (target * reward_model).sum(axis=1)
    predicted = reward_model[np.arange(len(chosen)), chosen]
    return from_influence(direct + weights * (rewards - predicted))


def difference(a: Estimate, b: Estimate) -> Estimate:
    """``a - b`` on the same decisions, with the interval of the paired influence values (each
    estimate's value is the mean of its ``psi``, so the difference's is the mean of ``psi_a - psi_b``)."""
    return from_influence(a.psi - b.psi)


ESTIMATORS = ("ips", "snips", "dr")


# Outcome -> reward: the approval rate, a partial approval counting half.
REWARDS = {"approved": 1.0, "partial": 0.5, "rejected": 0.0}


@dataclass(frozen=True)
class LoggedDecisions:
    """The evaluable decisions as arrays, one row per decision, its candidates in agent-id order
    (so the leftmost of tied columns is the router's tie-break): ``logged[i, j]`` the first-slot
    probability the logging router gave candidate ``j``; ``chosen[i]`` the column it seated first;
    ``rewards[i]`` that recommendation's outcome; ``reward_model[i, j]`` the posterior mean of
    approval the router had for ``j``; the policies' inputs: ``lower_bound``, ``thompson_all``
    (Thompson's first slot over every candidate), ``thompson_offered`` (over the candidates the
    rules left to the draw), ``offered`` (not avoided by a rule), ``preferred`` (the column a
    prefer_agents rule seated first, -1 when none)."""

    agents: list[list[str]]
    logged: FloatArray
    chosen: IntArray
    rewards: FloatArray
    reward_model: FloatArray
    lower_bound: FloatArray
    thompson_all: FloatArray
    thompson_offered: FloatArray
    offered: npt.NDArray[np.bool_]
    preferred: IntArray
    mask: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.chosen)

    def agent_ids(self) -> set[str]:
        return {agent for row in self.agents for agent in row}

    def agent_columns(self, agent_id: str) -> IntArray:
        """Per decision, the column of ``agent_id``, or -1 where it was not a candidate."""
        return np.array(
            [row.index(agent_id) if agent_id in row else -1 for row in self.agents], dtype=np.int64
        )


@dataclass(frozen=True)
class Skipped:
    no_outcome: int = 0
    no_support: int = 0
    not_logged: int = 0


def decision_log(
    decisions: Sequence[Mapping[str, Any]], outcomes: Mapping[str, str]
) -> tuple[LoggedDecisions, Skipped]:
    """The arrays of the decisions that can be evaluated, and why the others cannot: ``outcomes``
    maps a decision id to the outcome of the recommendation its first-seated agent made for it.
    A decision needs that outcome, its candidates' logged first-slot probabilities, and every
    candidate's probability above zero (support); decisions with k > 1 are judged on their first
    slot."""
    rows: list[tuple[list[dict[str, Any]], int, float, int]] = []
    no_outcome = no_support = not_logged = 0
    for decision in decisions:
        candidates = sorted(decision.get("candidates") or [], key=lambda c: c["agent_id"])
        if not candidates or any("first_slot_probability" not in c for c in candidates):
            not_logged += 1
            continue
        status = outcomes.get(decision["decision_id"])
        if status not in REWARDS:
            no_outcome += 1
            continue
        if min(float(c["first_slot_probability"]) for c in candidates) <= 0:
            no_support += 1
            continue
        ids = [c["agent_id"] for c in candidates]
        first = decision["chosen"][0]["agent_id"]
        preferred = decision.get("preferred") or []
        rows.append(
            (candidates, ids.index(first), REWARDS[status], ids.index(preferred[0]) if preferred else -1)
        )
    n = len(rows)
    width = max((len(r[0]) for r in rows), default=1)

    # One flat pass over every (decision, candidate), then one scatter per field.
    flat = [c for r in rows for c in r[0]]
    row_index = np.repeat(np.arange(n), [len(r[0]) for r in rows])
    col_index = np.array([j for r in rows for j in range(len(r[0]))], dtype=np.int64)

    def column(name: str) -> FloatArray:
        out = np.zeros((n, width))
        out[row_index, col_index] = np.fromiter((float(c[name]) for c in flat), dtype=float, count=len(flat))
        return out

    alpha, beta = column("alpha"), column("beta")
    mask = np.zeros((n, width), dtype=bool)
    mask[row_index, col_index] = True
    offered = np.zeros((n, width), dtype=bool)
    offered[row_index, col_index] = [bool(c.get("offered", True)) for c in flat]
    log = LoggedDecisions(
        agents=[[c["agent_id"] for c in r[0]] for r in rows],
        logged=column("first_slot_probability"),
        chosen=np.array([r[1] for r in rows], dtype=np.int64),
        rewards=np.array([r[2] for r in rows], dtype=float),
        reward_model=np.where(mask, alpha / np.where(mask, alpha + beta, 1.0), 0.0),
        lower_bound=column("lower_bound"),
        thompson_all=column("thompson_first"),
        thompson_offered=column("thompson_offered"),
        offered=offered,
        preferred=np.array([r[3] for r in rows], dtype=np.int64),
        mask=mask,
    )
    return log, Skipped(no_outcome, no_support, not_logged)


def _seat_preferred(log: LoggedDecisions, otherwise: FloatArray) -> FloatArray:
    seated = log.preferred >= 0
    if not seated.any():
        return otherwise
    out = otherwise.copy()
    out[seated] = one_hot(log.preferred[seated], otherwise.shape[1])
    return out


def explore_policy(log: LoggedDecisions, *, apply_rules: bool = True) -> FloatArray:
    """Thompson sampling's first slot; with the rules, a preferred agent's seat comes first and the
    draw is among the offered candidates (as logged)."""
    return _seat_preferred(log, log.thompson_offered) if apply_rules else log.thompson_all


def exploit_policy(log: LoggedDecisions, *, apply_rules: bool = True) -> FloatArray:
    """The best lower bound (ties to the smallest agent id); with the rules, among the offered
    candidates after any preferred agent's seat."""
    if not apply_rules:
        return argmax_first(log.lower_bound, log.mask)
    return _seat_preferred(log, argmax_first(log.lower_bound, log.mask & log.offered))


def uniform_policy(log: LoggedDecisions) -> FloatArray:
    return uniform(log.mask)


def agent_policy(log: LoggedDecisions, agent_id: str) -> FloatArray:
    """Always ``agent_id`` where it is a candidate, else a uniform choice."""
    columns = log.agent_columns(agent_id)
    out = uniform(log.mask)
    present = columns >= 0
    out[present] = one_hot(columns[present], log.mask.shape[1])
    return out


@dataclass(frozen=True)
class PolicyEstimates:
    estimates: dict[str, Estimate]
    effective_sample_size: float


def evaluate(
    log: LoggedDecisions, target: FloatArray, estimators: tuple[str, ...] = ESTIMATORS
) -> PolicyEstimates:
    """Every requested estimate of the policy whose first-slot distribution is ``target``."""
    weights = importance_weights(target, log.logged, log.chosen) if len(log) else np.zeros(0)
    made = {
        "ips": lambda: ips(log.rewards, weights),
        "snips": lambda: snips(log.rewards, weights),
        "dr": lambda: doubly_robust(log.rewards, weights, target, log.reward_model, log.chosen),
    }
    return PolicyEstimates({name: made[name]() for name in estimators}, effective_sample_size(weights))


def against_best_agent(log: LoggedDecisions) -> tuple[str, Estimate, Estimate] | None:
    """The best fixed agent of the log (the ``agent`` policy with the highest SNIPS estimate), its
    estimate, and the logged value minus it (paired). Chosen in-sample, so the best agent's
    estimate leans optimistic (the winner's curse) and the difference leans against the router."""
    if len(log) < 2:
        return None
    estimates = {
        agent: snips(log.rewards, importance_weights(agent_policy(log, agent), log.logged, log.chosen))
        for agent in sorted(log.agent_ids())
    }
    agent_id = max(estimates, key=lambda a: estimates[a].value)
    return agent_id, estimates[agent_id], difference(on_policy(log.rewards), estimates[agent_id])


@dataclass(frozen=True)
class RoutingEffect:
    """What routing did to the outcomes of a window's decisions (the learning cycle's figures):
    ``rules`` = SNIPS(the router with its rules) - SNIPS(without them); ``vs_uniform`` and
    ``vs_best_agent`` = the logged value - SNIPS(uniform / the best fixed agent). None below
    ``min_decisions``."""

    decisions: int
    min_decisions: int
    rules: Estimate | None = None
    vs_uniform: Estimate | None = None
    vs_best_agent: Estimate | None = None
    best_agent_id: str | None = None

    @property
    def reason(self) -> str | None:
        if self.decisions >= self.min_decisions:
            return None
        return (
            f"{self.decisions} routing decisions with outcomes in the window; "
            f"at least {self.min_decisions} are needed"
        )


def routing_effect(log: LoggedDecisions, min_decisions: int) -> RoutingEffect:
    if len(log) < max(min_decisions, 2):
        return RoutingEffect(len(log), min_decisions)

    def value(target: FloatArray) -> Estimate:
        return snips(log.rewards, importance_weights(target, log.logged, log.chosen))

    best = against_best_agent(log)
    assert best is not None
    return RoutingEffect(
        decisions=len(log),
        min_decisions=min_decisions,
        rules=difference(value(explore_policy(log)), value(explore_policy(log, apply_rules=False))),
        vs_uniform=difference(on_policy(log.rewards), value(uniform_policy(log))),
        vs_best_agent=best[2],
        best_agent_id=best[0],
    )


def _points(x: float) -> str:
    return f"{abs(x) * 100:.0f}"


def _interval(e: Estimate) -> str:
    """The interval in points, in the direction the sentence speaks (a drop as a positive size)."""
    if e.lower is None or e.upper is None:
        return "no interval"
    low, high = (e.lower, e.upper) if e.value >= 0 else (-e.upper, -e.lower)
    return f"95 % CI {low * 100:.0f}\u2013{high * 100:.0f}"


def effect_insights(effect: RoutingEffect) -> list[str]:
    """Sentences for the effects whose 95 % interval excludes zero."""
    found = []
    if effect.vs_uniform is not None and effect.vs_uniform.excludes_zero:
        verb = "raised" if effect.vs_uniform.value > 0 else "lowered"
        found.append(
            f"Routing with the learned rules {verb} approval by {_points(effect.vs_uniform.value)} points "
            f"({_interval(effect.vs_uniform)}) over choosing uniformly, over {effect.decisions} decisions"
        )
    if effect.rules is not None and effect.rules.excludes_zero:
        verb = "raised" if effect.rules.value > 0 else "lowered"
        found.append(
            f"The learned rules {verb} routing's approval by {_points(effect.rules.value)} points "
            f"({_interval(effect.rules)}) against routing without them"
        )
    if effect.vs_best_agent is not None and effect.vs_best_agent.excludes_zero:
        verb = "more" if effect.vs_best_agent.value > 0 else "fewer"
        found.append(
            f"Routing approved {_points(effect.vs_best_agent.value)} points {verb} than always asking "
            f"{effect.best_agent_id} ({_interval(effect.vs_best_agent)})"
        )
    return found
