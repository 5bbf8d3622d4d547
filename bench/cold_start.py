"""Cold start: each API function's whole-process import against ``import boto3``, paired.

    .venv/bin/python -m bench.cold_start [--runs 9] [--compare-ref <git ref>]

Each sample is the wall time of a fresh, isolated interpreter (``python -I``: startup included, as
the issue measured) that loads the handler module by file path with the layer on its path, in the
environment Lambda gives the function (tracing on: ``LAMBDA_TASK_ROOT`` set, so the Tracer takes its
in-Lambda path), paired with an interpreter that runs ``import boto3`` in the same environment; the
two run back to back, in alternating order, after one discarded round that writes the bytecode
caches. The ratio is the median of the paired ratios. ``--compare-ref`` measures that commit's
functions and layer too (exported with ``git archive``), in the same rounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.report import machine_line, markdown_table, verdict
from localdev import template as tpl
from localdev.runtime import LOCAL_ENVIRONMENT

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 2.0
_LOAD_HANDLER = """\
import importlib.util, sys
sys.path.insert(0, {layer!r})
spec = importlib.util.spec_from_file_location("handler", {path!r})
module = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = module
spec.loader.exec_module(module)
"""


@dataclass(frozen=True)
class Subject:
    label: str
    code: str
    environment: dict[str, str]


def lambda_environment(spec: tpl.FunctionSpec) -> dict[str, str]:
    credentials = {k: v for k, v in LOCAL_ENVIRONMENT.items() if k.startswith("AWS_")}
    return {
        "PATH": os.environ.get("PATH", ""),
        **spec.environment,
        **credentials,
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "AWS_LAMBDA_FUNCTION_NAME": spec.logical_id,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    }


def api_functions() -> list[tpl.FunctionSpec]:
    """The functions behind API Gateway (routes or the authorizer): the ones SnapStart is for."""
    template = tpl.load_template()
    authorizer = tpl.api_auth(template).authorizer_function
    return [s for s in tpl.functions(template) if s.routes or s.logical_id == authorizer]


def subjects(root: Path, tag: str) -> list[Subject]:
    found = []
    for spec in api_functions():
        module_file = spec.handler.rsplit(".", 1)[0]
        code_dir = root / spec.code_dir.relative_to(ROOT)
        code = _LOAD_HANDLER.format(
            layer=str(root / "layers" / "learning"), path=str(code_dir / f"{module_file}.py")
        )
        found.append(Subject(f"{spec.logical_id}{tag}", code, lambda_environment(spec)))
    return found


def wall_seconds(code: str, environment: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-I", "-c", code], env=environment, check=True)
    return time.perf_counter() - started


def measure(all_subjects: list[Subject], runs: int) -> dict[str, list[tuple[float, float]]]:
    """Per subject, ``runs`` pairs of (handler process, boto3 process) seconds."""
    pairs: dict[str, list[tuple[float, float]]] = {s.label: [] for s in all_subjects}
    for round_ in range(runs + 1):
        for index, subject in enumerate(all_subjects):
            if (round_ + index) % 2:
                handler = wall_seconds(subject.code, subject.environment)
                boto3 = wall_seconds("import boto3", subject.environment)
            else:
                boto3 = wall_seconds("import boto3", subject.environment)
                handler = wall_seconds(subject.code, subject.environment)
            if round_:  # the first round writes the bytecode caches
                pairs[subject.label].append((handler, boto3))
    return pairs


def export_ref(ref: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref, "functions", "layers"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    tar_path = into / "ref.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(into, filter="data")
    return into


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--compare-ref", default=None, help="also measure this commit's handlers and layer")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as scratch:
        measured = subjects(ROOT, "")
        if args.compare_ref:
            measured += subjects(export_ref(args.compare_ref, Path(scratch)), f" @ {args.compare_ref}")
        pairs = measure(measured, args.runs)

    rows = []
    worst = 0.0
    for subject in measured:
        samples = pairs[subject.label]
        ratio = statistics.median(h / b for h, b in samples)
        if "@" not in subject.label:
            worst = max(worst, ratio)
        rows.append(
            [
                subject.label,
                f"{statistics.median(h for h, _ in samples) * 1000:.0f}",
                f"{statistics.median(b for _, b in samples) * 1000:.0f}",
                f"{ratio:.2f}x",
            ]
        )
    print(machine_line(["boto3", "botocore", "aws-lambda-powertools", "pydantic"]))
    print(f"\nWhole-process import, median of {args.runs} paired runs (ms)\n")
    print(markdown_table(["function", "handler process", "import boto3 process", "ratio (paired)"], rows))
    print(
        f"\n{verdict(worst <= TARGET_RATIO)}: worst API function {worst:.2f}x import boto3 "
        f"(target <= {TARGET_RATIO}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
