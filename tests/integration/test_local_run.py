"""``make run`` as a person uses it: the real ``python -m localdev serve`` process on a port, the
commands that find it with no port given, ``kill -9`` and a restart, ``--fresh``, a second server
on another port, and what the console shows. Each server keeps its files under a temporary
``LOCALDEV_STATE_DIR``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.servers import (
    ROOT,
    Served,
    free_port,
    serve,
    servers,  # noqa: F401 - fixture
    state,  # noqa: F401 - fixture
)

pytestmark = pytest.mark.slow  # real server processes
STATS = "/api/v1/learning/stats?workspace_id=ws_demo"
ACCESS_LINE = re.compile(r"^\d\d:\d\d:\d\d [A-Z]+ /\S* \d{3} \d+ ms$")


def _command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )


def _journaled(served: Served, marker: str) -> bool:
    """Whether the journal holds ``marker`` (an id written last) once its answer has arrived."""
    return any(
        marker.encode() in journal.read_bytes() for journal in served.directory.glob("journal-*.jsonl")
    )


def test_data_and_key_survive_kill_9_and_commands_find_the_server(
    servers: list[Served],  # noqa: F811
    state: Path,  # noqa: F811
) -> None:
    port, other_port = free_port(), free_port()
    while other_port == port:
        other_port = free_port()
    first = serve(servers, state, port)

    # No port given: each command finds the running server through its url file.
    demo = _command("localdev", "demo", "--workflows", "3")
    assert demo.returncode == 0, demo.stderr
    job = _command("localdev", "job", "trust-refresh")
    assert job.returncode == 0, job.stderr
    assert json.loads(job.stdout)["job"] == "trust-refresh"
    created = _command("admin", "keys", "create", "--workspace", "ws_demo", "--name", "me", "--local")
    assert created.returncode == 0, created.stderr
    issued = json.loads(created.stdout)
    admin_key = issued["api_key"]
    status, stats = first.get(STATS)
    tracked = stats["overall"]["counts"]["tracked"]
    assert (status, tracked > 0) == (200, True)
    key = first.key()
    assert _journaled(first, issued["key_id"])  # journaled before it was answered: no wait

    first.process.kill()  # kill -9
    first.process.wait(timeout=30)
    again = serve(servers, state, port)
    assert again.key() == key
    assert "same development API key" in again.console()[0]
    status, stats = again.get(STATS)
    assert (status, stats["overall"]["counts"]["tracked"]) == (200, tracked)
    assert again.get(STATS, key=admin_key)[0] == 200  # the issued key is data too

    # A second server on the same port stops before touching the first one's files.
    clash = _command("localdev", "serve", "--port", str(port))
    assert clash.returncode == 1
    assert clash.stderr.strip() == (
        f"cannot listen on 127.0.0.1:{port} (Address already in use); is a server running there?"
    )
    assert again.key() == key
    # A second server on another port has its own directory and key; the first one's is untouched.
    second = serve(servers, state, other_port)
    assert second.key() != key
    assert again.key() == key
    several = _command("localdev", "job", "trust-refresh")
    assert several.returncode == 1
    assert several.stderr.strip().splitlines() == [
        f"several local servers are running ({again.url}, {second.url}); pick one with --url"
    ] or several.stderr.strip().splitlines() == [
        f"several local servers are running ({second.url}, {again.url}); pick one with --url"
    ]
    named = _command("localdev", "job", "trust-refresh", "--url", second.url)
    assert named.returncode == 0, named.stderr

    second.stop()
    again.stop()
    for args in (
        ("localdev", "job", "trust-refresh"),
        ("localdev", "demo"),
        ("admin", "keys", "list", "--local"),
    ):
        none = _command(*args)
        assert none.returncode == 1, args
        assert none.stderr.strip() == "no local server is running; start one with `make run` (or pass --url)"

    fresh = serve(servers, state, port, "--fresh")
    assert fresh.key() != key
    status, stats = fresh.get(STATS)
    assert (status, stats["overall"]["counts"]["tracked"]) == (200, 0)
    assert fresh.get(STATS, key=key)[0] == 401
    fresh.stop()
    reset = _command("localdev", "reset", "--port", str(port))
    assert reset.returncode == 0, reset.stderr
    assert not (state / str(port)).exists()


def test_the_console_shows_one_short_line_per_request(
    servers: list[Served],  # noqa: F811
    state: Path,  # noqa: F811
) -> None:
    served = serve(servers, state, free_port())
    banner = served.console()[0]
    paths = [STATS, "/api/v1/learning/recommendations/rec_01JZZZZZZZZZZZZZZZZZZZZZZZ?workspace_id=ws_demo"]
    for path in paths:
        served.get(path)
    job = _command("localdev", "job", "learning-cycle")  # the jobs log and publish metrics
    assert job.returncode == 0, job.stderr
    served.stop()
    stdout, stderr = served.console()
    assert stdout.startswith(banner)
    assert "{" not in stdout.removeprefix(banner)  # no handler log, no EMF blob
    lines = stderr.splitlines()
    assert all(ACCESS_LINE.match(line) for line in lines), lines
    requests = [" ".join(line.split()[1:4]) for line in lines]
    assert "GET /api/v1/learning/stats 200" in requests
    assert "GET /api/v1/learning/recommendations/rec_01JZZZZZZZZZZZZZZZZZZZZZZZ 404" in requests
    assert "POST /_local/jobs/learning-cycle 200" in requests
    assert "No application metrics" not in stdout + stderr
