"""Learning quality: does the cycle recover planted patterns, and predict outcomes it has not seen?

The swarm of ``localdev/planted.py`` draws every outcome from a known probability set by four
planted patterns (a consensus of three, an expert for one type, a failing confidence band, a
high-confidence success; 50 % otherwise). For each seed the layer's cycle (``run_cycle``: mine on
the earlier 70 %, judge on the later 30 %, publish patterns mined on everything) runs on the
evaluated recommendations, and we report:

- **recall**: planted patterns whose exact condition was discovered (target >= 0.8);
- **precision**: discovered patterns whose claim is true of the generating model: the mean true
  approval probability of the rows they match beats the true baseline by 5 % in the claimed
  direction (target >= 0.8). *Strict* precision also counts as wrong every true pattern that is
  not literally one of the four planted conditions;
- **model accuracy** and **coverage** on the later split (targets >= 0.85 and >= 0.80), beside
  the accuracy of an oracle that knows each row's true probability (the best any model can do);
- a **noise** swarm (outcomes independent of every feature): patterns reported (target 0).

Run: ``python bench/learning_quality.py`` (``--seeds``, ``--workflows`` to change the run).
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
for _path in (str(_ROOT), str(_ROOT / "layers" / "learning")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import argparse  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

import numpy as np  # noqa: E402

from bench.report import markdown_table  # noqa: E402
from localdev.planted import PLANTED, planted_workflows  # noqa: E402
from swarm_learning import learning  # noqa: E402
from swarm_learning.evaluated import EvaluatedRow, canonical_action, content_keys  # noqa: E402
from swarm_learning.features import FeatureBuilder, FeatureTable  # noqa: E402
from swarm_learning.patterns import Pattern, time_split  # noqa: E402

START = datetime(2026, 11, 1, tzinfo=UTC)
TRUTH_MARGIN = 1.05
TARGETS = {"precision": 0.8, "recall": 0.8, "accuracy": 0.85, "coverage": 0.8}


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


def _planted_swarm(workflows: int, seed: int) -> tuple[FeatureTable, np.ndarray]:
    builder = FeatureBuilder()
    truth: list[float] = []
    for workflow in planted_workflows(workflows, seed=seed, start=START, span=timedelta(days=7)):
        for recommendation in workflow:
            builder.add(recommendation.row())
            truth.append(recommendation.success_probability)
    # The builder orders rows by time, stably; the generator emits them in time order already.
    return builder.build(), np.array(truth)


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
    _, later = time_split(table)
    later_truth = truth[len(table) - len(later) :]
    oracle = float(((later_truth >= 0.5) == later.approved).mean())
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
    args = parser.parse_args()

    print(f"# Learning quality ({platform.python_version()}, numpy {np.__version__})\n")
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
        "accuracy (later 30 %)",
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
    verdicts = [
        [
            f"{name} >= {target}",
            f"{measured[name]:.3f} (worst of {len(results)} seeds)",
            "PASS" if measured[name] >= target else "FAIL",
        ]
        for name, target in TARGETS.items()
    ]
    verdicts.append(
        [
            "noise: 0 patterns",
            str(len(noise_result.patterns)),
            "PASS" if not noise_result.patterns else "FAIL",
        ]
    )
    print("\n### Targets\n")
    print(markdown_table(["target", "measured", "result"], verdicts))
    return 0 if all(v[2] == "PASS" for v in verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
