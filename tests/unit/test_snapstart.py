"""SnapStart's hooks: what a restored instance makes its own again, and that every handler
registers it (``swarm_learning.api.snapstart``)."""

from __future__ import annotations

import random
from collections.abc import Callable
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
