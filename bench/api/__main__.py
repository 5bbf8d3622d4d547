"""API benchmark: the Lambda handlers against the raw DynamoDB calls they imply.

    python -m bench.api [--calls 1000]        (from the repository root)

Everything runs on the embedded AWS of ``localdev.runtime`` (moto's DynamoDB with the tables of
template.yaml, the handlers loaded as Lambda loads them). The command prints a machine line, the
command, and markdown tables:

latency      handler vs. raw boto3 for track, evaluate and a by-agent query: median, p99, ratio
round trips  DynamoDB requests per call on every request path, and whether any of them is a Scan
import       each handler module's import time in a fresh interpreter vs. ``import boto3``
profile      where the handler's time goes outside the DynamoDB client (cProfile, by component)
targets      PASS/FAIL against the targets of the benchmark issue

docs/benchmarks.md explains the method and records a run."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Sequence

from bench.api.calls import Api, DynamoDBTraffic
from bench.api.imports import import_breakdown, import_subjects, measure_imports
from bench.api.latency import Latency, count_round_trips, measure_latency, stdout_to_devnull
from bench.api.profile import ProfiledOperation, profile_operation
from bench.api.raw import Operation, RawDynamoDB, agent_query_operation, evaluate_operation, track_operation
from bench.api.tables import (
    api_targets,
    import_section,
    latency_section,
    profile_section,
    round_trip_section,
)
from bench.report import (
    add_results_option,
    exit_status,
    header,
    progress_printer,
    results_file,
    targets_section,
)
from localdev import runtime


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=1000, help="timed calls per path and operation")
    parser.add_argument("--warmup", type=int, default=50, help="untimed calls per path first")
    parser.add_argument(
        "--page-items", type=int, default=5, help="recommendations the by-agent query returns"
    )
    parser.add_argument(
        "--import-runs", type=int, default=9, help="fresh interpreters per import measurement"
    )
    parser.add_argument(
        "--profile-calls", type=int, default=200, help="profiled calls per operation (0: skip)"
    )
    parser.add_argument("--top-functions", type=int, default=8, help="functions listed per operation")
    parser.add_argument("--strict", action="store_true", help="exit with status 1 when a target fails")
    args = add_results_option(parser).parse_args(argv)
    if args.calls < 1 or args.import_runs < 1 or not 1 <= args.page_items <= 25:
        parser.error("--calls and --import-runs must be positive, --page-items within 1..25")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_arguments(argv)
    # The Query function flushes no application metric; Powertools warns about it once per process.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    traffic = DynamoDBTraffic()
    traffic.install()
    progress = progress_printer()

    builders: list[Callable[[Api, RawDynamoDB], Operation]] = [
        track_operation,
        evaluate_operation,
        lambda api, raw: agent_query_operation(api, raw, args.page_items),
    ]
    latencies: list[Latency] = []
    profiles: list[ProfiledOperation] = []
    with stdout_to_devnull():
        for build in builders:
            # A fresh store per operation: moto's Query walks the whole table, so its cost grows
            # with whatever earlier operations left behind. Every operation starts from small
            # tables, and every timed call leaves them as it found them.
            with runtime.embedded_aws() as functions:
                operation = build(Api(functions), RawDynamoDB())
                progress(f"latency: {operation.name}, {args.warmup} + {args.calls} calls per path")
                latencies.append(measure_latency(operation, traffic, calls=args.calls, warmup=args.warmup))
                if args.profile_calls:
                    progress(f"profile: {operation.name}, {args.profile_calls} calls per path")
                    profiles.append(profile_operation(operation, args.profile_calls))
        progress("round trips: every request path")
        with runtime.embedded_aws() as functions:
            round_trips = count_round_trips(Api(functions), traffic)

    progress(f"import time: {args.import_runs} + 1 fresh interpreters per module")
    subjects = import_subjects()
    times = measure_imports(subjects, args.import_runs)
    track_on, track_off = (s for s in subjects if s.function == "TrackFunction")
    breakdown_on, breakdown_off = import_breakdown(track_on, 3), import_breakdown(track_off, 3)

    targets = api_targets(latencies, round_trips, traffic.seen, times)
    sections = [
        header(("boto3", "moto", "aws-lambda-powertools", "pydantic", "aws-xray-sdk"), "bench.api", argv),
        latency_section(latencies, args.calls, args.warmup),
        round_trip_section(round_trips, traffic.seen),
        import_section(times, breakdown_on, breakdown_off),
        *([profile_section(profiles, args.top_functions)] if profiles else []),
        targets_section(targets),
    ]
    progress("done")
    with results_file(args.save):
        print("\n\n".join(sections))
    return exit_status(args.strict, targets)


if __name__ == "__main__":
    sys.exit(main())
