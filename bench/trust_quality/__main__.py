"""Trust quality benchmark: does the trust maths agree with the ground truth of a simulated swarm?

    make bench                                      (installs MABWiser, the routing baseline)
    python -m bench.trust_quality [--strict]        (from the repository root)

Everything is simulated in memory with ``localdev.swarm`` and scored with the service's own pure
functions: each simulated recommendation adds exactly the counters the API adds
(``tracking_counters`` + ``evaluation_counters``, the outcome derived from the quality score), a
day bucket is the sum of one day's counters, and ``trust.score`` reads the buckets of one scope
(an agent, or an agent and a type). Every random draw comes from ``random.Random(seed)`` (and
MABWiser's seeded generator), so two runs print the same numbers except the timings. It prints a
machine line, the command and markdown tables:

ranking      Spearman between trust and each agent's hidden mean success probability
             (20 agents, 2,000 evaluated outcomes over 20 days)
routing      Thompson sampling on trust posteriors vs. the per-type oracle, uniform random and
             MABWiser's Thompson sampling, on one stream of tasks with common random numbers
close        routing on 8 agents whose three best are within 1.5 points, against always asking the best
drift        outcomes from a drop 0.8 -> 0.4 until ``trend == declining``; false alarms on stable agents
demo trend   the demo's shape (default_swarm, 300 workflows on one day): is ANLY-01 ``declining``?
calibration  calibration bias recovered from the calibration bins vs. the simulator's truth
config       the ranking under other ``TrustConfig`` values (drift and routing show theirs inline)
targets      PASS/FAIL against the targets of the benchmark issue

docs/benchmarks.md explains the method and records a run."""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence

from bench.report import (
    Target,
    add_results_option,
    exit_status,
    header,
    markdown_table,
    progress_printer,
    results_file,
    targets_section,
)
from bench.trust_quality.close import (
    CLOSE_ROUNDS,
    CLOSE_SEEDS,
    TARGET_CLOSE_GAP,
    close_run,
    close_section,
    routing_section,
)
from bench.trust_quality.drift import (
    DEGRADING_AGENT,
    DEMO_TREND_SEEDS,
    DRIFT_AFTER,
    DRIFT_BEFORE,
    DRIFT_CONFIGS,
    DRIFT_POST_DAYS,
    DRIFT_PRE_DAYS,
    DRIFT_SEEDS,
    TARGET_DETECTION_OUTCOMES,
    TARGET_FALSE_ALARM_RATE,
    demo_trend_section,
    drift_experiment,
    drift_section,
)
from bench.trust_quality.ranking import (
    RANKING_CONFIGS,
    RANKING_SEEDS,
    TARGET_SPEARMAN,
    AgentResult,
    Correlations,
    calibration_section,
    config_section,
    correlations,
    ranking_run,
    ranking_section,
)
from bench.trust_quality.routing import (
    DEMO_SWARM_AGENTS,
    ROUTING_ROUNDS,
    ROUTING_SEEDS,
    TARGET_ORACLE_SHARE,
    propensity_zero_error,
    routing_run,
)
from bench.trust_quality.simulation import AGENT_COUNT, bench_agents
from localdev import swarm


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--strict", action="store_true", help="exit with status 1 when a target fails")
    args = add_results_option(parser).parse_args(argv)
    progress = progress_printer()
    agents = bench_agents()

    progress(f"ranking: {len(RANKING_SEEDS)} streams x {len(RANKING_CONFIGS)} configs")
    ranking: dict[str, list[Correlations]] = {name: [] for name in RANKING_CONFIGS}
    detail: list[AgentResult] = []
    for seed in RANKING_SEEDS:
        per_config = ranking_run(agents, seed, list(RANKING_CONFIGS.values()))
        detail = detail or per_config[0]
        for name, results in zip(RANKING_CONFIGS, per_config, strict=True):
            ranking[name].append(correlations(results))

    progress(f"routing: {len(ROUTING_SEEDS)} streams of {ROUTING_ROUNDS:,} tasks")
    runs = [routing_run(agents, seed, detailed=seed == ROUTING_SEEDS[0]) for seed in ROUTING_SEEDS]
    progress(
        f"routing: the same on the demo swarm ({DEMO_SWARM_AGENTS} agents of localdev.swarm.default_swarm)"
    )
    demo_agents = swarm.default_swarm(DEMO_SWARM_AGENTS, seed=0)
    demo_runs = [routing_run(demo_agents, seed, detailed=False) for seed in ROUTING_SEEDS]

    progress(f"routing: {len(CLOSE_SEEDS)} streams of {CLOSE_ROUNDS:,} tasks, the best agents close")
    close_text, close_gap = close_section([close_run(seed) for seed in CLOSE_SEEDS])

    progress(f"trend on the demo's shape: {len(DEMO_TREND_SEEDS)} seeds")
    demo_trend_text, demo_caught, demo_flagged = demo_trend_section()

    progress(f"drift: {len(DRIFT_SEEDS)} seeds x {len(DRIFT_CONFIGS)} trend configs")
    drift = dict(zip(DRIFT_CONFIGS, drift_experiment(list(DRIFT_CONFIGS.values())), strict=True))

    calibration_text, mae_bins, mae_approvals = calibration_section(detail)
    spearman_median = statistics.median(c.overall for c in ranking["default"])
    routing_share = statistics.fmean(run.results[1].share(run.results[0]) for run in runs)
    demo_share = statistics.fmean(run.results[1].share(run.results[0]) for run in demo_runs)
    demo_mabwiser = statistics.fmean(run.results[2].share(run.results[0]) for run in demo_runs)
    default_drift = drift[next(iter(DRIFT_CONFIGS))]
    targets: list[Target] = [
        (
            f"Spearman(overall_trust_score, hidden p) >= {TARGET_SPEARMAN} (median of {len(RANKING_SEEDS)} seeds)",
            f"{spearman_median:.3f}",
            spearman_median >= TARGET_SPEARMAN,
        ),
        (
            f"routing reward >= {TARGET_ORACLE_SHARE:.0%} of the oracle's, {AGENT_COUNT} bench agents "
            f"(mean of {len(ROUTING_SEEDS)} seeds)",
            f"{routing_share:.1%}",
            routing_share >= TARGET_ORACLE_SHARE,
        ),
        (
            f"routing reward >= {TARGET_ORACLE_SHARE:.0%} of the oracle's, the {DEMO_SWARM_AGENTS}-agent demo "
            f"swarm (mean of {len(ROUTING_SEEDS)} seeds; MABWiser {demo_mabwiser:.1%})",
            f"{demo_share:.1%}",
            demo_share >= TARGET_ORACLE_SHARE,
        ),
        (
            f"drop {DRIFT_BEFORE} → {DRIFT_AFTER} flagged declining within {TARGET_DETECTION_OUTCOMES} outcomes "
            "(median)",
            f"{default_drift.median_delay:.0f} outcomes",
            default_drift.median_delay <= TARGET_DETECTION_OUTCOMES,
        ),
        (
            f"stable agents ever flagged declining over {DRIFT_PRE_DAYS + DRIFT_POST_DAYS} days <= "
            f"{TARGET_FALSE_ALARM_RATE:.0%}",
            f"{default_drift.false_alarm_rate:.1%}",
            default_drift.false_alarm_rate <= TARGET_FALSE_ALARM_RATE,
        ),
        (
            f"routing, best agents within 1.5 points: explore-mode success within {TARGET_CLOSE_GAP * 100:.0f} "
            f"point of always asking the best agent after {CLOSE_ROUNDS:,} outcomes (expected success, mean of "
            f"{len(CLOSE_SEEDS)} seeds)",
            f"{close_gap * 100:.2f} points behind",
            close_gap <= TARGET_CLOSE_GAP,
        ),
        (
            f"demo's shape: {DEGRADING_AGENT} declining (share of {len(DEMO_TREND_SEEDS)} seeds; other agents "
            "flagged: no target)",
            f"{demo_caught:.0%} (others {demo_flagged:.1%})",
            None,
        ),
        (
            "calibration: MAE of the recovered bias vs. the true bias (no target)",
            f"{mae_bins:.3f} (bins), {mae_approvals:.3f} (approvals)",
            None,
        ),
    ]
    sections = [
        header(("mabwiser", "numpy"), "bench.trust_quality", argv),
        ranking_section(detail, ranking["default"]),
        routing_section(runs, propensity_zero_error()),
        f"### Routing on the demo swarm ({DEMO_SWARM_AGENTS} agents of `default_swarm`, same task design)\n\n"
        + markdown_table(
            ["policy", "share of the oracle's reward (mean of seeds)"],
            [
                [
                    result.name,
                    f"{statistics.fmean(run.results[i].share(run.results[0]) for run in demo_runs):.1%}",
                ]
                for i, result in enumerate(demo_runs[0].results)
            ],
        ),
        close_text,
        drift_section(drift),
        demo_trend_text,
        calibration_text,
        config_section(ranking),
        targets_section(targets),
    ]
    progress("done")
    with results_file(args.save):
        print("\n\n".join(sections))
    return exit_status(args.strict, targets)


if __name__ == "__main__":
    sys.exit(main())
