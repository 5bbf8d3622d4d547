"""Fixtures: a client wired to the fake service, which sends only on size, flush and close."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fake_service import FakeService, RecordingBackoff

from swarm_learning_client import SwarmLearningClient


@pytest.fixture
def service() -> FakeService:
    return FakeService()


@pytest.fixture
def backoff() -> RecordingBackoff:
    return RecordingBackoff()


@pytest.fixture
def make_client(service: FakeService, backoff: RecordingBackoff):  # type: ignore[no-untyped-def]
    made: list[SwarmLearningClient] = []

    def make(**options: Any) -> SwarmLearningClient:
        options.setdefault("flush_interval", 3600.0)  # only size, flush and close send
        options.setdefault("backoff", backoff)
        client = SwarmLearningClient(
            "http://service.test",
            "key",
            workspace_id="ws_test",
            transport=httpx.MockTransport(service.handle),
            **options,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close(timeout=5)
