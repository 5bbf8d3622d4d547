"""How well mined patterns predict outcomes they were not mined from: prediction, validation on a
time split or rolling cuts, and revalidation of current patterns on newer outcomes (pure)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from swarm_learning.domain.features import FeatureTable
from swarm_learning.domain.patterns import (
    MiningConfig,
    Pattern,
    benjamini_hochberg,
    benjamini_hochberg_q,
    mine,
    pattern_strength,
    proportion_z,
    upper_tail,
    wilson_bounds,
)


@dataclass(frozen=True)
class Validation:
    model_accuracy: float | None
    coverage: float
    matched: int  # held-out rows a pattern judged (the accuracy's denominator)
    evaluated: int  # held-out rows (the coverage's denominator)
    correct: int = 0

    def __add__(self, other: Validation) -> Validation:
        matched = self.matched + other.matched
        evaluated = self.evaluated + other.evaluated
        correct = self.correct + other.correct
        return Validation(
            model_accuracy=correct / matched if matched else None,
            coverage=matched / evaluated if evaluated else 0.0,
            matched=matched,
            evaluated=evaluated,
            correct=correct,
        )


NO_VALIDATION = Validation(model_accuracy=None, coverage=0.0, matched=0, evaluated=0)


PREDICTION_Z = 1.96  # patterns judge a row in the order of the lower bound of their hit rate


def sureness(pattern: Pattern) -> float:
    """How sure the pattern's call is: the Wilson lower bound of the share of its rows that had the
    outcome most of them had."""
    share = max(pattern.success_rate, 1 - pattern.success_rate)
    lower, _ = wilson_bounds(share * pattern.frequency_count, pattern.frequency_count, PREDICTION_Z)
    return float(lower)


def prediction_order(patterns: Sequence[Pattern]) -> list[Pattern]:
    """The patterns that judge rows, surest call first. A broad, mild pattern (``consensus=1``:
    55 % approved against 65 % elsewhere) is real, but its call is a coin flip: it does not judge,
    and it must never speak before a sharp one (``confidence=low``: 90 % rejected) for the rows
    they share."""
    decisive = [p for p in patterns if sureness(p) > 0.5]
    return sorted(decisive, key=lambda p: (-sureness(p), p.condition))


def predict(patterns: Sequence[Pattern], table: FeatureTable) -> npt.NDArray[np.int8]:
    """Per row: 1 (approved) or 0 (not) as the surest matching pattern calls it, -1 if none
    matches. A pattern calls the outcome most of its rows had."""
    verdict = np.full(len(table), -1, dtype=np.int8)
    open_rows = np.ones(len(table), dtype=bool)
    for pattern in prediction_order(patterns):
        matched = table.mask(pattern.condition) & open_rows
        verdict[matched] = int(pattern.success_rate >= 0.5)
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
        correct=correct,
    )


def time_split(table: FeatureTable, train_share: float = 0.7) -> tuple[FeatureTable, FeatureTable]:
    """Earlier part to mine, later part to validate (the table is in time order)."""
    cut = int(len(table) * train_share)
    return table.rows(0, cut), table.rows(cut, len(table))


# Where the rolling origin cuts the time order: mine before a cut, judge up to the next one. Five
# folds judge the later half of the rows; past ``ROLLING_MAX_ROWS`` one split (70 / 30) judges
# plenty, and mining five times would only cost time.
ROLLING_CUTS = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
ROLLING_MAX_ROWS = 50_000


def rolling_validation(table: FeatureTable, config: MiningConfig | None = None) -> Validation:
    """Out-of-sample accuracy and coverage over the time order, pooled over the folds."""
    if len(table) > ROLLING_MAX_ROWS:
        train, test = time_split(table)
        return validate(mine(train, config), test)
    total = NO_VALIDATION
    cuts = [int(len(table) * share) for share in ROLLING_CUTS]
    for start, stop in pairwise(cuts):
        if stop > start:
            total = total + validate(mine(table.rows(0, start), config), table.rows(start, stop))
    return total


@dataclass(frozen=True)
class Revalidation:
    kept: list[Pattern]  # with figures updated from the recent data where it had support
    dropped: list[tuple[Pattern, str]]  # and why
    revalidated: set[tuple[str, ...]]  # conditions whose figures come from the recent data


def revalidate(
    patterns: Sequence[Pattern], recent: FeatureTable, config: MiningConfig | None = None
) -> Revalidation:
    """The pattern-refresh job: drop patterns below ``min_pattern_confidence``, and re-test the rest
    on ``recent`` data with the mining test (Benjamini-Hochberg over the patterns re-tested),
    dropping those it no longer supports. A pattern without ``min_support`` recent matches keeps
    its figures."""
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
    total, total_wins = float(len(recent)), float(recent.approved.sum())
    baseline = total_wins / total
    masks = [recent.mask(pattern.condition) for pattern in confident]
    n = np.array([mask.sum() for mask in masks], dtype=np.float64)
    wins = np.array([recent.approved[mask].sum() for mask in masks], dtype=np.float64)
    z = proportion_z(wins, n, total_wins, total)
    directed = np.array([1.0 if p.predicts_approval else -1.0 for p in confident])
    p_directed = upper_tail(z * directed) if len(confident) else np.zeros(0)
    tested = n >= config.min_support
    supported = np.zeros(len(confident), dtype=bool)
    supported[tested] = benjamini_hochberg(p_directed[tested], config.false_discovery_rate)
    q_values = np.ones(len(confident))
    q_values[tested] = benjamini_hochberg_q(p_directed[tested])
    for i, pattern in enumerate(confident):
        if not tested[i]:
            kept.append(pattern)
            continue
        confidence = float(1 - p_directed[i])
        if not supported[i] or confidence < config.min_pattern_confidence:
            dropped.append((pattern, "not_supported_by_recent_data"))
            continue
        rate = float(wins[i] / n[i])
        lift = rate / baseline if baseline > 0 else math.inf
        revalidated.add(pattern.condition)
        kept.append(
            Pattern(
                condition=pattern.condition,
                category=pattern.category,
                success_rate=rate,
                frequency_count=int(n[i]),
                confidence_level=confidence,
                lift=lift,
                recommendation_strength=pattern_strength(
                    lift if pattern.predicts_approval else 1 / max(lift, 1e-9), confidence
                ),
                q_value=float(q_values[i]),
            )
        )
    return Revalidation(kept, dropped, revalidated)
