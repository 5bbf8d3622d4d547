"""Pattern discovery and validation (pure): the seed's five pattern types as conditions on features.

A candidate condition is one feature item or a pair of them (``confidence=high``,
``consensus=3+``, ``agent=STRAT-01 & type=strategy`` …): the frequent itemsets of size one and two
of the one-hot feature matrix, counted column-wise with ``numpy.bincount`` rather than row by row.
A condition becomes a pattern only with statistical support: its approval rate's Wilson bound must
clear the baseline (or, for failure avoidance, stay under it) at a confidence corrected for the
number of candidates tested (Bonferroni), so mining many conditions does not manufacture patterns
out of noise; and that bound is the pattern's ``confidence_level``, which must reach
``min_pattern_confidence``.

Validation is on a time split: patterns are mined on the earlier part and judged on the later part,
where **model accuracy** is the share of matched recommendations whose outcome the patterns
predicted, and **coverage** the share of recommendations matched by any pattern.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt

from swarm_learning.features import FeatureTable
from swarm_learning.vocabulary import PatternCategory, Strength

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class MiningConfig:
    min_support: int = 20  # matched recommendations
    min_pattern_confidence: float = 0.7  # the seed's default, on the Wilson bound of the rate
    family_alpha: float = 0.05  # false-discovery budget shared by every candidate tested
    min_lift: float = 1.1


@dataclass(frozen=True)
class Pattern:
    condition: tuple[str, ...]
    category: PatternCategory
    success_rate: float
    frequency_count: int
    confidence_level: float  # Wilson bound: lower for success patterns, 1 - upper for failure ones
    lift: float
    recommendation_strength: Strength

    @property
    def predicts_approval(self) -> bool:
        return self.category is not PatternCategory.FAILURE_AVOIDANCE

    def to_state(self) -> dict[str, Any]:
        return {
            "condition": list(self.condition),
            "category": self.category.value,
            "success_rate": self.success_rate,
            "frequency_count": self.frequency_count,
            "confidence_level": self.confidence_level,
            "lift": self.lift,
            "recommendation_strength": self.recommendation_strength.value,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Pattern:
        return cls(
            condition=tuple(state["condition"]),
            category=PatternCategory(state["category"]),
            success_rate=state["success_rate"],
            frequency_count=state["frequency_count"],
            confidence_level=state["confidence_level"],
            lift=state["lift"],
            recommendation_strength=Strength(state["recommendation_strength"]),
        )


def wilson_bounds(successes: Any, n: Any, z: float) -> tuple[Any, Any]:
    """Wilson score interval of ``successes / n`` (scalars or arrays; n = 0 gives 0..1)."""
    n_safe = np.maximum(n, 1e-12)
    p = successes / n_safe
    centre = p + z * z / (2 * n_safe)
    spread = z * np.sqrt(p * (1 - p) / n_safe + z * z / (4 * n_safe * n_safe))
    denominator = 1 + z * z / n_safe
    lower = np.where(n > 0, np.maximum((centre - spread) / denominator, 0.0), 0.0)
    upper = np.where(n > 0, np.minimum((centre + spread) / denominator, 1.0), 1.0)
    if np.ndim(lower) == 0:
        return float(lower), float(upper)
    return lower, upper


@dataclass(frozen=True)
class Itemsets:
    """Frequent itemsets of size one and two with their support and approved count."""

    conditions: list[tuple[str, ...]]
    support: FloatArray
    wins: FloatArray

    def as_dict(self) -> dict[frozenset[str], int]:
        return {frozenset(c): int(n) for c, n in zip(self.conditions, self.support, strict=True)}


def frequent_itemsets(table: FeatureTable, min_support: int) -> Itemsets:
    """Every item and pair of items of ``table`` matched by at least ``min_support`` rows.

    The one-hot matrix is never built: an item is a value of a categorical slot (one per row) or a
    content attribute (a boolean column), so pair counts are a ``bincount`` of combined codes for
    two slots, a ``bincount`` over the rows carrying an attribute for a slot and an attribute, and
    a matrix product for two attributes.
    """
    weights = table.approved.astype(np.float64)
    slots = table.slots()
    content = table.content
    content_items = [f"has={label}" for label in table.content_labels]
    conditions: list[tuple[str, ...]] = []
    supports: list[npt.NDArray[Any]] = []
    wins: list[npt.NDArray[Any]] = []

    def keep(labels: list[tuple[str, ...]], support: npt.NDArray[Any], won: npt.NDArray[Any]) -> None:
        frequent = np.flatnonzero(support >= min_support)
        conditions.extend(labels[i] for i in frequent)
        supports.append(support[frequent])
        wins.append(won[frequent])

    for slot in slots:
        size = len(slot.labels)
        keep(
            [(item,) for item in slot.items()],
            np.bincount(slot.codes, minlength=size).astype(np.float64),
            np.bincount(slot.codes, weights=weights, minlength=size),
        )
    content_f = content.astype(np.float64)
    keep([(item,) for item in content_items], content_f.sum(axis=0), weights @ content_f)

    for first, second in combinations(slots, 2):
        size = len(first.labels) * len(second.labels)
        combined = first.codes.astype(np.int64) * len(second.labels) + second.codes
        keep(
            [(a, b) for a in first.items() for b in second.items()],
            np.bincount(combined, minlength=size).astype(np.float64),
            np.bincount(combined, weights=weights, minlength=size),
        )
    for k, attribute in enumerate(content_items):
        rows = np.flatnonzero(content[:, k])
        for slot in slots:
            codes = slot.codes[rows]
            keep(
                [(item, attribute) for item in slot.items()],
                np.bincount(codes, minlength=len(slot.labels)).astype(np.float64),
                np.bincount(codes, weights=weights[rows], minlength=len(slot.labels)),
            )
    if content_items:
        together = content_f.T @ content_f
        won_together = (content_f * weights[:, None]).T @ content_f
        upper = np.triu_indices(len(content_items), k=1)
        keep(
            [(content_items[i], content_items[j]) for i, j in zip(*upper, strict=True)],
            together[upper],
            won_together[upper],
        )
    return Itemsets(
        conditions,
        np.concatenate(supports) if supports else np.zeros(0),
        np.concatenate(wins) if wins else np.zeros(0),
    )


def _category(condition: tuple[str, ...], failing: bool) -> PatternCategory:
    if failing:
        return PatternCategory.FAILURE_AVOIDANCE
    if any(item.startswith("consensus=") and item != "consensus=1" for item in condition):
        return PatternCategory.CONSENSUS
    if "expert=yes" in condition or any(item.startswith("agent=") for item in condition):
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


def mine(table: FeatureTable, config: MiningConfig | None = None) -> list[Pattern]:
    """Patterns with statistical support in ``table`` (strongest first)."""
    config = config or MiningConfig()
    if not len(table):
        return []
    baseline = float(table.approved.mean())
    itemsets = frequent_itemsets(table, config.min_support)
    n, wins = itemsets.support, itemsets.wins
    # One-sided test per candidate, at the family's alpha split across all of them (Bonferroni).
    z = NormalDist().inv_cdf(1 - config.family_alpha / max(len(n), 1))
    lower, upper = wilson_bounds(wins, n, z)
    rate = wins / np.maximum(n, 1)
    succeeds = (lower > baseline) & (rate >= config.min_lift * baseline)
    fails = (upper < baseline) & (1 - rate >= config.min_lift * (1 - baseline))
    confidence = np.where(succeeds, lower, 1 - upper)
    selected = np.flatnonzero((succeeds | fails) & (confidence >= config.min_pattern_confidence))
    patterns = []
    for i in selected:
        failing = bool(fails[i])
        lift = float(rate[i]) / baseline if baseline > 0 else math.inf
        patterns.append(
            Pattern(
                condition=itemsets.conditions[i],
                category=_category(itemsets.conditions[i], failing),
                success_rate=float(rate[i]),
                frequency_count=int(n[i]),
                confidence_level=float(confidence[i]),
                lift=lift,
                recommendation_strength=_strength(
                    lift if not failing else 1 / max(lift, 1e-9), float(confidence[i])
                ),
            )
        )
    return _without_redundant_pairs(patterns, z)


def _without_redundant_pairs(patterns: list[Pattern], z: float) -> list[Pattern]:
    """Keep a pair only if it is significantly stronger (beyond the sampling error at the mining
    ``z``) than each of its items already reported in the same direction: ``agent=X &
    confidence=low`` says nothing more than ``confidence=low`` when every agent's low-confidence
    advice fails alike, and a weaker sub-case of a pattern says less than the pattern. Strongest
    first."""
    singles = {p.condition[0]: p for p in patterns if len(p.condition) == 1}

    def explained_by(pattern: Pattern, parent: Pattern | None) -> bool:
        if parent is None or parent.predicts_approval != pattern.predicts_approval:
            return False
        rate = parent.success_rate
        margin = z * math.sqrt(max(rate * (1 - rate), 1e-6) / pattern.frequency_count)
        if pattern.predicts_approval:
            return pattern.success_rate <= rate + margin
        return pattern.success_rate >= rate - margin

    kept = [
        pattern
        for pattern in patterns
        if len(pattern.condition) == 1
        or not any(explained_by(pattern, singles.get(i)) for i in pattern.condition)
    ]
    return sorted(kept, key=lambda p: (-p.confidence_level, -p.frequency_count, p.condition))


@dataclass(frozen=True)
class Validation:
    model_accuracy: float | None
    coverage: float
    matched: int
    evaluated: int


def predict(patterns: Sequence[Pattern], table: FeatureTable) -> npt.NDArray[np.int8]:
    """Per row: 1 (approved) or 0 (not) as the most confident matching pattern says, -1 if none."""
    verdict = np.full(len(table), -1, dtype=np.int8)
    open_rows = np.ones(len(table), dtype=bool)
    for pattern in patterns:  # strongest first
        matched = table.mask(pattern.condition) & open_rows
        verdict[matched] = int(pattern.predicts_approval)
        open_rows &= ~matched
    return verdict


def validate(patterns: Sequence[Pattern], table: FeatureTable) -> Validation:
    verdict = predict(patterns, table)
    matched = verdict >= 0
    count = int(matched.sum())
    correct = int((verdict[matched] == table.approved[matched]).sum())
    return Validation(
        model_accuracy=correct / count if count else None,
        coverage=count / len(table) if len(table) else 0.0,
        matched=count,
        evaluated=len(table),
    )


def time_split(table: FeatureTable, train_share: float = 0.7) -> tuple[FeatureTable, FeatureTable]:
    """Earlier part to mine, later part to validate (the table is in time order)."""
    cut = int(len(table) * train_share)
    return table.rows(0, cut), table.rows(cut, len(table))


@dataclass(frozen=True)
class Revalidation:
    kept: list[Pattern]  # with figures updated from the recent data where it had support
    dropped: list[tuple[Pattern, str]]  # and why
    revalidated: set[tuple[str, ...]]  # conditions whose figures come from the recent data


def revalidate(
    patterns: Sequence[Pattern], recent: FeatureTable, config: MiningConfig | None = None
) -> Revalidation:
    """The pattern-refresh job: drop patterns below ``min_pattern_confidence``, and re-test the rest
    on ``recent`` data, dropping those it no longer supports (same test as mining, Bonferroni over
    the patterns re-tested). A pattern without ``min_support`` recent matches keeps its figures."""
    config = config or MiningConfig()
    kept: list[Pattern] = []
    dropped: list[tuple[Pattern, str]] = []
    revalidated: set[tuple[str, ...]] = set()
    confident = []
    for pattern in patterns:
        if pattern.confidence_level < config.min_pattern_confidence:
            dropped.append((pattern, "low_confidence"))
        else:
            confident.append(pattern)
    if not len(recent):
        return Revalidation(confident, dropped, revalidated)
    baseline = float(recent.approved.mean())
    z = NormalDist().inv_cdf(1 - config.family_alpha / max(len(confident), 1))
    for pattern in confident:
        matched = recent.mask(pattern.condition)
        n = int(matched.sum())
        if n < config.min_support:
            kept.append(pattern)
            continue
        wins = int(recent.approved[matched].sum())
        lower, upper = wilson_bounds(wins, n, z)
        rate = wins / n
        confidence = lower if pattern.predicts_approval else 1 - upper
        holds = lower > baseline if pattern.predicts_approval else upper < baseline
        if not holds or confidence < config.min_pattern_confidence:
            dropped.append((pattern, "not_supported_by_recent_data"))
            continue
        lift = rate / baseline if baseline > 0 else math.inf
        revalidated.add(pattern.condition)
        kept.append(
            Pattern(
                condition=pattern.condition,
                category=pattern.category,
                success_rate=rate,
                frequency_count=n,
                confidence_level=confidence,
                lift=lift,
                recommendation_strength=_strength(
                    lift if pattern.predicts_approval else 1 / max(lift, 1e-9), confidence
                ),
            )
        )
    return Revalidation(kept, dropped, revalidated)
