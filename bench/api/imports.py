"""Each handler module's import time in a fresh interpreter, against ``import boto3``."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from bench.api.calls import LAYER, ROOT
from localdev import runtime
from localdev import template as tpl

_MARKER = "-- bench: timed import starts --"


_IMPORT_HANDLER = """\
import importlib.util, sys, time
sys.path.insert(0, {layer!r})
sys.stderr.write({marker!r} + "\\n")
start = time.perf_counter()
spec = importlib.util.spec_from_file_location({name!r}, {path!r})
module = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = module
spec.loader.exec_module(module)
print(time.perf_counter() - start)
"""


_IMPORT_BOTO3 = """\
import sys, time
sys.stderr.write({marker!r} + "\\n")
start = time.perf_counter()
import boto3
print(time.perf_counter() - start)
"""


@dataclass(frozen=True)
class ImportSubject:
    label: str
    code: str
    environment: dict[str, str]
    function: str | None = None  # logical id; None for the boto3 baseline
    tracing: bool = True

    def run(self, *options: str) -> subprocess.CompletedProcess[str]:
        """A fresh, isolated interpreter (-I: no PYTHONPATH, no user site, no cwd on the path)."""
        return subprocess.run(
            [sys.executable, "-I", *options, "-c", self.code],
            env=self.environment,
            capture_output=True,
            text=True,
            check=True,
        )

    def seconds(self) -> float:
        return float(self.run().stdout.strip().splitlines()[-1])


def lambda_environment(spec: tpl.FunctionSpec, *, tracing: bool) -> dict[str, str]:
    """What Lambda gives the function: the template's variables, the runtime's own (a task root
    makes Powertools' Tracer take its in-Lambda path: X-Ray SDK loaded, libraries patched; the SDK
    then touches /tmp/.aws-xray/initialized, as it does in Lambda)."""
    credentials = {k: v for k, v in runtime.LOCAL_ENVIRONMENT.items() if k.startswith("AWS_")}
    environment = {
        "PATH": os.environ.get("PATH", ""),
        **spec.environment,
        **credentials,
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "AWS_LAMBDA_FUNCTION_NAME": spec.logical_id,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    }
    if not tracing:
        environment["POWERTOOLS_TRACE_DISABLED"] = "true"
    return environment


def import_subjects() -> list[ImportSubject]:
    specs = tpl.functions(tpl.load_template())
    subjects = [
        ImportSubject(
            "import boto3",
            _IMPORT_BOTO3.format(marker=_MARKER),
            lambda_environment(specs[0], tracing=True),
        )
    ]
    for spec in specs:
        module_file = spec.handler.rsplit(".", 1)[0]
        code = _IMPORT_HANDLER.format(
            layer=str(LAYER),
            marker=_MARKER,
            name=f"function_{spec.logical_id}",
            path=str(spec.code_dir / f"{module_file}.py"),
        )
        label = f"{spec.logical_id} ({spec.code_dir.relative_to(ROOT)}/{module_file}.py)"
        for tracing in (True, False):  # side by side, so each pair of runs sees the same machine
            environment = lambda_environment(spec, tracing=tracing)
            subjects.append(ImportSubject(label, code, environment, spec.logical_id, tracing))
    return subjects


@dataclass(frozen=True)
class ImportTime:
    subject: ImportSubject
    milliseconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.milliseconds)


def measure_imports(subjects: Sequence[ImportSubject], runs: int) -> list[ImportTime]:
    """Round-robin over the subjects, after one discarded round that warms the disk cache and
    writes the bytecode caches (Lambda's layer ships compiled bytecode too)."""
    samples: dict[str, list[float]] = {f"{s.label}/{s.tracing}": [] for s in subjects}
    for round_ in range(runs + 1):
        for subject in subjects:
            seconds = subject.seconds()
            if round_:
                samples[f"{subject.label}/{subject.tracing}"].append(seconds * 1000)
    return [ImportTime(s, samples[f"{s.label}/{s.tracing}"]) for s in subjects]


def import_breakdown(subject: ImportSubject, runs: int) -> dict[str, float]:
    """``-X importtime`` self time (ms) of the timed import, by top-level package; median of runs."""
    per_run: list[defaultdict[str, float]] = []
    for _ in range(runs):
        lines = subject.run("-X", "importtime").stderr.splitlines()
        totals: defaultdict[str, float] = defaultdict(float)
        for line in lines[lines.index(_MARKER) + 1 :]:
            if not line.startswith("import time:") or "imported package" in line:
                continue
            self_us, _, name = line.removeprefix("import time:").split("|")
            totals[_package_label(name.strip().split(".")[0])] += int(self_us) / 1000
        per_run.append(totals)
    packages = set().union(*per_run)
    return {package: statistics.median(run.get(package, 0.0) for run in per_run) for package in packages}


def _package_label(top_level: str) -> str:
    if top_level in sys.stdlib_module_names or top_level.startswith("_"):
        return f"{top_level.lstrip('_')} (stdlib)"
    return top_level
