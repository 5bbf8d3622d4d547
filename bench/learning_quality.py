"""Learning quality: does the cycle recover planted patterns, and predict outcomes it has not seen?

The swarm of ``localdev/planted.py`` draws every outcome from a known probability set by four
planted patterns (a consensus of three, an expert for one type, a failing confidence band, a
high-confidence success; 50 % otherwise). For each seed the layer's cycle (``run_cycle``: judge out of
sample on a rolling origin over the later half of the time order, publish patterns mined on
everything) runs on the
evaluated recommendations, and we report:

- **recall**: planted patterns whose exact condition was discovered (target >= 0.8);
- **precision**: discovered patterns whose claim is true of the generating model: the mean true
  approval probability of the rows they match beats the true baseline by 5 % in the claimed
  direction (target >= 0.8). *Strict* precision also counts as wrong every true pattern that is
  not literally one of the four planted conditions;
- **model accuracy** and **coverage** out of sample (targets >= 0.85 and >= 0.80), beside
  the accuracy of an oracle that knows each row's true probability (the best any model can do);
- a **noise** swarm (outcomes independent of every feature): patterns reported (target 0).

A second table runs the same cycle at the sizes young workspaces have: the planted swarm cut at
250, 700, 2,000 and 20,000 evaluated recommendations (``--small-seeds`` seeds each), judging
recall only on the planted conditions with at least 30 matching rows (a pattern seen a dozen
times cannot be asked for), and the noise swarm at the same sizes over ``--noise-seeds`` seeds
(false patterns per cycle). Targets at 250: accuracy >= 0.80, coverage >= 0.70 (the
specification's), recall >= 0.75; noise <= 0.05 false patterns per cycle at every size.

Run: ``python -m bench.learning_quality`` (``--seeds``, ``--workflows``, ``--small-seeds``,
``--noise-seeds`` to change the run).
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from bench.report import (
    Target,
    add_results_option,
    exit_status,
    header,
    markdown_table,
    planted_recommendations,
    results_file,
    targets_section,
)
from localdev.planted import PLANTED
from swarm_learning.domain import cycle as learning
from swarm_learning.domain.evaluated import EvaluatedRow, canonical_action, content_keys
from swarm_learning.domain.features import FeatureBuilder, FeatureTable
from swarm_learning.domain.patterns import Pattern

START = datetime(2026, 11, 1, tzinfo=UTC)
TRUTH_MARGIN = 1.05
TARGETS = {"precision": 0.8, "recall": 0.8, "accuracy": 0.85, "coverage": 0.8}
SMALL_SIZES = (250, 700, 2_000, 20_000)
MIN_MATCHES_TO_RECALL = 30
SMALL_TARGETS = {"accuracy": 0.80, "coverage": 0.70, "recall": 0.75}  # at the smallest size
NOISE_TARGET = 0.05  # false patterns per cycle


@dataclass(frozen=True)
class SeedResult:
    seed: int
    rows: int
    discovered: int
    recall: float
    precision: float
    strict_precision: float
    accuracy: float | None
    oracle_accuracy: float
    coverage: float
    seconds: float
    wrong: list[str]
    unplanted: list[str]


def _planted_swarm(workflows: int, seed: int, *, rows: int | None = None) -> tuple[FeatureTable, np.ndarray]:
    """The planted swarm's evaluated rows and their true probabilities (the first ``rows`` of
    them, when given)."""
    builder = FeatureBuilder()
    truth: list[float] = []
    for recommendation in planted_recommendations(workflows, seed=seed, start=START, limit=rows):
        builder.add(recommendation.row())
        truth.append(recommendation.success_probability)
    # The builder orders rows by time, stably; the generator emits them in time order already.
    return builder.build(), np.array(truth)


def _oracle_accuracy(table: FeatureTable, truth: np.ndarray, judged: int) -> float:
    """The accuracy of a model that knows each row's true probability, on the rows the cycle's
    validation judged: the held-out later half, fold by fold (``validation_samples`` rows)."""
    held_out = slice(len(table) - judged, len(table))
    return float(((truth[held_out] >= 0.5) == table.approved[held_out]).mean())


@dataclass(frozen=True)
class SizeResult:
    rows: int
    recall: float
    eligible: float  # planted conditions with enough matches, per seed
    precision: float
    accuracy: float
    worst_accuracy: float
    oracle_accuracy: float
    coverage: float
    worst_coverage: float
    judged: float
    patterns: float
    noise_false_per_cycle: float
    noise_cycles: int
    seconds: float


def run_size(rows: int, seeds: int, noise_seeds: int) -> SizeResult:
    recalls, eligible, precisions, accuracies, oracles, coverages, judged, found = ([] for _ in range(8))
    begun = time.perf_counter()
    for seed in range(1, seeds + 1):
        table, truth = _planted_swarm(rows, seed, rows=rows)  # a workflow yields one row or more
        result = learning.run_cycle("ws_bench", table, iteration_id=f"iter_{seed}", started_at=START)
        conditions = {p.condition for p in result.patterns}
        askable = [p for p in PLANTED if int(table.mask(p.condition).sum()) >= MIN_MATCHES_TO_RECALL]
        recalls.append(sum(p.condition in conditions for p in askable) / len(askable) if askable else 1.0)
        eligible.append(len(askable))
        baseline = float(truth.mean())
        true_claims = [p for p in result.patterns if _claim_is_true(p, table, truth, baseline)]
        precisions.append(len(true_claims) / len(result.patterns) if result.patterns else 1.0)
        accuracies.append(result.iteration_accuracy if result.iteration_accuracy is not None else 0.0)
        oracles.append(_oracle_accuracy(table, truth, result.validation_samples))
        coverages.append(result.coverage)
        judged.append(result.validation_judged)
        found.append(len(result.patterns))
    false_patterns = [
        len(
            learning.run_cycle(
                "ws_noise",
                _noise_swarm(rows, seed=10_000 + seed),
                iteration_id="iter_noise",
                started_at=START,
            ).patterns
        )
        for seed in range(noise_seeds)
    ]
    return SizeResult(
        rows=rows,
        recall=float(np.mean(recalls)),
        eligible=float(np.mean(eligible)),
        precision=float(np.mean(precisions)),
        accuracy=float(np.mean(accuracies)),
        worst_accuracy=min(accuracies),
        oracle_accuracy=float(np.mean(oracles)),
        coverage=float(np.mean(coverages)),
        worst_coverage=min(coverages),
        judged=float(np.mean(judged)),
        patterns=float(np.mean(found)),
        noise_false_per_cycle=sum(false_patterns) / len(false_patterns),
        noise_cycles=len(false_patterns),
        seconds=time.perf_counter() - begun,
    )


def small_data_report(seeds: int, noise_seeds: int) -> tuple[str, list[Target]]:
    results = [run_size(rows, seeds, noise_seeds) for rows in SMALL_SIZES]
    table = markdown_table(
        [
            "evaluated",
            "recall (planted, >= 30 matches)",
            "planted askable",
            "precision (truth)",
            "accuracy (mean / worst)",
            "oracle accuracy",
            "coverage (mean / worst)",
            "rows judged",
            "patterns",
            f"noise: false patterns per cycle ({noise_seeds} seeds)",
            "s",
        ],
        [
            [
                f"{r.rows:,}",
                f"{r.recall:.2f}",
                f"{r.eligible:.1f}",
                f"{r.precision:.2f}",
                f"{r.accuracy:.3f} / {r.worst_accuracy:.3f}",
                f"{r.oracle_accuracy:.3f}",
                f"{r.coverage:.3f} / {r.worst_coverage:.3f}",
                f"{r.judged:.0f}",
                f"{r.patterns:.1f}",
                f"{r.noise_false_per_cycle:.3f}",
                f"{r.seconds:.1f}",
            ]
            for r in results
        ],
    )
    smallest = results[0]
    verdicts: list[Target] = [
        (
            f"at {smallest.rows}: {name} >= {target}",
            f"{getattr(smallest, name):.3f} (mean of {seeds} seeds)",
            getattr(smallest, name) >= target,
        )
        for name, target in SMALL_TARGETS.items()
    ]
    worst_noise = max(r.noise_false_per_cycle for r in results)
    verdicts.append(
        (
            f"noise <= {NOISE_TARGET} false patterns per cycle, every size",
            f"{worst_noise:.3f} (worst size)",
            worst_noise <= NOISE_TARGET,
        )
    )
    return table, verdicts


def _noise_swarm(rows: int, seed: int) -> FeatureTable:
    rng = random.Random(seed)
    agents = [f"AGENT-{i:02d}" for i in range(12)]
    types = ("strategy", "content", "research", "analytics", "campaign")
    builder = FeatureBuilder()
    for number in range(rows):
        content = {"action": f"a{number}", **({"budget": 1} if rng.random() < 0.5 else {})}
        builder.add(
            EvaluatedRow(
                agent_id=rng.choice(agents),
                recommendation_type=rng.choice(types),
                workflow_id=f"wf{number // 2}",
                confidence_score=rng.random(),
                action_key=canonical_action(content),
                content_keys=content_keys(content),
                created_at=START.timestamp() + number,
                approved=rng.random() < 0.6,
            )
        )
    return builder.build()


def _claim_is_true(pattern: Pattern, table: FeatureTable, truth: np.ndarray, baseline: float) -> bool:
    true_rate = float(truth[table.mask(pattern.condition)].mean())
    if pattern.predicts_approval:
        return true_rate >= baseline * TRUTH_MARGIN
    return 1 - true_rate >= (1 - baseline) * TRUTH_MARGIN


def run_seed(workflows: int, seed: int) -> SeedResult:
    table, truth = _planted_swarm(workflows, seed)
    begun = time.perf_counter()
    result = learning.run_cycle("ws_bench", table, iteration_id=f"iter_{seed}", started_at=START)
    seconds = time.perf_counter() - begun
    found = {p.condition for p in result.patterns}
    planted = {p.condition for p in PLANTED}
    baseline = float(truth.mean())
    true_claims = [p for p in result.patterns if _claim_is_true(p, table, truth, baseline)]
    oracle = _oracle_accuracy(table, truth, result.validation_samples)
    return SeedResult(
        seed=seed,
        rows=len(table),
        discovered=len(result.patterns),
        recall=len(found & planted) / len(planted),
        precision=len(true_claims) / len(result.patterns) if result.patterns else 1.0,
        strict_precision=len(found & planted) / len(found) if found else 1.0,
        accuracy=result.iteration_accuracy,
        oracle_accuracy=oracle,
        coverage=result.coverage,
        seconds=seconds,
        wrong=[" & ".join(p.condition) for p in result.patterns if p not in true_claims],
        unplanted=[" & ".join(p.condition) for p in result.patterns if p.condition not in planted],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--workflows", type=int, default=12_000, help="workflows per seed (~1.5 rows each)")
    parser.add_argument(
        "--small-seeds", type=int, default=20, help="planted seeds per size, small-data table"
    )
    parser.add_argument("--noise-seeds", type=int, default=100, help="noise seeds per size, small-data table")
    args = add_results_option(parser).parse_args()
    with results_file(args.save):
        return report(args)


def report(args: argparse.Namespace) -> int:
    print(f"# Learning quality ({platform.python_version()}, numpy {np.__version__})\n")
    print(header(("numpy",), "bench.learning_quality") + "\n")
    print(
        "Planted: "
        + "; ".join(f"{p.name} ({' & '.join(p.condition)}: {p.success_probability:.0%})" for p in PLANTED)
    )
    print()
    results = [run_seed(args.workflows, seed) for seed in range(1, args.seeds + 1)]
    rows = [
        [
            str(r.seed),
            f"{r.rows:,}",
            str(r.discovered),
            f"{r.recall:.2f}",
            f"{r.precision:.2f}",
            f"{r.strict_precision:.2f}",
            f"{r.accuracy:.3f}" if r.accuracy is not None else "-",
            f"{r.oracle_accuracy:.3f}",
            f"{r.coverage:.3f}",
            f"{r.seconds:.2f}",
            ", ".join(r.unplanted) or "-",
            ", ".join(r.wrong) or "-",
        ]
        for r in results
    ]
    headers = [
        "seed",
        "rows",
        "patterns",
        "recall",
        "precision",
        "strict precision",
        "accuracy (out of sample)",
        "oracle accuracy",
        "coverage",
        "cycle s",
        "found beyond the planted four",
        "untrue patterns",
    ]
    print(markdown_table(headers, rows))

    noise = _noise_swarm(sum(r.rows for r in results) // len(results), seed=99)
    noise_result = learning.run_cycle("ws_noise", noise, iteration_id="iter_noise", started_at=START)
    print(
        f"\nNoise swarm ({len(noise):,} rows, outcomes independent of every feature): "
        f"{len(noise_result.patterns)} patterns reported"
    )

    def worst(values: list[float | None]) -> float:
        return min(v if v is not None else 0.0 for v in values)

    measured = {
        "precision": worst([r.precision for r in results]),
        "recall": worst([r.recall for r in results]),
        "accuracy": worst([r.accuracy for r in results]),
        "coverage": worst([r.coverage for r in results]),
    }
    verdicts: list[Target] = [
        (
            f"{name} >= {target}",
            f"{measured[name]:.3f} (worst of {len(results)} seeds)",
            measured[name] >= target,
        )
        for name, target in TARGETS.items()
    ]
    verdicts.append(("noise: 0 patterns", str(len(noise_result.patterns)), not noise_result.patterns))
    print("\n" + targets_section(verdicts))

    print("\n## At the sizes young workspaces have\n")
    small_table, small_verdicts = small_data_report(args.small_seeds, args.noise_seeds)
    print(small_table)
    print("\n" + targets_section(small_verdicts))
    verdicts.extend(small_verdicts)
    return exit_status(True, verdicts)


if __name__ == "__main__":
    raise SystemExit(main())
