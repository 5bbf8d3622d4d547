"""A fake service behind httpx.MockTransport: records every batch and answers as told."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import httpx

from swarm_learning_client import Backoff, SwarmLearningClient

Answer = Callable[[httpx.Request, list[dict[str, Any]]], httpx.Response]


def stored(_: httpx.Request, events: list[dict[str, Any]]) -> httpx.Response:
    """The service's answer when every event is stored."""
    results = [{"index": i, "status": 201, "id": e.get("recommendation_id")} for i, e in enumerate(events)]
    return httpx.Response(207, json={"results": results})


class FakeService:
    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.requests: list[httpx.Request] = []
        self.answers: list[Answer] = []  # used in turn, then ``stored``
        self.received = threading.Event()
        self.lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
            if not request.url.path.endswith("/events/batch"):
                answer = self.answers.pop(0) if self.answers else None
                assert answer is not None, f"unexpected {request.method} {request.url}"
                return answer(request, [])
            events = json.loads(request.content)["events"]
            self.batches.append(events)
            answer = self.answers.pop(0) if self.answers else stored
        response = answer(request, events)
        self.received.set()
        return response

    @property
    def events(self) -> list[dict[str, Any]]:
        return [event for batch in self.batches for event in batch]


class RecordingBackoff(Backoff):
    """No waiting; remembers what each retry would have waited for."""

    def __init__(self) -> None:
        super().__init__(base=0.0, cap=0.0)
        object.__setattr__(self, "asked", [])

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        self.asked.append((attempt, retry_after))  # type: ignore[attr-defined]
        return 0.0


def track(client: SwarmLearningClient, n: int = 1, **fields: Any) -> list[str]:
    return [
        client.track(
            agent_id=fields.get("agent_id", "STRAT-01"),
            recommendation_type="strategy",
            recommendation_content={"n": i},
            confidence_score=0.8,
        )
        for i in range(n)
    ]
