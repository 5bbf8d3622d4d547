"""The background sender against a mocked transport: batching, retries, Retry-After, no retry on
4xx, a full queue, the drop hook, flush and close, the exit hook and fork safety."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import threading
import warnings
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from fake_service import FakeService, RecordingBackoff, track

from swarm_learning_client import EventFailure
from swarm_learning_client._http import retry_after


def answer(status: int, headers: dict[str, str] | None = None, body: dict | None = None):  # type: ignore[no-untyped-def]
    return lambda _request, _events: httpx.Response(status, headers=headers, json=body or {"error": "x"})


def test_events_go_in_batches_of_100_in_order(make_client, service: FakeService) -> None:
    client = make_client()
    ids = track(client, 250)
    assert client.flush(timeout=10)
    assert [len(b) for b in service.batches] == [100, 100, 50]
    assert [e["recommendation_id"] for e in service.events] == ids
    assert client.stats().sent == 250


def test_the_worker_sends_a_full_batch_without_being_asked(make_client, service: FakeService) -> None:
    client = make_client(batch_size=10)
    track(client, 10)
    assert service.received.wait(10)
    assert len(service.batches[0]) == 10


def test_the_worker_sends_a_partial_batch_after_the_interval(make_client, service: FakeService) -> None:
    client = make_client(flush_interval=0.05)
    track(client, 3)
    assert service.received.wait(10)
    assert len(service.batches[0]) == 3


def test_503_and_network_errors_are_retried_with_backoff(
    make_client, service: FakeService, backoff: RecordingBackoff
) -> None:
    def network_down(request: httpx.Request, _events: list) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    service.answers = [answer(503), network_down, answer(502)]
    client = make_client()
    ids = track(client, 5)
    assert client.flush(timeout=10)
    assert len(service.batches) == 4
    assert all([e["recommendation_id"] for e in batch] == ids for batch in service.batches)
    assert backoff.asked == [(0, None), (1, None), (2, None)]
    assert (client.stats().sent, client.stats().retries) == (5, 3)


def test_retry_after_is_honoured_on_429_and_503(
    make_client, service: FakeService, backoff: RecordingBackoff
) -> None:
    service.answers = [answer(429, {"Retry-After": "7"}), answer(503, {"Retry-After": "2.5"})]
    client = make_client()
    track(client, 1)
    assert client.flush(timeout=10)
    assert backoff.asked == [(0, 7.0), (1, 2.5)]


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
    response = httpx.Response(503, headers={"Retry-After": "Mon, 02 Mar 2026 12:00:09 GMT"})
    assert retry_after(response, now=now) == 9.0
    assert retry_after(httpx.Response(500, headers={"Retry-After": "9"})) is None


def test_backoff_grows_exponentially_with_full_jitter_and_respects_retry_after() -> None:
    import random

    from swarm_learning_client import Backoff

    backoff = Backoff(base=0.5, cap=4.0, rng=random.Random(7))
    delays = [backoff.delay(attempt) for attempt in range(8)]
    assert all(0 <= d <= min(4.0, 0.5 * 2**a) for a, d in enumerate(delays))
    assert backoff.delay(0, retry_after=10.0) == 10.0


@pytest.mark.parametrize("status", [400, 401, 403, 422])
def test_other_4xx_are_not_retried_and_go_to_on_error(make_client, service: FakeService, status: int) -> None:
    failures: list[EventFailure] = []
    service.answers = [answer(status, body={"error": "bad", "message": "no"})]
    client = make_client(on_error=failures.append)
    track(client, 2)
    assert client.flush(timeout=10)
    assert len(service.batches) == 1
    assert [(f.status, f.error) for f in failures] == [(status, "bad")] * 2
    assert client.stats().failed == 2


def test_per_event_results_retry_only_the_503s_and_report_the_field(
    make_client, service: FakeService
) -> None:
    def mixed(_request: httpx.Request, events: list) -> httpx.Response:
        error = {"error": "validation_error", "message": "bad", "field": "confidence_score"}
        results = [
            {"index": 0, "status": 201},
            {"index": 1, "status": 422, "error": error},
            {"index": 2, "status": 503, "error": {"error": "unavailable", "message": "again", "field": None}},
        ]
        return httpx.Response(207, json={"results": results})

    failures: list[EventFailure] = []
    service.answers = [mixed]
    client = make_client(on_error=failures.append)
    ids = track(client, 3)
    assert client.flush(timeout=10)
    assert [e["recommendation_id"] for e in service.batches[1]] == [ids[2]]
    assert [(f.event["recommendation_id"], f.status, f.field) for f in failures] == [
        (ids[1], 422, "confidence_score")
    ]
    assert (client.stats().sent, client.stats().failed) == (2, 1)


def test_a_batch_over_the_body_limit_is_sent_again_in_halves(make_client, service: FakeService) -> None:
    def too_large(_request: httpx.Request, events: list) -> httpx.Response:
        if len(events) > 2:
            return httpx.Response(413, json={"error": "payload_too_large", "message": "over 512 KB"})
        return httpx.Response(
            207, json={"results": [{"index": i, "status": 201} for i in range(len(events))]}
        )

    failures: list[EventFailure] = []
    service.answers = [too_large] * 7
    client = make_client(on_error=failures.append)
    ids = track(client, 6)
    assert client.flush(timeout=10)
    assert [len(b) for b in service.batches] == [6, 3, 1, 2, 3, 1, 2]
    assert [e["recommendation_id"] for b in service.batches if len(b) < 3 for e in b] == ids
    assert (client.stats().sent, failures) == (6, [])


def test_a_single_event_over_the_body_limit_is_final(make_client, service: FakeService) -> None:
    failures: list[EventFailure] = []
    service.answers = [answer(413, body={"error": "payload_too_large", "message": "over 512 KB"})]
    client = make_client(on_error=failures.append)
    track(client, 1)
    assert client.flush(timeout=10)
    assert [(f.status, f.error) for f in failures] == [(413, "payload_too_large")]


def test_gives_up_after_max_retries(make_client, service: FakeService) -> None:
    failures: list[EventFailure] = []
    service.answers = [answer(503)] * 3
    client = make_client(max_send_retries=2, on_error=failures.append)
    track(client, 1)
    assert client.flush(timeout=10)
    assert [f.error for f in failures] == ["gave_up"]


def test_full_queue_drops_counts_warns_once_and_calls_the_hook(
    make_client, service: FakeService, caplog
) -> None:
    release, entered = threading.Event(), threading.Event()

    def held(request: httpx.Request, events: list) -> httpx.Response:
        entered.set()
        release.wait(10)
        return httpx.Response(
            207, json={"results": [{"index": i, "status": 201} for i in range(len(events))]}
        )

    dropped: list[dict] = []
    service.answers = [held]
    client = make_client(max_queue_size=5, batch_size=1, on_drop=dropped.append)
    caplog.set_level(logging.WARNING, logger="swarm_learning_client")
    track(client, 1)  # taken by the worker, which is now held in the transport
    assert entered.wait(10)
    kept = track(client, 5)
    lost = track(client, 3)
    assert [e["recommendation_id"] for e in dropped] == lost
    assert client.stats().dropped == 3
    assert len([r for r in caplog.records if "dropped" in r.getMessage()]) == 1
    release.set()
    assert client.flush(timeout=10)
    assert [e["recommendation_id"] for e in service.events][1:] == kept


def test_close_sends_what_is_queued_and_later_tracks_are_dropped(make_client, service: FakeService) -> None:
    client = make_client()
    ids = track(client, 3)
    assert client.close(timeout=10)
    assert [e["recommendation_id"] for e in service.events] == ids
    track(client, 1)
    assert client.stats().dropped == 1


def test_flush_on_return_sends_before_the_handler_returns(make_client, service: FakeService) -> None:
    client = make_client()

    @client.flush_on_return
    def handler(event: dict, context: object) -> str:
        track(client, 2)
        return "done"

    assert handler({}, None) == "done"
    assert len(service.events) == 2


def test_lambda_is_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    from swarm_learning_client import in_lambda

    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    assert not in_lambda()
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "orchestrator")
    assert in_lambda()


EXIT_SCRIPT = """
import json, sys, httpx
from swarm_learning_client import SwarmLearningClient

def handle(request):
    events = json.loads(request.content)["events"]
    with open(sys.argv[1], "a") as out:
        out.writelines(e["recommendation_id"] + "\\n" for e in events)
    return httpx.Response(207, json={"results": [{"index": i, "status": 201} for i in range(len(events))]})

client = SwarmLearningClient("http://service.test", "key", workspace_id="ws", flush_interval=3600,
                             transport=httpx.MockTransport(handle))
for i in range(3):
    print(client.track(agent_id="A", recommendation_type="strategy", recommendation_content={}, confidence_score=0.5))
# no close(): the atexit hook sends them
"""


def test_the_exit_hook_sends_what_is_queued(tmp_path: Path) -> None:
    sent = tmp_path / "sent.txt"
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(EXIT_SCRIPT), str(sent)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert sent.read_text().split() == run.stdout.split()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_starts_empty_with_its_own_worker(make_client, service: FakeService) -> None:
    release, entered = threading.Event(), threading.Event()

    def held(request: httpx.Request, events: list) -> httpx.Response:
        entered.set()
        release.wait(10)
        return httpx.Response(
            207, json={"results": [{"index": i, "status": 201} for i in range(len(events))]}
        )

    service.answers = [held]
    client = make_client(batch_size=1)
    parent_ids = track(client, 3)  # one held in the transport, two queued
    assert entered.wait(10)
    parent_http = client._http
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads: what users do
        pid = os.fork()
    if pid == 0:  # the child: an empty queue, a new worker, its own connection pool
        code = 1
        try:
            before = len(service.batches)
            empty = client.stats().queued == 0 and client.sender._http is None
            empty = empty and client._http is not parent_http  # decisions: its own connections too
            child_ids = track(client, 2)
            sent = client.flush(timeout=10)
            child_events = [e["recommendation_id"] for e in service.events[before:]]
            code = 0 if empty and sent and child_events == child_ids else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    release.set()
    assert client.flush(timeout=10)
    assert [e["recommendation_id"] for e in service.events] == parent_ids
