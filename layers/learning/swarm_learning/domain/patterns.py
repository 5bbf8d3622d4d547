"""Pattern discovery and validation (pure): the specification's five pattern types as conditions on features.

A candidate condition is one feature item or a pair of them (``confidence=high``,
``consensus=3+``, ``agent=STRAT-01 & type=strategy`` …): the frequent itemsets of size one and two
of the one-hot feature matrix, counted column-wise with ``numpy.bincount`` rather than row by row.

A condition becomes a pattern only with statistical support. Each candidate's approval rate is
compared with the rate of the rows it does not match (a two-proportion z-test), and the
Benjamini-Hochberg procedure keeps the false-discovery rate over *all* candidates tested at
``false_discovery_rate``: power grows with the data (a family-wise bound such as Bonferroni asks a
few hundred rows for z ≈ 3.8 and finds nothing), while a swarm whose outcomes depend on nothing
still yields nothing. A pattern's ``confidence_level`` is the learner's confidence that it is real:
one minus the one-sided p-value that its rate beats the baseline (or, for failure avoidance, falls
below it); ``min_pattern_confidence`` filters on it. How often the pattern succeeds is its
``success_rate``, a separate figure.

Validation is out of sample, over the time order (a rolling origin): patterns mined on the rows
before each cut are judged on the rows after it, up to the next cut. **Model accuracy** is the
share of judged recommendations whose outcome the patterns predicted, **coverage** the share of
held-out recommendations a pattern matched; both pool every fold, so a few hundred rows still
judge a hundred or more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import numpy.typing as npt

from swarm_learning.domain.features import FeatureTable
from swarm_learning.vocabulary import PatternCategory, Strength

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class MiningConfig:
    min_support: int = 20  # matched recommendations
    min_pattern_confidence: float = 0.7  # the specification's default, on 1 - the one-sided p-value
    false_discovery_rate: float = 0.05  # Benjamini-Hochberg level over every candidate tested
    min_lift: float = 1.1
    # A pair must beat each of its items by this many standard errors to be reported beside it.
    redundancy_z: float = 2.5


@dataclass(frozen=True)
class Pattern:
    condition: tuple[str, ...]
    category: PatternCategory
    success_rate: float
    frequency_count: int
    confidence_level: float  # 1 - one-sided p-value in the pattern's direction
    lift: float
    recommendation_strength: Strength
    # Benjamini-Hochberg adjusted p-value over every candidate tested with it: the smallest
    # false-discovery rate at which the pattern is still a discovery (None: learned before it was kept).
    q_value: float | None = None

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
            "q_value": self.q_value,
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
            q_value=state.get("q_value"),
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


def pattern_strength(lift: float, confidence: float) -> Strength:
    if lift >= 1.5 and confidence >= 0.85:
        return Strength.VERY_STRONG
    if lift >= 1.3 and confidence >= 0.75:
        return Strength.STRONG
    if lift >= 1.15:
        return Strength.MODERATE
    return Strength.WEAK


def proportion_z(wins: Any, n: Any, total_wins: float, total: float) -> Any:
    """Two-proportion z statistic of the matched rows against the rest (pooled variance, with
    Yates' continuity correction, which keeps the normal approximation from over-stating the
    evidence of a few dozen rows); 0 where either side is empty or the rates are within the
    correction of each other."""
    n = np.asarray(n, dtype=np.float64)
    wins = np.asarray(wins, dtype=np.float64)
    rest_n = total - n
    rest_wins = total_wins - wins
    pooled = total_wins / total if total else 0.0
    inverse_sizes = 1 / np.maximum(n, 1e-12) + 1 / np.maximum(rest_n, 1e-12)
    variance = pooled * (1 - pooled) * inverse_sizes
    difference = wins / np.maximum(n, 1e-12) - rest_wins / np.maximum(rest_n, 1e-12)
    corrected = np.sign(difference) * np.maximum(np.abs(difference) - inverse_sizes / 2, 0.0)
    usable = (n > 0) & (rest_n > 0) & (variance > 0)
    return np.where(usable, corrected / np.sqrt(np.where(usable, variance, 1.0)), 0.0)


def upper_tail(z: Any) -> Any:
    """P(Z >= z) for a standard normal, elementwise."""
    # erfc keeps its precision far into the tail, where 1 - cdf would round to 0.
    return 0.5 * np.vectorize(math.erfc, otypes=[np.float64])(np.asarray(z, dtype=np.float64) / math.sqrt(2))


def benjamini_hochberg(p_values: Any, level: float) -> npt.NDArray[np.bool_]:
    """Which hypotheses the Benjamini-Hochberg step-up procedure rejects at false-discovery
    ``level``: the largest k with p_(k) <= k / m * level, and every p-value up to it."""
    p = np.asarray(p_values, dtype=np.float64)
    m = len(p)
    rejected = np.zeros(m, dtype=bool)
    if not m:
        return rejected
    order = np.argsort(p, kind="stable")
    passing = np.flatnonzero(p[order] <= level * np.arange(1, m + 1) / m)
    if len(passing):
        rejected[order[: passing[-1] + 1]] = True
    return rejected


def benjamini_hochberg_q(p_values: Any) -> npt.NDArray[np.float64]:
    """Benjamini-Hochberg adjusted p-values (q-values): ``q_i <= level`` exactly when
    ``benjamini_hochberg`` rejects hypothesis i at ``level``."""
    p = np.asarray(p_values, dtype=np.float64)
    m = len(p)
    if not m:
        return np.zeros(0)
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    q = np.empty(m)
    q[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return q


def lift_interval(success_rate: float, n: int, lift: float, z: float = 1.96) -> tuple[float, float]:
    """The 95 % interval of a pattern's lift (its Wilson interval over the baseline, which the
    lift's own definition gives: baseline = success_rate / lift)."""
    if lift <= 0 or not math.isfinite(lift):
        return lift, lift
    baseline = success_rate / lift
    lower, upper = wilson_bounds(success_rate * n, n, z)
    return float(lower) / baseline, float(upper) / baseline


def moves_enough(rate: Any, baseline: float, min_lift: float, *, approving: bool) -> Any:
    """Whether a rate moves far enough from the baseline to be worth reporting: by ``min_lift``
    on both scales, success and failure. (On one scale alone, a 60 % baseline would let 55 %
    pass as a failure pattern, since 45 % is 1.1 x 40 %: a nudge that a few thousand rows make
    significant and no one can act on.)"""
    if approving:
        return (rate >= min_lift * baseline) & (1 - rate <= (1 - baseline) / min_lift)
    return (1 - rate >= min_lift * (1 - baseline)) & (rate <= baseline / min_lift)


def mine(table: FeatureTable, config: MiningConfig | None = None) -> list[Pattern]:
    """Patterns with statistical support in ``table`` (strongest first)."""
    config = config or MiningConfig()
    if not len(table):
        return []
    total = float(len(table))
    total_wins = float(table.approved.sum())
    baseline = total_wins / total
    itemsets = frequent_itemsets(table, config.min_support)
    n, wins = itemsets.support, itemsets.wins
    z = proportion_z(wins, n, total_wins, total)
    p_success, p_failure = upper_tail(z), upper_tail(-z)
    # One hypothesis per candidate (its rate differs from the rest's), two-sided.
    two_sided = np.minimum(2 * np.minimum(p_success, p_failure), 1.0)
    discovered = benjamini_hochberg(two_sided, config.false_discovery_rate)
    q_values = benjamini_hochberg_q(two_sided)
    rate = wins / np.maximum(n, 1)
    succeeds = discovered & (z > 0) & moves_enough(rate, baseline, config.min_lift, approving=True)
    fails = discovered & (z < 0) & moves_enough(rate, baseline, config.min_lift, approving=False)
    confidence = np.where(z > 0, 1 - p_success, 1 - p_failure)
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
                recommendation_strength=pattern_strength(
                    lift if not failing else 1 / max(lift, 1e-9), float(confidence[i])
                ),
                q_value=float(q_values[i]),
            )
        )
    return _without_redundant_pairs(patterns, config.redundancy_z, total_wins, total)


def _without_redundant_pairs(
    patterns: list[Pattern], z: float, total_wins: float, total: float
) -> list[Pattern]:
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
    return sorted(
        _without_explained_items(kept, z, total_wins, total),
        key=lambda p: (-p.confidence_level, -p.frequency_count, p.condition),
    )


def _without_explained_items(
    patterns: list[Pattern], z: float, total_wins: float, total: float
) -> list[Pattern]:
    """Drop an agent that stands out only through a pair reported in the same direction: when
    ``agent=A & type=content`` succeeds, ``agent=A`` may beat the baseline on those rows alone;
    if A's other rows do not beat the rest (by ``z``), "prefer A", which routing applies to every
    type, would be wrong advice for the others. (Other items are descriptions, not advice: a
    sharper sub-case does not make them wrong.)"""
    pairs = [p for p in patterns if len(p.condition) == 2]

    def explained(single: Pattern) -> bool:
        for pair in pairs:
            if (
                single.condition[0] not in pair.condition
                or pair.predicts_approval != single.predicts_approval
            ):
                continue
            n = single.frequency_count - pair.frequency_count
            wins = single.success_rate * single.frequency_count - pair.success_rate * pair.frequency_count
            score = float(
                proportion_z(
                    wins,
                    n,
                    total_wins - pair.success_rate * pair.frequency_count,
                    total - pair.frequency_count,
                )
            )
            if (score if single.predicts_approval else -score) < z:
                return True
        return False

    return [
        p
        for p in patterns
        if len(p.condition) != 1 or not p.condition[0].startswith("agent=") or not explained(p)
    ]
