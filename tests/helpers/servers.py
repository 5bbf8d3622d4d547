"""Real ``python -m localdev serve`` processes for the tests that run the server as a person does
(``test_local_run.py``, ``test_durability.py``): each keeps its files under a temporary
``LOCALDEV_STATE_DIR``; the ``state`` and ``servers`` fixtures are imported by those modules."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 180


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOCALDEV_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("PYTHONUNBUFFERED", "1")
    monkeypatch.delenv("SWARM_API_KEY", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    return tmp_path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    directory: Path
    stdout: Path
    stderr: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def key(self) -> str:
        return (self.directory / "api-key").read_text().strip()

    def console(self) -> tuple[str, str]:
        return self.stdout.read_text(), self.stderr.read_text()

    def get(self, path: str, key: str | None = None) -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {key or self.key()}"}
        request = urllib.request.Request(self.url + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def stop(self) -> None:
        self.process.terminate()  # SIGTERM: a final snapshot, the url file removed
        self.process.wait(timeout=60)


@pytest.fixture
def servers(state: Path) -> Iterator[list[Served]]:
    started: list[Served] = []
    yield started
    for served in started:
        if served.process.poll() is None:
            served.process.kill()
            served.process.wait(timeout=30)


def serve(servers: list[Served], state: Path, port: int, *flags: str) -> Served:
    name = f"{port}-{len(servers)}"
    stdout, stderr = state / f"{name}.out", state / f"{name}.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "localdev",
                "serve",
                "--port",
                str(port),
                "--snapshot-seconds",
                "0.2",
                *flags,
            ],
            cwd=ROOT,
            stdout=out,
            stderr=err,
        )
    served = Served(process, port, state / str(port), stdout, stderr)
    servers.append(served)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    # Serving once the banner is out and the url file written (a killed server's may be left over).
    while not ((served.directory / "url").exists() and "stop with Ctrl+C" in served.console()[0]):
        assert process.poll() is None, served.console()
        assert time.monotonic() < deadline, served.console()
        time.sleep(0.2)
    return served
