"""The benchmark's tables and its targets."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence

from bench.api.calls import TARGET_IMPORT_RATIO, TARGET_ROUND_TRIPS
from bench.api.imports import ImportTime
from bench.api.latency import Latency, RoundTrips, percentile
from bench.api.profile import PROFILE_CHUNKS, Profile, ProfiledOperation, function_label
from bench.report import Target, markdown_table, verdict


def latency_section(latencies: Sequence[Latency], calls: int, warmup: int) -> str:
    rows = []
    for result in latencies:
        target = result.operation.target_ratio
        rows.append(
            [
                result.operation.name,
                f"{statistics.median(result.handler_ms):.2f}",
                f"{statistics.median(result.raw_ms):.2f}",
                f"{result.median_ratio:.2f}x",
                f"{percentile(result.handler_ms, 0.99):.2f}",
                f"{percentile(result.raw_ms, 0.99):.2f}",
                f"{result.p99_ratio:.2f}x",
                f"{statistics.median(result.handler_ms) - statistics.median(result.raw_ms):+.2f}",
                "—" if target is None else f"<= {target}x",
                verdict(result.passed),
            ]
        )
    headers = [
        "operation",
        "handler median ms",
        "raw median ms",
        "median ratio",
        "handler p99 ms",
        "raw p99 ms",
        "p99 ratio",
        "overhead ms (median)",
        "target (median)",
        "result",
    ]
    split_rows = []
    for result in latencies:
        handler_out = result.outside(result.handler_ms, result.handler_client_ms)
        raw_out = result.outside(result.raw_ms, result.raw_client_ms)
        split_rows.append(
            [
                result.operation.name,
                f"{statistics.median(result.handler_client_ms):.2f}",
                f"{statistics.median(result.raw_client_ms):.2f}",
                f"{handler_out:.2f}",
                f"{raw_out:.2f}",
                f"{handler_out - raw_out:+.2f}",
            ]
        )
    split = markdown_table(
        [
            "operation",
            "handler in client ms",
            "raw in client ms",
            "handler outside ms",
            "raw outside ms",
            "handler's own overhead ms",
        ],
        split_rows,
    )
    return (
        f"### Latency: handler vs. raw boto3, in-process ({calls} calls each after {warmup} warm-up, "
        "alternating)\n\n"
        f"{markdown_table(headers, rows)}\n\n"
        "Handler: as deployed (metrics on, logs at INFO; the Tracer is off, as outside Lambda), its stdout "
        "sent to /dev/null. Raw: the same DynamoDB requests (checked parameter by parameter) from a plain "
        "boto3 client. Overhead: handler median minus raw median.\n\n"
        "The same calls split at the DynamoDB client (medians; in client: botocore and the embedded "
        "store, the same requests on both paths; outside: everything else). The handler's own "
        "overhead does not depend on how fast the store is.\n\n"
        f"{split}"
    )


def round_trip_section(rows: Sequence[RoundTrips], seen: Counter[str]) -> str:
    table = markdown_table(
        ["request", "round trips", "DynamoDB operations", "target", "result"],
        [
            [
                row.request,
                str(len(row.operations)),
                ", ".join(row.operations) or "(none)",
                f"<= {TARGET_ROUND_TRIPS}" if row.targeted else "—",
                verdict(row.passed),
            ]
            for row in rows
        ],
    )
    everything = ", ".join(f"{name} {count}" for name, count in sorted(seen.items()))
    return (
        "### DynamoDB round trips per call (botocore before-send, all clients)\n\n"
        f"{table}\n\nEvery request of the whole run, by operation: {everything}. "
        f"Scan: {seen.get('Scan', 0)}."
    )


XRAY_PACKAGES = ("aws_xray_sdk", "wrapt")


def import_section(
    times: Sequence[ImportTime], breakdown_on: dict[str, float], breakdown_off: dict[str, float]
) -> str:
    baseline = next(t for t in times if t.subject.function is None).median
    traced = {t.subject.function: t for t in times if t.subject.function and t.subject.tracing}
    rows = []
    for result in times:
        subject = result.subject
        spread = f"{min(result.milliseconds):.0f} to {max(result.milliseconds):.0f}"
        if subject.function is None:
            rows.append([subject.label, "—", f"{result.median:.1f}", spread, "1.00x", "—", "—", "(baseline)"])
            continue
        ratio = result.median / baseline
        note = ""
        if not subject.tracing:
            on = traced[subject.function]
            # Paired by round (the two runs are adjacent), which cancels most of the machine's drift.
            saved = statistics.median(
                a - b for a, b in zip(on.milliseconds, result.milliseconds, strict=True)
            )
            note = f"on - off: {saved:.1f} ms ({saved / on.median:.0%} of the traced import)"
        rows.append(
            [
                subject.label,
                "on (as deployed)" if subject.tracing else "off",
                f"{result.median:.1f}",
                spread,
                f"{ratio:.2f}x",
                f"<= {TARGET_IMPORT_RATIO}x" if subject.tracing else "—",
                verdict(ratio <= TARGET_IMPORT_RATIO) if subject.tracing else "—",
                note,
            ]
        )
    runs = len(times[0].milliseconds)
    table = markdown_table(
        ["module", "tracing", "median ms", "min to max ms", "vs import boto3", "target", "result", "note"],
        rows,
    )

    def ms(breakdown: dict[str, float], package: str) -> str:
        return f"{breakdown.get(package, 0.0):.1f}"

    packages = sorted(breakdown_on.keys() | breakdown_off.keys(), key=lambda p: -breakdown_on.get(p, 0.0))
    shown = [p for p in packages if max(breakdown_on.get(p, 0.0), breakdown_off.get(p, 0.0)) >= 2.0]
    breakdown_rows = [[p, ms(breakdown_on, p), ms(breakdown_off, p)] for p in shown]
    rest_on = sum(v for p, v in breakdown_on.items() if p not in shown)
    rest_off = sum(v for p, v in breakdown_off.items() if p not in shown)
    total_on, total_off = sum(breakdown_on.values()), sum(breakdown_off.values())
    breakdown_rows.append(["everything else", f"{rest_on:.1f}", f"{rest_off:.1f}"])
    breakdown_rows.append(["total (-X importtime inflates it)", f"{total_on:.1f}", f"{total_off:.1f}"])
    breakdown = markdown_table(["package", "self ms, tracing on", "self ms, tracing off"], breakdown_rows)

    sdk = sum(breakdown_on.get(p, 0.0) for p in XRAY_PACKAGES)
    patched_only = sorted((p for p in breakdown_on if p not in breakdown_off), key=lambda p: -breakdown_on[p])
    patched = sum(breakdown_on[p] for p in patched_only)
    named = [p for p in patched_only if breakdown_on[p] >= 0.5]
    others = f" and {len(patched_only) - len(named)} more" if len(patched_only) > len(named) else ""
    tracing_share = (
        f"Tracer/X-Ray SDK share of the traced TrackFunction import, by `-X importtime` self time "
        f"(which overstates packages of many small modules; the on - off rows above are wall time): "
        f"{' + '.join(XRAY_PACKAGES)} {sdk:.1f} ms (loaded with tracing off too), plus {patched:.1f} ms "
        f"of modules imported only to be patched ({', '.join(named) or 'none'}{others}): "
        f"{(sdk + patched) / total_on:.0%} of {total_on:.1f} ms."
    )
    return (
        f"### Import time in a fresh interpreter (median of {runs} runs, round-robin)\n\n{table}\n\n"
        "#### TrackFunction import by package (`-X importtime` self time, median of 3 runs)\n\n"
        f"{breakdown}\n\n{tracing_share}"
    )


def profile_section(profiles: Sequence[ProfiledOperation], top: int) -> str:
    by_component = {p.operation: p.components() for p in profiles}
    everywhere: defaultdict[str, float] = defaultdict(float)
    for totals in by_component.values():
        for name, ms in totals.items():
            everywhere[name] += ms
    ranked = sorted(everywhere, key=lambda name: -everywhere[name])
    shown = [name for name in ranked if everywhere[name] / len(profiles) >= 0.02]
    rows = [[name, *(f"{by_component[p.operation].get(name, 0.0):.2f}" for p in profiles)] for name in shown]
    rest = [sum(v for k, v in by_component[p.operation].items() if k not in shown) for p in profiles]
    figures: list[tuple[str, Callable[[Profile], float]]] = [
        ("handler, outside the client (profiled)", lambda c: c.handler_ms),
        ("raw, outside the client (profiled)", lambda c: c.ms(c.raw_seconds)),
        ("handler, inside the client (unprofiled)", lambda c: c.handler_client_ns / 1e6 / c.calls),
        ("raw, inside the client (unprofiled)", lambda c: c.raw_client_ns / 1e6 / c.calls),
    ]
    rows.append(["everything else", *(f"{ms:.2f}" for ms in rest)])
    rows += [[label, *(f"{p.median(figure):.2f}" for p in profiles)] for label, figure in figures]
    table = markdown_table(["ms per call", *(p.operation for p in profiles)], rows)
    function_rows = [
        [profile.operation, function_label(key), f"{cumulative:.3f}", f"{own:.3f}"]
        for profile in profiles
        for key, cumulative, own in profile.heaviest(top)
    ]
    functions = markdown_table(["operation", "function", "cumulative ms", "self ms"], function_rows)
    return (
        f"### Where the handler's time goes outside the DynamoDB client (cProfile, {profiles[0].calls} "
        f"calls each, median of {PROFILE_CHUNKS} chunks)\n\n"
        "Self time per call by component (a C builtin counts for its caller). The profiler inflates "
        "Python-heavy code: read shares, not absolute values. Time inside client calls (botocore and "
        "the embedded store) is timed without the profiler.\n\n"
        f"{table}\n\n#### The handler's heaviest functions (per call, not cut by a client call)\n\n{functions}"
    )


def api_targets(
    latencies: Sequence[Latency],
    round_trips: Sequence[RoundTrips],
    seen: Counter[str],
    times: Sequence[ImportTime],
) -> list[Target]:
    rows: list[Target] = [
        (
            f"{r.operation.name} handler <= {r.operation.target_ratio}x raw (median)",
            f"{r.median_ratio:.2f}x",
            r.passed,
        )
        for r in latencies
        if r.operation.target_ratio is not None
    ]
    targeted = [r for r in round_trips if r.targeted]
    worst = max(targeted, key=lambda r: len(r.operations))
    rows.append(
        (
            f"<= {TARGET_ROUND_TRIPS} DynamoDB round trips per call ({len(targeted)} request paths)",
            f"max {len(worst.operations)} ({worst.request})",
            all(r.passed for r in targeted),
        )
    )
    rows.append(("no Scan on any request path", f"{seen.get('Scan', 0)} Scan requests", "Scan" not in seen))
    baseline = next(t for t in times if t.subject.function is None).median
    traced = [t for t in times if t.subject.function is not None and t.subject.tracing]
    slowest = max(traced, key=lambda t: t.median)
    rows.append(
        (
            f"handler import <= {TARGET_IMPORT_RATIO}x import boto3 (tracing on)",
            f"max {slowest.median / baseline:.2f}x ({slowest.subject.function})",
            all(t.median / baseline <= TARGET_IMPORT_RATIO for t in traced),
        )
    )
    return rows
