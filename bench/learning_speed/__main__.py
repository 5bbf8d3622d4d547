"""Learning speed benchmark: how fast the learning cycle turns evaluated recommendations into patterns.

    python -m bench.learning_speed [--sizes 10000,100000,1000000] [--fpgrowth-max 1000000]
                                   [--e2e 10000] [--strict]       (from the repository root)

It prints a machine line, the command and markdown tables:

cycle        the whole in-memory cycle (``FeatureBuilder().extend(rows).build()`` then ``run_cycle``) on
             n synthetic evaluated rows streamed from a generator (never a list of all rows). Each size
             runs in a fresh interpreter (this script with a hidden flag), which times a pass that only
             consumes the generator and the cycle on the same stream; the cycle's time is the total
             less the generator's, so rec/s is what the layer does, not what the generator costs.
             Peak memory is the child's ``ru_maxrss`` (the process's RSS high-water mark) above its
             baseline after imports, and the whole process's; then one more pass under
             ``tracemalloc`` gives its peak of traced allocations (Python objects and numpy buffers).
mining       the miner (``patterns.frequent_itemsets``, from the FeatureTable) against mlxtend's
             FP-growth (``max_len=2``, the same minimum support of 20 rows) on the one-hot DataFrame
             of exactly the items the miner uses, on the same table; building that DataFrame is not
             timed (it is mlxtend's input format, not its work). The two sets of itemsets and their
             support counts must be identical, or the benchmark exits with status 1.
end to end   ``LearningCycleFunction`` invoked in-process on 10,000 evaluated recommendations in the
             embedded AWS of ``localdev.runtime`` (moto's DynamoDB with the template's tables): the
             read (``LearningStore.iter_evaluated``) against the rest (features, cycle, state and
             iteration writes). moto is an in-process emulator, so this is the local cost, not
             Lambda's.
targets      PASS/FAIL against the targets of the benchmark issue

Every random draw comes from ``random.Random(seed)``, so two runs see the same rows; ratios are
measured in the same run. docs/benchmarks.md explains the method and records a run."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bench.report import (
    add_results_option,
    exit_status,
    header,
    progress_printer,
    results_file,
    targets_section,
)

if TYPE_CHECKING:
    pass

from bench.learning_speed.cycle import CycleRun, child_cycle, cycle_section, cycle_targets, measure_cycle
from bench.learning_speed.end_to_end import E2E_RECOMMENDATIONS, end_to_end_section, measure_end_to_end
from bench.learning_speed.mining import MiningRun, measure_mining, mining_section, mining_targets
from bench.learning_speed.rows import DEFAULT_SIZES, SEED
from bench.report import Target


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}") from None
    if not sizes or any(size <= 0 for size in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be positive: {text!r}")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=list(DEFAULT_SIZES),
        help="comma-separated row counts (default: %(default)s)",
    )
    parser.add_argument(
        "--fpgrowth-max",
        type=int,
        default=1_000_000,
        help="compare with mlxtend only up to this many rows (default: %(default)s)",
    )
    parser.add_argument(
        "--e2e",
        type=int,
        default=E2E_RECOMMENDATIONS,
        help="evaluated recommendations for the end-to-end run, 0 to skip (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=SEED, help=argparse.SUPPRESS)
    parser.add_argument("--child-cycle", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--strict", action="store_true", help="exit with status 1 when a target fails")
    args = add_results_option(parser).parse_args(argv)

    if args.child_cycle is not None:
        print(json.dumps(child_cycle(args.child_cycle, args.seed)))
        return 0

    progress = progress_printer()
    sections = [header(("numpy", "pandas", "mlxtend", "moto"), "bench.learning_speed", argv)]
    targets: list[Target] = []

    cycles: list[CycleRun] = []
    for n in args.sizes:
        progress(f"cycle: {n:,} rows in a child process")
        cycles.append(measure_cycle(n, args.seed))
    sections.append(cycle_section(cycles))
    targets.extend(cycle_targets(cycles))

    mining: list[MiningRun] = []
    for n in args.sizes:
        if n > args.fpgrowth_max:
            continue
        progress(f"mining: {n:,} rows, frequent_itemsets vs. mlxtend fpgrowth")
        mining.append(measure_mining(n, args.seed))
    if mining:
        sections.append(mining_section(mining))
        targets.extend(mining_targets(mining))

    if args.e2e > 0:
        progress(f"end to end: {args.e2e:,} recommendations through LearningCycleFunction on moto")
        end_to_end = measure_end_to_end(args.e2e, args.seed)
        sections.append(end_to_end_section(end_to_end))
        targets.append(
            (
                f"end to end on moto, {end_to_end.recommendations:,} recommendations (no target)",
                f"{end_to_end.invoke_median:.2f} s, {end_to_end.recommendations / end_to_end.invoke_median:,.0f} rec/s",
                None,
            )
        )

    sections.append(targets_section(targets))
    progress("done")
    with results_file(args.save):
        print("\n\n".join(sections))
    if not all(r.same for r in mining):
        return 1
    return exit_status(args.strict, targets)


if __name__ == "__main__":
    sys.exit(main())
