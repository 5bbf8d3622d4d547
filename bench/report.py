"""What every benchmark prints the same way: the machine line, markdown tables, verdicts."""

from __future__ import annotations

import argparse
import os
import platform
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path


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
    return parser
