"""Pattern discovery and validation (pure): the seed's five pattern types as conditions on features.

A candidate condition is one feature item or a pair of them (``confidence=high``,
``consensus=3+``, ``agent_type=STRAT-01@strategy & confidence=high`` …). A condition becomes a
pattern only with statistical support: its approval rate's Wilson bound must clear the baseline
(or, for failure avoidance, stay under it) at a confidence corrected for the number of candidates
tested (Bonferroni), so mining many conditions does not manufacture patterns out of noise.

Validation is on a time split: patterns are mined on the earlier part and judged on the later part,
where **model accuracy** is the share of matched recommendations whose outcome the patterns
predicted, and **coverage** the share of recommendations matched by any pattern.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import combinations
from statistics import NormalDist

from swarm_learning.features import Features
from swarm_learning.vocabulary import Strength


class PatternCategory(StrEnum):
    HIGH_CONFIDENCE = "high_confidence"
    CONSENSUS = "consensus"
    EXPERT_OPINION = "expert_opinion"
    FAILURE_AVOIDANCE = "failure_avoidance"
    SUCCESS_INDICATOR = "success_indicator"


@dataclass(frozen=True)
class MiningConfig:
    min_support: int = 20  # matched recommendations
    min_pattern_confidence: float = 0.7  # the seed's default, on the Wilson bound of the rate
    family_alpha: float = 0.05  # false-discovery budget shared by every candidate tested
    min_lift: float = 1.1
    max_pair_items: int = 60  # pairs are formed among the most frequent items only


@dataclass(frozen=True)
class Pattern:
    condition: tuple[str, ...]
    category: PatternCategory
    success_rate: float
    frequency_count: int
    confidence_level: float  # Wilson bound: lower for success patterns, 1 - upper for failure ones
    lift: float
    recommendation_strength: Strength

    def matches(self, items: frozenset[str]) -> bool:
        return all(item in items for item in self.condition)

    @property
    def predicts_approval(self) -> bool:
        return self.category is not PatternCategory.FAILURE_AVOIDANCE


def wilson_bounds(successes: float, n: float, z: float) -> tuple[float, float]:
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denominator = 1 + z * z / n
    return max((centre - spread) / denominator, 0.0), min((centre + spread) / denominator, 1.0)


def _category(condition: tuple[str, ...], failing: bool) -> PatternCategory:
    if failing:
        return PatternCategory.FAILURE_AVOIDANCE
    if any(item.startswith("consensus=") and item != "consensus=1" for item in condition):
        return PatternCategory.CONSENSUS
    if "expert=yes" in condition or any(item.startswith("agent_type=") for item in condition):
        return PatternCategory.EXPERT_OPINION
    if "confidence=high" in condition:
        return PatternCategory.HIGH_CONFIDENCE
    return PatternCategory.SUCCESS_INDICATOR


def _strength(lift: float, confidence: float) -> Strength:
    if lift >= 1.5 and confidence >= 0.85:
        return Strength.VERY_STRONG
    if lift >= 1.3 and confidence >= 0.75:
        return Strength.STRONG
    if lift >= 1.15:
        return Strength.MODERATE
    return Strength.WEAK


def mine(rows: Sequence[Features], config: MiningConfig | None = None) -> list[Pattern]:
    """Patterns with statistical support in ``rows`` (strongest first)."""
    config = config or MiningConfig()
    if not rows:
        return []
    baskets = [(frozenset(row.items()), row.approved) for row in rows]
    baseline = sum(approved for _, approved in baskets) / len(baskets)

    support: Counter[tuple[str, ...]] = Counter()
    wins: Counter[tuple[str, ...]] = Counter()
    for items, approved in baskets:
        for item in items:
            support[(item,)] += 1
            wins[(item,)] += approved
    frequent = sorted(
        (c[0] for c, n in support.items() if n >= config.min_support), key=lambda i: -support[(i,)]
    )[: config.max_pair_items]
    frequent_set = set(frequent)
    for items, approved in baskets:
        for pair in combinations(sorted(items & frequent_set), 2):
            support[pair] += 1
            wins[pair] += approved

    candidates = [c for c, n in support.items() if n >= config.min_support]
    # One-sided test per candidate, at the family's alpha split across all of them (Bonferroni).
    z = NormalDist().inv_cdf(1 - config.family_alpha / max(len(candidates), 1))
    patterns = []
    for condition in candidates:
        n, successes = support[condition], wins[condition]
        lower, upper = wilson_bounds(successes, n, z)
        rate = successes / n
        if lower > baseline and rate >= config.min_lift * baseline:
            failing, confidence = False, lower
        elif upper < baseline and 1 - rate >= config.min_lift * (1 - baseline):
            failing, confidence = True, 1 - upper
        else:
            continue
        if confidence < config.min_pattern_confidence:
            continue
        lift = rate / baseline if baseline > 0 else math.inf
        patterns.append(
            Pattern(
                condition=condition,
                category=_category(condition, failing),
                success_rate=rate,
                frequency_count=n,
                confidence_level=confidence,
                lift=lift,
                recommendation_strength=_strength(lift if not failing else 1 / max(lift, 1e-9), confidence),
            )
        )
    return _without_redundant_pairs(patterns)


def _without_redundant_pairs(patterns: list[Pattern]) -> list[Pattern]:
    """Keep one pattern per set of matched outcomes (``agent=A & type=content`` and
    ``agent_type=A@content`` are the same evidence), preferring the shorter condition; and drop a
    pair whose rate is within 0.05 of one of its items that is already a pattern in the same
    direction — it says nothing more."""
    seen: set[tuple[int, float, bool]] = set()
    singles = {p.condition[0]: p for p in patterns if len(p.condition) == 1}
    kept = []
    for pattern in sorted(patterns, key=lambda p: (len(p.condition), -p.confidence_level)):
        evidence = (pattern.frequency_count, round(pattern.success_rate, 9), pattern.predicts_approval)
        if evidence in seen:
            continue
        if len(pattern.condition) == 2 and any(
            (parent := singles.get(item)) is not None
            and parent.predicts_approval == pattern.predicts_approval
            and abs(parent.success_rate - pattern.success_rate) < 0.05
            for item in pattern.condition
        ):
            continue
        seen.add(evidence)
        kept.append(pattern)
    return sorted(kept, key=lambda p: (-p.confidence_level, -p.frequency_count))


@dataclass(frozen=True)
class Validation:
    model_accuracy: float | None
    coverage: float
    matched: int
    evaluated: int


def predict(patterns: Sequence[Pattern], items: frozenset[str]) -> bool | None:
    """The most confident matching pattern's verdict (approved or not), or None when none match."""
    for pattern in patterns:  # strongest first
        if pattern.matches(items):
            return pattern.predicts_approval
    return None


def validate(patterns: Sequence[Pattern], rows: Sequence[Features]) -> Validation:
    correct = matched = 0
    for row in rows:
        verdict = predict(patterns, frozenset(row.items()))
        if verdict is None:
            continue
        matched += 1
        correct += verdict == row.approved
    return Validation(
        model_accuracy=correct / matched if matched else None,
        coverage=matched / len(rows) if rows else 0.0,
        matched=matched,
        evaluated=len(rows),
    )


def time_split(rows: Sequence[Features], train_share: float = 0.7) -> tuple[list[Features], list[Features]]:
    """Earlier part to mine, later part to validate (rows in time order)."""
    ordered = sorted(rows, key=lambda r: (r.created_at, r.recommendation_id))
    cut = int(len(ordered) * train_share)
    return ordered[:cut], ordered[cut:]
