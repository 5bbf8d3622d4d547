"""Ranking: trust against each agent's hidden success probability (Spearman), calibration, and the ranking under other configurations."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bench.report import markdown_table
from bench.trust_quality.simulation import (
    WORKSPACE,
    Buckets,
    day_of,
    hidden_quality,
    median_min,
    ranks,
    recommendation_counters,
    signed,
    spearman,
)
from localdev.swarm import (
    AgentProfile,
    Swarm,
)
from swarm_learning.domain import trust, trust_values
from swarm_learning.domain.counters import (
    add_counters,
)
from swarm_learning.domain.trust_values import TrustConfig, TrustWeights

# 1. ranking
RANKING_OUTCOMES, RANKING_PER_DAY = 2_000, 100


RANKING_SEEDS = tuple(range(1, 21))  # the first is the run shown agent by agent


TARGET_SPEARMAN = 0.95


# Other TrustConfig values to measure (the first of each is the service's default).
RANKING_CONFIGS: dict[str, TrustConfig] = {
    "default": TrustConfig(),
    "confidence_k=10 (the previous default)": TrustConfig(confidence_k=10.0),
    "confidence_k=2": TrustConfig(confidence_k=2.0),
    "weights 0.60/0.15/0.10/0.15": TrustConfig(weights=TrustWeights(0.60, 0.15, 0.10, 0.15)),
    "weights 0.60/0.15/0.10/0.15, confidence_k=2": TrustConfig(
        confidence_k=2.0, weights=TrustWeights(0.60, 0.15, 0.10, 0.15)
    ),
    "weights 1/0/0/0 (accuracy x confidence factor)": TrustConfig(weights=TrustWeights(1.0, 0.0, 0.0, 0.0)),
}


@dataclass(frozen=True)
class AgentResult:
    agent: AgentProfile
    score: trust_values.TrustScore
    totals: dict[str, float]
    mean_hidden_probability: float  # of the recommendations it actually made (failures included)


def ranking_run(
    agents: Sequence[AgentProfile], seed: int, configs: Sequence[TrustConfig]
) -> list[list[AgentResult]]:
    """2,000 evaluated recommendations from ``Swarm.workflows``, 100 a day; every agent scored on
    its own (all-types) scope on the last day, once per config, against its workspace baseline as
    the service builds it (``Baseline.for_mix`` of the workspace's per-type buckets) and with the
    order of its outcomes (for the trend)."""
    buckets: dict[str, Buckets] = defaultdict(Buckets)
    workspace: dict[str, Buckets] = defaultdict(Buckets)
    shares: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    outcomes: dict[str, list[float]] = defaultdict(list)
    probabilities: dict[str, list[float]] = defaultdict(list)
    made = 0
    for workflow in Swarm(agents, seed=seed).workflows(WORKSPACE, RANKING_OUTCOMES):
        for recommendation in workflow.recommendations:
            if made < RANKING_OUTCOMES:
                counters = recommendation_counters(recommendation)
                recommendation_type = recommendation.request["recommendation_type"]
                buckets[recommendation.agent_id].add(made // RANKING_PER_DAY, counters)
                workspace[recommendation_type].add(made // RANKING_PER_DAY, counters)
                shares[recommendation.agent_id][recommendation_type] += 1
                outcomes[recommendation.agent_id].append(counters.get("approved", 0.0))
                probabilities[recommendation.agent_id].append(recommendation.truth.success_probability)
                made += 1
        if made >= RANKING_OUTCOMES:
            break
    today = day_of((RANKING_OUTCOMES - 1) // RANKING_PER_DAY)
    total = add_counters(b.totals() for b in workspace.values())
    results = []
    for config in configs:
        decayed = {
            t: trust.decayed_counters(b.days(), today, config.half_life_days) for t, b in workspace.items()
        }
        results.append(
            [
                AgentResult(
                    agent,
                    trust.score(
                        buckets[agent.agent_id].days(),
                        today,
                        config,
                        baseline=trust_values.Baseline.for_mix(shares[agent.agent_id], decayed, total),
                        recent_outcomes=outcomes[agent.agent_id][::-1],
                    ),
                    buckets[agent.agent_id].totals(),
                    statistics.fmean(probabilities[agent.agent_id]) if probabilities[agent.agent_id] else 0.0,
                )
                for agent in agents
            ]
        )
    return results


@dataclass(frozen=True)
class Correlations:
    overall: float
    accuracy: float
    lower_bound: float


def correlations(results: Sequence[AgentResult]) -> Correlations:
    truth = [hidden_quality(r.agent) for r in results]
    return Correlations(
        spearman(truth, [r.score.overall_trust_score for r in results]),
        spearman(truth, [r.score.accuracy_score for r in results]),
        spearman(truth, [r.score.accuracy_lower_bound for r in results]),
    )


@dataclass(frozen=True)
class CalibrationResult:
    true_bias: float
    realized_bias: float  # mean stated confidence - mean hidden probability of its draws
    recovered_bias: float  # from the calibration bins: mean confidence - observed success
    approvals_bias: float  # mean confidence - approval rate (partial counted as a failure)
    ece: float | None


def calibration_of(result: AgentResult) -> CalibrationResult:
    bins = result.score.calibration
    count = sum(b.count for b in bins)
    confidence = sum(b.count * (b.mean_confidence or 0.0) for b in bins) / count
    observed = sum(b.count * (b.observed_success or 0.0) for b in bins) / count
    evaluated = result.totals["evaluated"]
    return CalibrationResult(
        true_bias=result.agent.calibration_bias,
        realized_bias=result.totals["confidence_sum"] / evaluated - result.mean_hidden_probability,
        recovered_bias=confidence - observed,
        approvals_bias=result.totals["confidence_sum"] / evaluated
        - result.totals.get("approved", 0.0) / evaluated,
        ece=trust_values.expected_calibration_error(bins),
    )


def ranking_section(results: Sequence[AgentResult], spread: Sequence[Correlations]) -> str:
    truth = [hidden_quality(r.agent) for r in results]
    true_rank = ranks([-t for t in truth])
    trust_rank = ranks([-r.score.overall_trust_score for r in results])
    rows = []
    for i in sorted(range(len(results)), key=lambda i: true_rank[i]):
        s = results[i].score
        rows.append(
            [
                results[i].agent.agent_id,
                f"{truth[i]:.3f}",
                f"{s.evidence.evaluated}",
                f"{s.accuracy_score:.3f}",
                f"{s.accuracy_lower_bound:.3f}",
                f"{s.consistency_score:.3f}",
                f"{s.timeliness_score:.3f}",
                f"{s.reliability_score:.3f}",
                f"{s.confidence_factor:.3f}",
                f"{s.overall_trust_score:.3f}",
                f"{true_rank[i]:.0f} / {trust_rank[i]:.0f}",
            ]
        )
    headers = [
        "agent",
        "hidden p",
        "evaluated",
        "accuracy",
        "lower bound",
        "consistency",
        "timeliness",
        "reliability",
        "conf. factor",
        "overall",
        "rank true / trust",
    ]
    seed = RANKING_SEEDS[0]
    first = spread[0]
    return "\n\n".join(
        [
            f"### Ranking: trust vs. hidden quality ({len(results)} agents, {RANKING_OUTCOMES:,} evaluated "
            f"outcomes, {RANKING_PER_DAY}/day over {RANKING_OUTCOMES // RANKING_PER_DAY} days, default TrustConfig)",
            f"Stream seed {seed}, agents by hidden mean success probability (rank 1 = best); each agent "
            "scored on its all-types scope on the last day:",
            markdown_table(headers, rows),
            markdown_table(
                ["Spearman vs. hidden p", f"seed {seed}", f"median / min over {len(spread)} stream seeds"],
                [
                    ["overall_trust_score", f"{first.overall:.3f}", median_min([c.overall for c in spread])],
                    ["accuracy_score", f"{first.accuracy:.3f}", median_min([c.accuracy for c in spread])],
                    [
                        "accuracy_lower_bound",
                        f"{first.lower_bound:.3f}",
                        median_min([c.lower_bound for c in spread]),
                    ],
                ],
            ),
        ]
    )


def calibration_section(results: Sequence[AgentResult]) -> tuple[str, float, float]:
    calibrations = [calibration_of(r) for r in results]
    rows = [
        [
            r.agent.agent_id,
            f"{hidden_quality(r.agent):.3f}",
            signed(c.true_bias),
            signed(c.realized_bias),
            signed(c.recovered_bias),
            signed(c.approvals_bias),
            f"{c.ece:.3f}" if c.ece is not None else "—",
        ]
        for r, c in sorted(zip(results, calibrations, strict=True), key=lambda rc: rc[1].true_bias)
    ]

    def errors(pick: Callable[[CalibrationResult], float]) -> tuple[float, float]:
        return (
            statistics.fmean(abs(pick(c) - c.true_bias) for c in calibrations),
            statistics.fmean(pick(c) - c.true_bias for c in calibrations),
        )

    bins, approvals, realized = (
        errors(lambda c: c.recovered_bias),
        errors(lambda c: c.approvals_bias),
        errors(lambda c: c.realized_bias),
    )
    summary = markdown_table(
        ["bias estimate", "MAE vs. true bias", "mean signed error"],
        [
            [
                "calibration bins: mean confidence - observed success (partial = 0.5)",
                f"{bins[0]:.3f}",
                signed(bins[1]),
            ],
            [
                "mean confidence - approval rate (partial = failure)",
                f"{approvals[0]:.3f}",
                signed(approvals[1]),
            ],
            [
                "realized: mean confidence - mean hidden p of its draws",
                f"{realized[0]:.3f}",
                signed(realized[1]),
            ],
        ],
    )
    text = "\n\n".join(
        [
            f"### Calibration: bias recovered from the calibration bins (the ranking run, seed {RANKING_SEEDS[0]})",
            "True bias: the profile's `calibration_bias` (stated confidence = believed p + bias + noise, clipped "
            "to [0, 1]). Realized: what this sample's confidences and hidden probabilities (failed executions "
            "degrade p) imply, the best any estimate from outcomes can aim at.",
            markdown_table(
                ["agent", "hidden p", "true bias", "realized", "from bins", "from approvals", "ECE"],
                rows,
            ),
            summary,
        ]
    )
    return text, bins[0], approvals[0]


def config_section(ranking: Mapping[str, Sequence[Correlations]]) -> str:
    rows = [
        [
            name,
            f"{spread[0].overall:.3f}",
            f"{statistics.median(c.overall for c in spread):.3f}",
            f"{min(c.overall for c in spread):.3f}",
            f"{sum(c.overall >= TARGET_SPEARMAN for c in spread)}/{len(spread)}",
        ]
        for name, spread in ranking.items()
    ]
    return "\n\n".join(
        [
            "### Ranking under other TrustConfig values (same streams)",
            markdown_table(
                [
                    "config",
                    f"Spearman(overall), seed {RANKING_SEEDS[0]}",
                    f"median over {len(RANKING_SEEDS)} seeds",
                    "min",
                    f"seeds >= {TARGET_SPEARMAN}",
                ],
                rows,
            ),
        ]
    )
