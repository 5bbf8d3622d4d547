"""What every benchmark shares: the machine line and command it prints, progress, paired timing,
markdown tables and targets, the seeded workspace, and the dated results file.

A benchmark module holds its measurement and its targets; everything else it takes from here.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from datetime import date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

if TYPE_CHECKING:
    from localdev.planted import PlantedRecommendation


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    cells = [list(map(str, row)) for row in rows]
    widths = [max(len(cell) for cell in column) for column in zip(headers, *cells, strict=True)]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells)])


def verdict(passed: bool | None) -> str:
    return "—" if passed is None else "PASS" if passed else "FAIL"


def machine_line(packages: Sequence[str]) -> str:
    """Python, platform, CPUs and the versions of ``packages``: what a recorded run ran on."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        models = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line
        ]
        cpu = models[0] if models else cpu
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in packages)
    return (
        f"machine: Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.platform()}, {os.cpu_count()} CPUs ({cpu}); {versions}"
    )


def seeded_workspace_arguments(description: str | None) -> argparse.ArgumentParser:
    """The options of the benchmarks that seed ``ws_demo`` with simulated history (as
    ``python -m localdev serve --history`` does) and open its views ``--runs`` times."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--workflows-per-day", type=int, default=12)
    parser.add_argument("--runs", type=int, default=5)
    return add_results_option(parser)


ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

Target = tuple[str, str, bool | None]  # what is targeted, what was measured, whether it passed
T = TypeVar("T")
U = TypeVar("U")


def command_line(module: str, argv: Sequence[str] | None = None) -> str:
    """The command as typed: ``python -m <module>`` and its arguments (``sys.argv``'s by default)."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    return shlex.join(["python", "-m", module, *arguments])


def header(packages: Sequence[str], module: str, argv: Sequence[str] | None = None) -> str:
    """The machine line and the command: what every printed run starts with."""
    return f"{machine_line(packages)}\ncommand: {command_line(module, argv)}"


def progress_printer() -> Callable[[str], None]:
    """A function printing ``[seconds since now] message`` to stderr (stdout holds the tables)."""
    started = time.monotonic()

    def progress(message: str) -> None:
        print(f"[{time.monotonic() - started:5.0f} s] {message}", file=sys.stderr, flush=True)

    return progress


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (p99 of 1,000 calls is the 990th fastest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def timed(run: Callable[[], T]) -> tuple[T, float]:
    """``run()``'s result and its wall-clock seconds."""
    started = time.perf_counter()
    result = run()
    return result, time.perf_counter() - started


def alternating(index: int, first: Callable[[], T], second: Callable[[], U]) -> tuple[T, U]:
    """Pair ``index`` of a paired timing: A then B on even pairs, B then A on odd ones (AB, BA, AB…),
    so drift and noise hit both sides alike. Results in (first, second) order."""
    if index % 2:
        b = second()
        return first(), b
    a = first()
    return a, second()


def targets_section(targets: Sequence[Target], *, result_header: str = "result") -> str:
    """The ``### Targets`` table: target, measured, PASS/FAIL (— when not judged)."""
    return "### Targets\n\n" + markdown_table(
        ["target", "measured", result_header],
        [[name, measured, verdict(passed)] for name, measured, passed in targets],
    )


def exit_status(strict: bool, targets: Sequence[Target]) -> int:
    """1 under ``--strict`` when a target failed, else 0."""
    return 1 if strict and any(passed is False for _, _, passed in targets) else 0


def add_results_option(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument(
        "--save",
        metavar="NAME",
        default=None,
        help="also write the output to bench/results/<date>-NAME.md (a dated run, as docs/benchmarks.md keeps)",
    )
    return parser


class _Tee(io.TextIOBase):
    def __init__(self, *streams: TextIO) -> None:
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


@contextmanager
def results_file(name: str | None, *, today: date | None = None) -> Iterator[Path | None]:
    """Everything printed in the block also goes to ``bench/results/<date>-<name>.md`` when a name
    is given (a run's record is never edited afterwards: an existing file is refused)."""
    if not name:
        yield None
        return
    path = RESULTS / f"{(today or date.today()).isoformat()}-{name}.md"
    if path.exists():
        raise FileExistsError(f"{path} exists: results files are never overwritten")
    RESULTS.mkdir(parents=True, exist_ok=True)
    with path.open("w") as record, redirect_stdout(_Tee(sys.stdout, record)):
        yield path


def seeded_workspace(workspace: str, args: argparse.Namespace) -> tuple[str, Any, float]:
    """Inside an embedded AWS: a dev key for ``workspace``, the workspace seeded with simulated
    history (``seeded_workspace_arguments``' options), and the seconds the seeding took."""
    from localdev.devkey import issue_dev_key
    from localdev.history import seed_history

    key = issue_dev_key((workspace,))
    seeded, seconds = timed(
        lambda: seed_history(workspace, days=args.days, workflows_per_day=args.workflows_per_day)
    )
    return key, seeded, seconds


def planted_recommendations(
    workflows: int,
    *,
    seed: int,
    start: datetime,
    span: timedelta = timedelta(days=7),
    limit: int | None = None,
) -> Iterator[PlantedRecommendation]:
    """The planted-pattern swarm of ``localdev.planted`` in time order: ``workflows`` workflows'
    recommendations, the first ``limit`` of them when given (the learning benchmarks' seeding)."""
    from localdev.planted import planted_workflows

    produced = 0
    for workflow in planted_workflows(workflows, seed=seed, start=start, span=span):
        for recommendation in workflow:
            if limit is not None and produced >= limit:
                return
            produced += 1
            yield recommendation
