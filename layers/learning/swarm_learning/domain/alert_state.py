"""What an alert is about, as pure state machines: one state per workspace and subject, and the
alert a new reading raises when it changes that state (none when it does not).

The state is about the subject, not about the detector's window: an agent that declined stays
declined until its recent outcomes are back at the level it fell from (``drift.recovered``), so a
change point that leaves the window does not announce a recovery; an agent stays below ``min_trust``
until it reaches it again. Repeated reads in the same state raise nothing, so alerts are
deduplicated by state, whatever the run times.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from swarm_learning.domain import drift
from swarm_learning.vocabulary import AlertKind

__all__ = ["AlertKind", "Change", "TrendState", "next_trend_state"]

DECLINED, NORMAL = "declined", "normal"
ABOVE, BELOW = "above", "below"
MET, MISSED = "met", "below_target"
OK, FAILED, UNDERPERFORMING = "ok", "failed", "underperforming"

# Learning-cycle targets (the dashboard's and docs/learning.md's): accuracy and coverage.
TARGET_ACCURACY = 0.80
TARGET_COVERAGE = 0.70
# An agent above min_trust counts as having fallen below it only this far under it, so a score
# hovering at the threshold does not alert at every refresh.
THRESHOLD_HYSTERESIS = 0.02


@dataclass(frozen=True)
class TrendState:
    """An agent's performance state. ``reference``: the approval rate it fell from (kept while it
    is declined); ``level``: the rate it fell to."""

    status: str
    reference: float | None = None
    level: float | None = None


@dataclass(frozen=True)
class Change:
    """An alert to raise: its kind and the figures it carries."""

    kind: AlertKind
    before: float | None
    after: float | None
    evidence_n: int
    details: dict[str, float | int | str | None]


def next_trend_state(
    state: TrendState | None, cut: drift.Cut | None, values: Sequence[float], config: drift.DriftConfig
) -> tuple[TrendState | None, AlertKind | None]:
    """The agent's next state given the decline detector's answer (``cut``) and its recent outcomes
    (``values``, oldest first), and the alert the move raises."""
    new, change = trend_transition(state, cut, values, config)
    return new, change.kind if change else None


def trend_transition(
    state: TrendState | None, cut: drift.Cut | None, values: Sequence[float], config: drift.DriftConfig
) -> tuple[TrendState | None, Change | None]:
    if state is None or state.status != DECLINED:
        if cut is None:
            return state, None
        return TrendState(DECLINED, cut.older_mean, cut.newer_mean), Change(
            AlertKind.AGENT_TRUST_DECLINED,
            cut.older_mean,
            cut.newer_mean,
            cut.older + cut.newer,
            {"outcomes_before": cut.older, "outcomes_after": cut.newer},
        )
    reference = state.reference if state.reference is not None else 0.0
    back, rate, n = drift.recovered(values, reference, config)
    if not back:
        return state, None
    return TrendState(NORMAL), Change(
        AlertKind.AGENT_TRUST_RECOVERED,
        state.level,
        rate,
        n,
        {"reference": reference},
    )


def threshold_transition(
    status: str | None, score: float, min_trust: float, *, evidence_n: int, previous_score: float | None
) -> tuple[str, Change | None]:
    """Above or below ``min_trust``: the first reading only sets the state; then a crossing either
    way raises ``AgentTrustThresholdCrossed`` (down only once under ``min_trust - hysteresis``)."""
    if status is None:
        return (ABOVE if score >= min_trust else BELOW), None
    if status == BELOW and score >= min_trust:
        new = ABOVE
    elif status == ABOVE and score < min_trust - THRESHOLD_HYSTERESIS:
        new = BELOW
    else:
        return status, None
    return new, Change(
        AlertKind.AGENT_TRUST_THRESHOLD_CROSSED,
        previous_score,
        score,
        evidence_n,
        {"min_trust": min_trust, "direction": "up" if new == ABOVE else "down"},
    )


def cycle_target_transition(
    status: str | None,
    accuracy: float | None,
    coverage: float,
    *,
    samples: int,
    previous: tuple[float | None, float | None],
) -> tuple[str, Change | None]:
    """Below target when accuracy < 0.80 (when it could be judged) or coverage < 0.70; raises
    ``LearningCycleBelowTarget`` when a workspace moves below target (not while it stays there)."""
    missed = (accuracy is not None and accuracy < TARGET_ACCURACY) or coverage < TARGET_COVERAGE
    new = MISSED if missed else MET
    if new in (status, MET):
        return new, None
    return new, Change(
        AlertKind.LEARNING_CYCLE_BELOW_TARGET,
        previous[0],
        accuracy,
        samples,
        {
            "coverage_before": previous[1],
            "coverage_after": coverage,
            "target_accuracy": TARGET_ACCURACY,
            "target_coverage": TARGET_COVERAGE,
        },
    )


def cycle_failed_transition(
    status: str | None, failed: bool, *, error: str | None
) -> tuple[str, Change | None]:
    """``LearningCycleFailed`` when a workspace's cycles move from succeeding (or never run) to
    failing; a run of failures raises it once, the next success re-arms it."""
    new = FAILED if failed else OK
    if new == status or not failed:
        return new, None
    return new, Change(AlertKind.LEARNING_CYCLE_FAILED, None, None, 0, {"error": error})


@dataclass(frozen=True)
class RouterAgainstBestAgent:
    """The off-policy evaluation of routing: the router's estimated value against the best fixed
    agent's, and the interval of their difference (router - best)."""

    router_value: float
    best_fixed_value: float
    best_agent_id: str
    difference_low: float
    difference_high: float
    decisions: int


def routing_transition(status: str | None, evaluation: RouterAgainstBestAgent) -> tuple[str, Change | None]:
    """Underperforming when the router's value is below the best fixed agent's and the interval of
    the difference excludes 0; raises ``RoutingUnderperforming`` on entering that state."""
    under = evaluation.router_value < evaluation.best_fixed_value and evaluation.difference_high < 0
    new = UNDERPERFORMING if under else OK
    if new == status or not under:
        return new, None
    return new, Change(
        AlertKind.ROUTING_UNDERPERFORMING,
        evaluation.best_fixed_value,
        evaluation.router_value,
        evaluation.decisions,
        {
            "best_agent_id": evaluation.best_agent_id,
            "difference_low": evaluation.difference_low,
            "difference_high": evaluation.difference_high,
        },
    )
