"""An acknowledged write survives the local server's death: the real ``python -m localdev serve``
process (and ``make run``'s whole process group) killed at once after an answer, or at random
moments under four clients, then restarted on the same directory."""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.servers import (
    ROOT,
    START_TIMEOUT_SECONDS,
    Served,
    free_port,
    serve,
    servers,  # noqa: F401 - fixture
    state,  # noqa: F401 - fixture
)

pytestmark = pytest.mark.slow  # real server processes

BASE = "/api/v1/learning"
WORKSPACE = "ws_demo"


def _post(url: str, key: str, body: dict[str, Any], timeout: float = 30) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url + BASE + "/recommendations/track",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _track(served: Served, key: str, agent: str, number: int) -> tuple[int, dict[str, Any]]:
    return _post(
        served.url,
        key,
        {
            "workspace_id": WORKSPACE,
            "agent_id": agent,
            "agent_name": agent.title(),
            "recommendation_type": "strategy",
            "recommendation_content": {"n": number},
            "confidence_score": 0.5,
            "reasoning": f"write {number}",
        },
    )


def _listed(served: Served, key: str, agent: str) -> list[str]:
    """Every recommendation id of ``agent``, all pages."""
    ids: list[str] = []
    token = ""
    while True:
        path = f"{BASE}/recommendations/agent/{agent}?workspace_id={WORKSPACE}&limit=100"
        status, page = served.get(path + (f"&next_token={token}" if token else ""), key=key)
        assert status == 200, page
        ids += [item["recommendation_id"] for item in page["items"]]
        token = page.get("next_token") or ""
        if not token:
            return ids


def _tracked_count(served: Served, key: str) -> int:
    status, stats = served.get(f"{BASE}/stats?workspace_id={WORKSPACE}", key=key)
    assert status == 200, stats
    return int(stats["overall"]["counts"]["tracked"])


def test_every_acknowledged_track_survives_kill_9_right_after_its_answer(
    servers: list[Served],  # noqa: F811
    state: Path,  # noqa: F811
) -> None:
    port = free_port()
    served = serve(servers, state, port)
    key = served.key()
    acknowledged = []
    for number in range(30):
        status, body = _track(served, key, "STRAT-01", number)
        assert status == 201, body
        acknowledged.append(body["recommendation_id"])
    served.process.send_signal(signal.SIGKILL)  # no sleep: the answer has just arrived
    served.process.wait(timeout=30)

    again = serve(servers, state, port)
    assert again.key() == key  # the development key is data too: it survived
    for recommendation_id in acknowledged:
        status, stored = again.get(f"{BASE}/recommendations/{recommendation_id}?workspace_id={WORKSPACE}")
        assert (status, stored.get("recommendation_id")) == (200, recommendation_id)
    assert sorted(_listed(again, key, "STRAT-01")) == sorted(acknowledged)
    assert _tracked_count(again, key) == 30


def test_acknowledged_writes_of_four_clients_survive_kills_at_random_moments_exactly_once(
    servers: list[Served],  # noqa: F811
    state: Path,  # noqa: F811
) -> None:
    port = free_port()
    rng = random.Random(22)
    agents = [f"AGENT-{n}" for n in range(4)]
    acknowledged: dict[str, set[str]] = {agent: set() for agent in agents}
    key = ""
    for _ in range(2):
        served = serve(servers, state, port)
        key = served.key()
        stop = threading.Event()

        def stream(agent: str, served: Served = served, stop: threading.Event = stop, key: str = key) -> None:
            number = 0
            while not stop.is_set():
                number += 1
                try:
                    status, body = _track(served, key, agent, number)
                except (OSError, http.client.HTTPException, ValueError):
                    return  # the server died under this request (no or half an answer): not acknowledged
                if status == 201:
                    acknowledged[agent].add(body["recommendation_id"])

        clients = [threading.Thread(target=stream, args=(agent,)) for agent in agents]
        for client in clients:
            client.start()
        time.sleep(rng.uniform(1.0, 3.0))
        served.process.send_signal(signal.SIGKILL)
        served.process.wait(timeout=30)
        stop.set()
        for client in clients:
            client.join(timeout=60)

    again = serve(servers, state, port)
    total = 0
    for agent in agents:
        listed = _listed(again, key, agent)
        assert len(listed) == len(set(listed))  # exactly once
        assert acknowledged[agent] <= set(listed), agent  # every acknowledged one
        assert acknowledged[agent], agent
        total += len(listed)
    # Each stored recommendation was counted once: no write applied twice by the replay.
    assert _tracked_count(again, key) == total


def test_sigterm_to_make_runs_process_group_right_after_a_write_saves_it_cleanly(
    state: Path,  # noqa: F811
) -> None:
    port = free_port()
    directory = state / str(port)
    environment = {**os.environ, "PORT": str(port), "PYTHONUNBUFFERED": "1"}
    environment.pop("MAKEFLAGS", None)
    environment.pop("MAKELEVEL", None)

    def start() -> tuple[subprocess.Popen[bytes], Path, Path]:
        out, err = state / f"make-{time.monotonic_ns()}.out", state / f"make-{time.monotonic_ns()}.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(
                ["make", "--no-print-directory", "run", f"PORT={port}"],
                cwd=ROOT,
                env=environment,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,  # its own process group, as a terminal gives it
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not ((directory / "url").exists() and "stop with Ctrl+C" in out.read_text()):
            assert process.poll() is None, (out.read_text(), err.read_text())
            assert time.monotonic() < deadline
            time.sleep(0.1)
        return process, out, err

    process, out, err = start()
    try:
        served = Served(process, port, directory, out, err)
        status, body = _track(served, served.key(), "STRAT-01", 1)
        assert status == 201, body
        os.killpg(process.pid, signal.SIGTERM)  # make forwards it: the server gets it twice
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    output, errors = out.read_text(), err.read_text()
    assert "Traceback" not in output + errors, errors
    assert "saved " in output
    assert not (directory / "url").exists()

    process, out, err = start()
    try:
        again = Served(process, port, directory, out, err)
        found = again.get(f"{BASE}/recommendations/{body['recommendation_id']}?workspace_id={WORKSPACE}")
        assert found[0] == 200
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=120)
    assert "Traceback" not in out.read_text() + err.read_text()


def test_a_signal_while_history_is_seeded_stops_cleanly_and_a_second_one_waits(
    state: Path,  # noqa: F811
) -> None:
    port = free_port()
    out, err = state / "seeding.out", state / "seeding.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "localdev", "serve", "--port", str(port), "--history", "60"],
            cwd=ROOT,
            stdout=stdout,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while "Seeding" not in out.read_text():
            assert process.poll() is None, err.read_text()
            assert time.monotonic() < deadline
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)  # before the server ever served
        process.send_signal(signal.SIGTERM)  # and again, as make forwards it
        assert process.wait(timeout=300) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert "Traceback" not in out.read_text() + err.read_text()
    assert "saved " in out.read_text()
    assert not (state / str(port) / "url").exists()
    assert (state / str(port) / "store.json").exists()
