"""The learning cycle (the seed's MetaLearnerAgent), pure: features → patterns → agent profiles →
decision rules → the Learning Cycle Result, validated on a time split."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import NormalDist, fmean
from typing import Any

from swarm_learning.features import HIGH_CONFIDENCE, LOW_CONFIDENCE, Features
from swarm_learning.patterns import (
    MiningConfig,
    Pattern,
    PatternCategory,
    mine,
    time_split,
    validate,
    wilson_bounds,
)

PROFILE_MIN_SAMPLES = 10
_Z95 = NormalDist().inv_cdf(0.975)


@dataclass(frozen=True)
class TypeStanding:
    recommendation_type: str
    evaluated: int
    approval_rate: float
    baseline: float
    lower_bound: float
    upper_bound: float


@dataclass(frozen=True)
class AgentProfile:
    agent_id: str
    evaluated: int
    approval_rate: float
    strengths: list[TypeStanding]
    weaknesses: list[TypeStanding]
    calibration_gap: float  # mean stated confidence minus approval rate (> 0: over-confident)
    trend: float  # approval rate of the later half minus the earlier half
    consensus_share: float  # share of its recommendations that another agent also proposed
    consensus_builder: bool


@dataclass(frozen=True)
class DecisionRule:
    rule_id: str
    conditions: dict[str, Any]
    action: str
    parameters: dict[str, Any]
    expected_success: float
    support: int
    source: tuple[str, ...]  # the pattern condition it comes from

    def applies_to(self, context: Mapping[str, Any]) -> bool:
        """Whether the rule concerns a decision described by ``context`` (missing keys match)."""
        wanted_type = self.conditions.get("recommendation_type")
        context_type = context.get("recommendation_type", context.get("task_type"))
        return wanted_type is None or context_type is None or wanted_type == context_type


def profiles(rows: Sequence[Features], confidences: Mapping[str, float]) -> list[AgentProfile]:
    """Per agent: strengths and weaknesses per type against the workspace's baseline for that type
    (Wilson 95 % bounds), calibration, trend and consensus-building."""
    by_type: dict[str, list[bool]] = defaultdict(list)
    by_agent: dict[str, list[Features]] = defaultdict(list)
    for row in rows:
        by_type[row.recommendation_type].append(row.approved)
        by_agent[row.agent_id].append(row)
    baselines = {t: fmean(v) for t, v in by_type.items()}
    result = []
    for agent, own in sorted(by_agent.items()):
        strengths, weaknesses = [], []
        per_type: dict[str, list[bool]] = defaultdict(list)
        for row in own:
            per_type[row.recommendation_type].append(row.approved)
        for rtype, outcomes in sorted(per_type.items()):
            if len(outcomes) < PROFILE_MIN_SAMPLES:
                continue
            lower, upper = wilson_bounds(sum(outcomes), len(outcomes), _Z95)
            standing = TypeStanding(rtype, len(outcomes), fmean(outcomes), baselines[rtype], lower, upper)
            if lower > baselines[rtype]:
                strengths.append(standing)
            elif upper < baselines[rtype]:
                weaknesses.append(standing)
        half = len(own) // 2
        earlier, later = own[:half], own[half:]
        trend = fmean(r.approved for r in later) - fmean(r.approved for r in earlier) if earlier else 0.0
        consensus_share = fmean(r.consensus_size >= 2 for r in own)
        result.append(
            AgentProfile(
                agent_id=agent,
                evaluated=len(own),
                approval_rate=fmean(r.approved for r in own),
                strengths=strengths,
                weaknesses=weaknesses,
                calibration_gap=fmean(confidences[r.recommendation_id] for r in own)
                - fmean(r.approved for r in own),
                trend=trend,
                consensus_share=consensus_share,
                consensus_builder=consensus_share >= 0.5 and len(own) >= PROFILE_MIN_SAMPLES,
            )
        )
    return result


def _rule(pattern: Pattern) -> DecisionRule | None:
    items = dict(item.split("=", 1) for item in pattern.condition)
    conditions: dict[str, Any] = {}
    if "type" in items:
        conditions["recommendation_type"] = items["type"]
    if "agent_type" in items:
        agent, rtype = items["agent_type"].split("@", 1)
        return DecisionRule(
            rule_id="prefer:" + items["agent_type"],
            conditions={**conditions, "recommendation_type": rtype},
            action="prefer_agents",
            parameters={"agents": [agent]},
            expected_success=pattern.success_rate,
            support=pattern.frequency_count,
            source=pattern.condition,
        )
    if pattern.category is PatternCategory.CONSENSUS:
        size = int(items["consensus"].rstrip("+"))
        return DecisionRule(
            "consensus:" + "&".join(pattern.condition),
            conditions,
            "require_consensus",
            {"min_agents": size},
            pattern.success_rate,
            pattern.frequency_count,
            pattern.condition,
        )
    if items.get("confidence") == "low" and pattern.category is PatternCategory.FAILURE_AVOIDANCE:
        return DecisionRule(
            "min-confidence:" + "&".join(pattern.condition),
            conditions,
            "minimum_confidence",
            {"min_confidence": LOW_CONFIDENCE},
            1 - pattern.success_rate,
            pattern.frequency_count,
            pattern.condition,
        )
    if items.get("confidence") == "high" and pattern.predicts_approval:
        return DecisionRule(
            "fast-track:" + "&".join(pattern.condition),
            conditions,
            "fast_track_high_confidence",
            {"min_confidence": HIGH_CONFIDENCE},
            pattern.success_rate,
            pattern.frequency_count,
            pattern.condition,
        )
    if "agent" in items:
        action = "prefer_agents" if pattern.predicts_approval else "avoid_agents"
        return DecisionRule(
            f"{action}:" + "&".join(pattern.condition),
            conditions,
            action,
            {"agents": [items["agent"]]},
            pattern.success_rate if pattern.predicts_approval else 1 - pattern.success_rate,
            pattern.frequency_count,
            pattern.condition,
        )
    return None


def rules(patterns: Sequence[Pattern]) -> list[DecisionRule]:
    made = [rule for pattern in patterns if (rule := _rule(pattern)) is not None]
    unique = {rule.rule_id: rule for rule in made}
    return sorted(unique.values(), key=lambda r: (-r.expected_success, -r.support))


def suggest(all_rules: Sequence[DecisionRule], context: Mapping[str, Any]) -> list[DecisionRule]:
    """The seed's suggest_decision_rules: the rules that concern a decision in ``context``."""
    return [rule for rule in all_rules if rule.applies_to(context)]


@dataclass(frozen=True)
class PreviousCycle:
    pattern_conditions: frozenset[tuple[str, ...]]
    mean_pattern_confidence: float | None
    model_accuracy: float | None


@dataclass
class CycleResult:
    """The seed's Learning Cycle Result, with what the state keeps."""

    iteration_id: str
    workspace_id: str
    samples_analyzed: int
    patterns_discovered: int
    patterns_confirmed: int
    rules_updated: int
    iteration_accuracy: float | None
    coverage: float
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


def _insights(
    patterns: Sequence[Pattern], agent_profiles: Sequence[AgentProfile]
) -> tuple[list[str], list[str]]:
    insights, advice = [], []
    experts = [p for p in agent_profiles if p.strengths]
    if experts:
        insights.append(f"Identified {len(experts)} expert agents with approval above their types' baselines")
        advice.append("Route recommendations through expert agents for their strong types")
    consensus = [p for p in patterns if p.category is PatternCategory.CONSENSUS]
    if consensus:
        best = max(consensus, key=lambda p: p.success_rate)
        insights.append(
            f"Multi-agent consensus predicts success ({best.success_rate:.0%} approved over {best.frequency_count})"
        )
        advice.append("Increase use of multi-agent consensus for critical decisions")
    builders = [p for p in agent_profiles if p.consensus_builder]
    if builders:
        insights.append(f"{len(builders)} agents are strong consensus builders")
    failing = [p for p in patterns if p.category is PatternCategory.FAILURE_AVOIDANCE]
    if failing:
        worst = max(failing, key=lambda p: p.confidence_level)
        insights.append(
            f"Recommendations matching {' & '.join(worst.condition)} fail {1 - worst.success_rate:.0%} of the time"
        )
        advice.append("Hold back or double-check recommendations that match failure patterns")
    weak = [p for p in agent_profiles if p.weaknesses]
    if weak:
        advice.append("Provide additional training to weak-area agents")
    overconfident = [p for p in agent_profiles if p.calibration_gap > 0.15]
    if overconfident:
        insights.append(f"{len(overconfident)} agents state confidence well above their approval rate")
    return insights, advice


def run_cycle(
    workspace_id: str,
    rows: Sequence[Features],
    confidences: Mapping[str, float],
    *,
    iteration_id: str,
    started_at: datetime,
    min_pattern_confidence: float = 0.7,
    previous: PreviousCycle | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> CycleResult:
    begun = clock()
    config = MiningConfig(min_pattern_confidence=min_pattern_confidence)
    train, test = time_split(rows)
    validation = validate(mine(train, config), test)
    found = mine(rows, config)  # what the swarm uses next: mined on everything, judged above
    agent_profiles = profiles(rows, confidences)
    made_rules = rules(found)
    insights, advice = _insights(found, agent_profiles)
    mean_confidence = fmean(p.confidence_level for p in found) if found else None
    confirmed = sum(p.condition in previous.pattern_conditions for p in found) if previous else 0
    elapsed = clock() - begun
    return CycleResult(
        iteration_id=iteration_id,
        workspace_id=workspace_id,
        samples_analyzed=len(rows),
        patterns_discovered=len(found),
        patterns_confirmed=confirmed,
        rules_updated=len(made_rules),
        iteration_accuracy=validation.model_accuracy,
        coverage=validation.coverage,
        pattern_confidence_improvement=(
            mean_confidence - previous.mean_pattern_confidence
            if previous and previous.mean_pattern_confidence is not None and mean_confidence is not None
            else None
        ),
        rule_effectiveness_improvement=(
            validation.model_accuracy - previous.model_accuracy
            if previous and previous.model_accuracy is not None and validation.model_accuracy is not None
            else None
        ),
        key_insights=insights,
        recommendations_for_swarm=advice,
        started_at=started_at,
        completed_at=started_at + timedelta(seconds=elapsed),
        processing_time_seconds=elapsed,
        patterns=found,
        profiles=agent_profiles,
        rules=made_rules,
    )
