"""SnapStart's hooks: what a restored instance makes its own again, and that every handler
registers it (``swarm_learning.api.snapstart``)."""

from __future__ import annotations

import importlib
import json
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from swarm_learning.api import handler, snapstart
from swarm_learning.config import get_settings


def test_a_restored_instance_reseeds_random_and_drops_cached_clients_and_settings() -> None:
    random.seed(22)  # as if every instance had been restored from one snapshot with this state
    snapshot_state = random.getstate()
    get_settings()
    boto3.setup_default_session(region_name="us-east-1")
    assert get_settings.cache_info().currsize == 1

    snapstart.fresh_instance()

    assert random.getstate() != snapshot_state  # its own jitter, not the snapshot's
    assert get_settings.cache_info().currsize == 0  # settings, stores, clients: built again
    assert boto3.DEFAULT_SESSION is None  # and with them the credentials


def test_every_handler_registers_the_after_restore_hook_once(monkeypatch: pytest.MonkeyPatch) -> None:
    registered: list[Callable[[], Any]] = []
    monkeypatch.setattr(snapstart, "register_after_restore", registered.append)
    monkeypatch.setattr(snapstart, "_installed", False)
    handler.observed()
    handler.job_handler(lambda event, context: {})
    assert registered == [snapstart.fresh_instance]


def test_deferred_imports_are_loaded_before_the_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[Callable[[], Any]] = []
    monkeypatch.setattr(snapstart, "register_before_snapshot", loads.append)
    from swarm_learning.services.tracking import idempotent

    snapstart.load_before_snapshot(idempotent.load_idempotency)
    assert loads == [idempotent.load_idempotency]
    loads[0]()  # what the runtime calls before the snapshot: the idempotency package, imported


@pytest.mark.parametrize(
    ("function", "deferred"),
    [
        # numpy is for the cycle; the learning API function's pattern reads import it on first use
        (
            "LearningFunction",
            ["numpy", "swarm_learning.domain.patterns", "swarm_learning.services.learning.runner"],
        ),
        # the trust refresh (and the agent alerts it raises) is the refresh job's and the history read's
        ("TrustFunction", ["swarm_learning.services.trust.refresh", "swarm_learning.services.alerts.agents"]),
        ("QueryFunction", ["swarm_learning.services.trust.refresh", "numpy"]),
    ],
)
def test_a_cold_start_does_not_import_what_only_some_routes_use(function: str, deferred: list[str]) -> None:
    from bench.cold_start import subjects

    subject = next(s for s in subjects(Path(__file__).resolve().parents[2], "") if s.label == function)
    code = subject.code + "\nimport json; print(json.dumps(sorted(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-I", "-c", code],
        env=subject.environment,
        capture_output=True,
        text=True,
        check=True,
    )
    imported = set(json.loads(loaded.stdout.splitlines()[-1]))
    assert "swarm_learning.api.handler" in imported  # the handler did load
    assert imported.isdisjoint(deferred)


def test_the_deferred_route_imports_are_loaded_before_the_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[Callable[[], Any]] = []
    monkeypatch.setattr(snapstart, "register_before_snapshot", loads.append)
    from swarm_learning.api.routes import learned_reads, trust_reads

    for module in (learned_reads, trust_reads):  # their registration, run again under the patch
        importlib.reload(module)
    from swarm_learning.services.learning.reads import load_pattern_maths
    from swarm_learning.services.trust.service import load_trust_refresh

    assert loads[-2:] == [load_pattern_maths, load_trust_refresh]
    lower, upper = load_pattern_maths()(0.8, 50, 1.6)  # what the runtime calls before the snapshot
    assert lower < 1.6 < upper
    assert load_trust_refresh().__name__ == "TrustRefresh"
