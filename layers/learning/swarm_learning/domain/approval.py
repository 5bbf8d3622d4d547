"""Approval posteriors and the decision boost they give a trusted agent's decision (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from swarm_learning.domain.beta import beta_quantile
from swarm_learning.domain.trust import decayed_counters
from swarm_learning.domain.trust_values import DayCounters, TrustConfig, TrustScore


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
