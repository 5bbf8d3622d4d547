"""The dependency lock is current: uv.lock matches pyproject.toml's inputs, and the layer's
requirements.txt (what `sam build` installs) is exactly the lock's export. A stale one fails here;
`make lock` brings both up to date."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXPORT = [
    "export",
    "--frozen",
    "--no-default-groups",
    "--no-emit-project",
    "--format",
    "requirements-txt",
]


def _uv() -> str:
    """uv as `make setup` installs it (the version requirements-uv.txt pins, in the user's cache),
    else on PATH."""
    version = re.search(r"^uv==([0-9.]+)", (ROOT / "requirements-uv.txt").read_text(), re.MULTILINE)
    assert version is not None
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    local = cache / "swarm-learning" / f"uv-{version.group(1)}" / "bin" / "uv"
    found = str(local) if local.exists() else shutil.which("uv")
    assert found, f"uv is missing: `make setup` installs it into {local.parent.parent}"
    return found


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"}
    environment.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [_uv(), *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False, env=environment
    )


def _project_copy(tmp_path: Path) -> Path:
    """pyproject.toml, uv.lock and the client they name, as in the repository."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    shutil.copy(ROOT / "uv.lock", tmp_path)
    shutil.copytree(
        ROOT / "clients" / "python",
        tmp_path / "clients" / "python",
        ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", "build"),
    )
    return tmp_path


def test_the_lock_matches_its_inputs() -> None:
    checked = _run("lock", "--check", "--offline", "--python", "3.11")
    assert checked.returncode == 0, checked.stderr


def test_the_layers_requirements_are_the_locks_export() -> None:
    exported = _run(*EXPORT)
    assert exported.returncode == 0, exported.stderr
    committed = (ROOT / "layers" / "learning" / "requirements.txt").read_text()
    body = [line for line in committed.splitlines() if not line.startswith("#")]
    assert body == [line for line in exported.stdout.splitlines() if not line.startswith("#")], (
        "layers/learning/requirements.txt differs from uv.lock: run `make lock`"
    )


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('    "pyyaml>=6",\n', '    "pyyaml>=6",\n    "six>=1.16",\n'),  # a dependency added to a group
        ('"pydantic>=2.7,<3"', '"pydantic>=2.7,<2.99"'),  # a layer requirement changed
    ],
)
def test_a_lock_stale_against_its_inputs_fails_the_check(tmp_path: Path, old: str, new: str) -> None:
    project = _project_copy(tmp_path)
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    assert old in text
    pyproject.write_text(text.replace(old, new, 1))
    checked = _run("lock", "--check", "--offline", "--python", "3.11", cwd=project)
    assert checked.returncode != 0
    assert "needs to be updated" in checked.stderr


def test_the_layer_ships_boto3_with_its_botocore_at_the_locked_versions() -> None:
    pinned = {
        line.split("==")[0]: line.split("==")[1].split()[0]
        for line in (ROOT / "layers" / "learning" / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith((" ", "#"))
    }
    assert {"boto3", "botocore", "aws-xray-sdk", "aws-lambda-powertools", "pydantic"} <= set(pinned)
    assert not {"moto", "pytest", "pyyaml"} & set(pinned)  # nothing of the local server or the tests
    assert pinned["boto3"].split(".")[:2] == pinned["botocore"].split(".")[:2]
