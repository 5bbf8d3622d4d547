"""The benchmarks stay rooms a reader can find their way in (issue 24): no module over 600 lines,
and every module imports (a benchmark broken by a refactor is found here, not at its next run)."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
MAX_LINES = 600


def _modules() -> list[str]:
    return sorted(
        ".".join(path.relative_to(BENCH.parent).with_suffix("").parts) for path in BENCH.rglob("*.py")
    )


def _bench_only_requirements() -> set[str]:
    """Packages pyproject.toml's `bench` group adds to the development ones (`make bench` installs
    them from uv.lock; `make setup` does not)."""
    groups = tomllib.loads((BENCH.parent / "pyproject.toml").read_text())["dependency-groups"]
    names = {
        re.split(r"[<>=\[ ;]", entry.strip(), maxsplit=1)[0]
        for entry in groups["bench"]
        if isinstance(entry, str)
    }
    return {name.lower().replace("-", "_") for name in names if name}


def test_no_bench_module_is_over_600_lines() -> None:
    sizes = {
        path.relative_to(BENCH.parent).as_posix(): len(path.read_text().splitlines())
        for path in BENCH.rglob("*.py")
    }
    assert sizes
    assert {name: lines for name, lines in sizes.items() if lines > MAX_LINES} == {}


@pytest.mark.parametrize("module", _modules())
def test_every_bench_module_imports(module: str) -> None:
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as missing:
        top = (missing.name or "").split(".")[0].lower()
        if top in _bench_only_requirements():
            pytest.skip(f"{module} needs {top} (make bench installs it)")
        raise


def test_the_shared_harness_keeps_its_public_names() -> None:
    report = importlib.import_module("bench.report")
    for name in ("markdown_table", "verdict", "machine_line", "seeded_workspace_arguments"):
        assert callable(getattr(report, name))


def test_paired_timing_alternates_the_order_and_keeps_the_pairs() -> None:
    from bench.report import alternating

    order: list[str] = []
    pairs = [
        alternating(i, lambda: order.append("A") or "a", lambda: order.append("B") or "b") for i in range(4)
    ]
    assert order == ["A", "B", "B", "A", "A", "B", "B", "A"]
    assert pairs == [("a", "b")] * 4


def test_targets_percentiles_and_the_results_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import date

    from bench import report

    assert report.percentile([float(i) for i in range(1, 1001)], 0.99) == 990.0
    targets: list[report.Target] = [("a", "1", True), ("b", "2", None), ("c", "3", False)]
    assert report.targets_section(targets).splitlines()[-3:] == [
        "| a      | 1        | PASS   |",
        "| b      | 2        | —      |",
        "| c      | 3        | FAIL   |",
    ]
    assert (report.exit_status(False, targets), report.exit_status(True, targets)) == (0, 1)
    monkeypatch.setattr(report, "RESULTS", tmp_path)
    with report.results_file("demo", today=date(2026, 12, 6)) as path:
        print("| x |")
    assert path == tmp_path / "2026-12-06-demo.md"
    assert path.read_text() == "| x |\n"
    with pytest.raises(FileExistsError), report.results_file("demo", today=date(2026, 12, 6)):
        pass
    assert report.command_line("bench.api", ["--calls", "5"]) == "python -m bench.api --calls 5"
