"""The learning cycle (the specification's MetaLearnerAgent), pure: features → patterns → agent profiles →
decision rules → the Learning Cycle Result, validated on a time split."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from statistics import NormalDist, fmean
from typing import Any

import numpy as np

from swarm_learning.domain.feature_registry import FEATURES
from swarm_learning.domain.features import HIGH_CONFIDENCE, LOW_CONFIDENCE, FeatureTable
from swarm_learning.domain.off_policy import Estimate, RoutingEffect, effect_insights
from swarm_learning.domain.pattern_validation import rolling_validation
from swarm_learning.domain.patterns import (
    MiningConfig,
    Pattern,
    benjamini_hochberg,
    mine,
    proportion_z,
    upper_tail,
    wilson_bounds,
)
from swarm_learning.domain.rules import rule_applies
from swarm_learning.vocabulary import PatternCategory

PROFILE_MIN_SAMPLES = 10
CONSENSUS_BUILDER_SHARE = 0.5
OVERCONFIDENT_GAP = 0.15
PROFILE_FALSE_DISCOVERY_RATE = 0.05  # over every (agent, type) cell judged
STANDING_INTERVAL_Z = NormalDist().inv_cdf(0.975)  # the 95 % interval shown with a standing


@dataclass(frozen=True)
class TypeStanding:
    recommendation_type: str
    evaluated: int
    approval_rate: float  # (approved + partial / 2) / evaluated, as everywhere in the API
    strict_approval_rate: float  # approved / evaluated: what the test and the interval are on
    baseline: float  # the workspace's strict approval rate on the type
    lower_bound: float
    upper_bound: float


@dataclass(frozen=True)
class AgentProfile:
    agent_id: str
    evaluated: int
    approval_rate: float  # (approved + partial / 2) / evaluated
    strict_approval_rate: float  # approved / evaluated
    strengths: list[TypeStanding]
    weaknesses: list[TypeStanding]
    calibration_gap: float  # mean stated confidence minus approval rate (> 0: over-confident)
    trend: float  # strict approval rate of the later half minus the earlier half
    consensus_share: float  # share of its recommendations that another agent also proposed
    consensus_builder: bool


@dataclass(frozen=True)
class DecisionRule:
    rule_id: str
    conditions: dict[str, Any]
    action: str
    parameters: dict[str, Any]
    expected_success: float  # an approval rate, never a failure rate (see _rule)
    support: int
    source: tuple[str, ...]  # the pattern condition it comes from
    expected_success_basis: str = "matched"  # or "kept" (see _rule)


def profiles(table: FeatureTable) -> list[AgentProfile]:
    """Per agent: strengths and weaknesses per type against the other agents of that type (a
    two-proportion test per cell, Benjamini-Hochberg over the cells judged, as patterns are mined),
    calibration, trend and consensus-building."""
    n_agents, n_types = len(table.agents), len(table.types)
    if not len(table) or not n_agents:
        return []
    approved = table.approved.astype(np.float64)
    credit = approved + 0.5 * table.partial  # approval_rate's numerator: a partial counts half
    cell = table.agent.astype(np.int64) * n_types + table.rtype
    count = np.bincount(cell, minlength=n_agents * n_types).reshape(n_agents, n_types)
    wins = np.bincount(cell, weights=approved, minlength=n_agents * n_types).reshape(n_agents, n_types)
    credits = np.bincount(cell, weights=credit, minlength=n_agents * n_types).reshape(n_agents, n_types)
    type_count, type_wins = count.sum(axis=0), wins.sum(axis=0)
    baseline = type_wins / np.maximum(type_count, 1)
    # Every (agent, type) cell with enough samples is a test of the agent against the type's others.
    z = np.zeros((n_agents, n_types))
    for t in range(n_types):
        z[:, t] = proportion_z(wins[:, t], count[:, t], float(type_wins[t]), float(type_count[t]))
    tested = count >= PROFILE_MIN_SAMPLES
    differs = np.zeros((n_agents, n_types), dtype=bool)
    differs[tested] = benjamini_hochberg(
        np.minimum(2 * upper_tail(np.abs(z[tested])), 1.0), PROFILE_FALSE_DISCOVERY_RATE
    )
    lower, upper = wilson_bounds(wins, count, STANDING_INTERVAL_Z)

    agent_count = count.sum(axis=1)
    agent_wins = wins.sum(axis=1)
    agent_credits = credits.sum(axis=1)
    # Calibration over the recommendations that stated a confidence (NaN: none stated).
    stated = ~np.isnan(table.confidence)
    confidence = np.bincount(
        table.agent[stated], weights=table.confidence[stated].astype(np.float64), minlength=n_agents
    )
    stated_count = np.bincount(table.agent[stated], minlength=n_agents)
    stated_credits = np.bincount(table.agent[stated], weights=credit[stated], minlength=n_agents)
    shared = np.bincount(table.agent, weights=(table.consensus >= 2).astype(np.float64), minlength=n_agents)
    later, later_wins = _later_half(table)

    result = []
    for a, agent in enumerate(table.agents):
        evaluated = int(agent_count[a])
        if not evaluated:
            continue
        strengths, weaknesses = [], []
        for t, rtype in enumerate(table.types):
            if count[a, t] < PROFILE_MIN_SAMPLES:
                continue
            standing = TypeStanding(
                rtype,
                int(count[a, t]),
                float(credits[a, t] / count[a, t]),
                float(wins[a, t] / count[a, t]),
                float(baseline[t]),
                float(lower[a, t]),
                float(upper[a, t]),
            )
            if differs[a, t] and z[a, t] > 0:
                strengths.append(standing)
            elif differs[a, t] and z[a, t] < 0:
                weaknesses.append(standing)
        rate = float(agent_credits[a] / evaluated)
        earlier = evaluated - later[a]
        trend = (
            float(later_wins[a] / later[a] - (agent_wins[a] - later_wins[a]) / earlier)
            if earlier and later[a]
            else 0.0
        )
        share = float(shared[a] / evaluated)
        result.append(
            AgentProfile(
                agent_id=agent,
                evaluated=evaluated,
                approval_rate=rate,
                strict_approval_rate=float(agent_wins[a] / evaluated),
                strengths=strengths,
                weaknesses=weaknesses,
                calibration_gap=(
                    float((confidence[a] - stated_credits[a]) / stated_count[a]) if stated_count[a] else 0.0
                ),
                trend=trend,
                consensus_share=share,
                consensus_builder=share >= CONSENSUS_BUILDER_SHARE and evaluated >= PROFILE_MIN_SAMPLES,
            )
        )
    return sorted(result, key=lambda p: p.agent_id)


def _later_half(table: FeatureTable) -> tuple[np.ndarray, np.ndarray]:
    """Per agent: how many of its rows are in its later half (by time) and how many were approved."""
    order = np.argsort(table.agent, kind="stable")  # rows are in time order within each agent
    agents = table.agent[order]
    position = np.arange(len(order))
    start = np.r_[True, agents[1:] != agents[:-1]]
    first = np.maximum.accumulate(np.where(start, position, 0))
    sizes = np.bincount(table.agent, minlength=len(table.agents))
    in_later = (position - first) >= sizes[agents] // 2
    later = np.bincount(agents, weights=in_later, minlength=len(table.agents))
    later_wins = np.bincount(agents, weights=in_later & table.approved[order], minlength=len(table.agents))
    return later, later_wins


# What a rule's ``expected_success`` is the approval rate of, by how the rule acts: a rule that
# favours something (prefer_agents, require_consensus from a consensus pattern,
# fast_track_high_confidence, prefer_experts) expects the success of what it favours, the
# pattern's own recommendations; a rule that steers away from something (avoid_agents,
# require_consensus from dissent, minimum_confidence) expects the success of what it keeps: the
# recommendations under its conditions without the item avoided (other agents, backed advice,
# confident advice).
def _rule(pattern: Pattern, table: FeatureTable) -> DecisionRule | None:
    items = dict(item.partition("=")[::2] for item in pattern.condition)
    source = "&".join(pattern.condition)
    approving = pattern.predicts_approval

    def made(action: str, parameters: dict[str, Any], acted_on: str) -> DecisionRule | None:
        # The pattern's other items are the rule's conditions: "agent=X & confidence=low fails"
        # is "avoid X when its confidence is low", not "avoid X".
        conditions = {}
        for name, value in items.items():
            if name == acted_on:
                continue
            condition = FEATURES.condition_name(name)
            if condition is None:  # no rule can state it: dropping it would widen the advice
                return None
            conditions[condition] = value
        if approving:
            expected, basis = pattern.success_rate, "matched"
        else:
            avoided = f"{acted_on}={items[acted_on]}"
            others = [item for item in pattern.condition if item != avoided]
            kept = table.mask(others) & ~table.item_mask(avoided)
            if not kept.any():
                return None  # nothing left to steer to: not advice
            expected, basis = float(table.approved[kept].mean()), "kept"
        return DecisionRule(
            f"{action}:{source}",
            conditions,
            action,
            parameters,
            expected,
            pattern.frequency_count,
            pattern.condition,
            basis,
        )

    if "agent" in items:
        return made("prefer_agents" if approving else "avoid_agents", {"agents": [items["agent"]]}, "agent")
    if pattern.category is PatternCategory.CONSENSUS:
        return made("require_consensus", {"min_agents": int(items["consensus"].rstrip("+"))}, "consensus")
    if items.get("dissent") == "yes" and not approving:
        # Advice no other agent backs fails: ask more than one agent, act on what they agree on.
        return made("require_consensus", {"min_agents": 2}, "dissent")
    if items.get("confidence") == "low" and not approving:
        return made("minimum_confidence", {"min_confidence": LOW_CONFIDENCE}, "confidence")
    if items.get("confidence") == "high" and approving:
        return made("fast_track_high_confidence", {"min_confidence": HIGH_CONFIDENCE}, "confidence")
    if items.get("expert") == "yes" and approving:
        return made("prefer_experts", {"min_approval_rate": 0.75}, "expert")
    return None


def rules(patterns: Sequence[Pattern], table: FeatureTable) -> list[DecisionRule]:
    """The rules the patterns imply, their expected success measured on ``table``."""
    made = [rule for pattern in patterns if (rule := _rule(pattern, table)) is not None]
    unique = {rule.rule_id: rule for rule in made}
    return sorted(unique.values(), key=lambda r: (-r.expected_success, -r.support, r.rule_id))


def suggest(all_rules: Sequence[DecisionRule], context: Mapping[str, Any]) -> list[DecisionRule]:
    """The specification's suggest_decision_rules: the rules that concern a decision in ``context``."""
    return [rule for rule in all_rules if rule_applies(rule.conditions, context)]


@dataclass(frozen=True)
class PreviousCycle:
    pattern_conditions: frozenset[tuple[str, ...]]
    mean_pattern_confidence: float | None
    model_accuracy: float | None


@dataclass
class CycleResult:
    """The specification's Learning Cycle Result, with what the state keeps."""

    iteration_id: str
    workspace_id: str
    samples_analyzed: int
    patterns_discovered: int
    patterns_confirmed: int
    rules_updated: int
    iteration_accuracy: float | None
    coverage: float
    validation_samples: int  # held-out recommendations (coverage's denominator)
    validation_judged: int  # of those, the ones a pattern judged (accuracy's denominator)
    pattern_confidence_improvement: float | None
    rule_effectiveness_improvement: float | None
    key_insights: list[str]
    recommendations_for_swarm: list[str]
    started_at: datetime
    completed_at: datetime
    processing_time_seconds: float
    patterns: list[Pattern] = field(default_factory=list)
    profiles: list[AgentProfile] = field(default_factory=list)
    rules: list[DecisionRule] = field(default_factory=list)
    rule_effectiveness_reason: str | None = None  # why rule_effectiveness_improvement is null
    routing_lift: dict[str, Any] | None = None

    def summary(self) -> dict[str, Any]:
        """The specification's Learning Cycle Result as JSON-ready values."""
        fields = asdict(self)
        for bulky in ("patterns", "profiles", "rules"):
            fields.pop(bulky)
        fields["started_at"] = self.started_at.isoformat()
        fields["completed_at"] = self.completed_at.isoformat()
        return fields


def insights(
    patterns: Sequence[Pattern], agent_profiles: Sequence[AgentProfile], samples: int
) -> tuple[list[str], list[str]]:
    """Key insights and recommendations for the swarm, written only from what the cycle publishes:
    its patterns and profiles."""
    found, advice = [], []
    if not patterns:
        found.append(f"No pattern cleared the false-discovery bar over {samples} evaluated recommendations")
        advice.append("Keep evaluating outcomes: patterns need more evidence before the swarm acts on them")
    experts = sorted(
        {
            item.split("=", 1)[1]
            for p in patterns
            if p.category is PatternCategory.EXPERT_OPINION
            for item in p.condition
            if item.startswith("agent=")
        }
    )
    if experts:
        found.append(
            f"Identified {len(experts)} expert agents whose recommendations beat the baseline: "
            + ", ".join(experts)
        )
        advice.append("Route recommendations through expert agents for their strong types")
    consensus = [p for p in patterns if p.category is PatternCategory.CONSENSUS]
    if consensus:
        best = max(consensus, key=lambda p: p.success_rate)
        found.append(
            f"Multi-agent consensus predicts success ({best.success_rate:.0%} approved over {best.frequency_count})"
        )
        advice.append("Increase use of multi-agent consensus for critical decisions")
    builders = [p for p in agent_profiles if p.consensus_builder]
    if builders:
        found.append(f"{len(builders)} agents are strong consensus builders")
    failing = [p for p in patterns if p.category is PatternCategory.FAILURE_AVOIDANCE]
    if failing:
        worst = max(failing, key=lambda p: (p.confidence_level, p.frequency_count))
        found.append(
            f"Recommendations matching {' & '.join(worst.condition)} fail {1 - worst.success_rate:.0%} of the time"
        )
        advice.append("Hold back or double-check recommendations that match failure patterns")
    if any(p.weaknesses for p in agent_profiles):
        advice.append("Provide additional training to weak-area agents")
    overconfident = [p for p in agent_profiles if p.calibration_gap > OVERCONFIDENT_GAP]
    if overconfident:
        found.append(f"{len(overconfident)} agents state confidence well above their approval rate")
    return found, advice


def _lift(estimate: Estimate | None, **extra: Any) -> dict[str, Any] | None:
    if estimate is None:
        return None
    return {"value": estimate.value, "lower": estimate.lower, "upper": estimate.upper, **extra}


def routing_lift(effect: RoutingEffect) -> dict[str, Any]:
    """Routing's lift as the cycle reports it: the router against choosing uniformly and against the
    best fixed agent, each with its 95 % interval (or the reason there is none)."""
    return {
        "decisions": effect.decisions,
        "vs_uniform": _lift(effect.vs_uniform),
        "vs_best_agent": _lift(effect.vs_best_agent, agent_id=effect.best_agent_id),
        "reason": None
        if effect.vs_uniform is not None
        else effect.reason or "no routing decisions were evaluated",
    }


def run_cycle(
    workspace_id: str,
    table: FeatureTable,
    *,
    iteration_id: str,
    started_at: datetime,
    min_pattern_confidence: float = 0.7,
    previous: PreviousCycle | None = None,
    clock: Callable[[], float] = time.perf_counter,
    routing: RoutingEffect | None = None,
) -> CycleResult:
    begun = clock()
    config = MiningConfig(min_pattern_confidence=min_pattern_confidence)
    validation = rolling_validation(table, config)
    found = mine(table, config)  # what the swarm uses next: mined on everything, judged above
    agent_profiles = profiles(table)
    made_rules = rules(found, table)
    key_insights, advice = insights(found, agent_profiles, len(table))
    routing = routing or RoutingEffect(0, 0)
    key_insights.extend(effect_insights(routing))
    mean_confidence = fmean(p.confidence_level for p in found) if found else None
    confirmed = sum(p.condition in previous.pattern_conditions for p in found) if previous else 0
    elapsed = clock() - begun
    return CycleResult(
        iteration_id=iteration_id,
        workspace_id=workspace_id,
        samples_analyzed=len(table),
        patterns_discovered=len(found),
        patterns_confirmed=confirmed,
        rules_updated=len(made_rules),
        iteration_accuracy=validation.model_accuracy,
        coverage=validation.coverage,
        validation_samples=validation.evaluated,
        validation_judged=validation.matched,
        pattern_confidence_improvement=(
            mean_confidence - previous.mean_pattern_confidence
            if previous and previous.mean_pattern_confidence is not None and mean_confidence is not None
            else None
        ),
        rule_effectiveness_improvement=routing.rules.value if routing.rules is not None else None,
        rule_effectiveness_reason=(
            None if routing.rules is not None else routing.reason or "no routing decisions were evaluated"
        ),
        routing_lift=routing_lift(routing),
        key_insights=key_insights,
        recommendations_for_swarm=advice,
        started_at=started_at,
        completed_at=started_at + timedelta(seconds=elapsed),
        processing_time_seconds=elapsed,
        patterns=found,
        profiles=agent_profiles,
        rules=made_rules,
    )
