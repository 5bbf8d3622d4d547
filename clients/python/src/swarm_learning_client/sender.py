"""The background sender: ``enqueue`` costs the caller a few microseconds; a worker thread sends
the events to ``POST /events/batch`` in batches and retries what did not arrive.

- A bounded queue: when it is full the event is dropped, counted, warned about once per interval,
  and handed to ``on_drop`` if given. Tracking never blocks the agent.
- The worker sends when ``batch_size`` events wait, or every ``flush_interval`` seconds.
- Retries: the whole batch on a network error, 408, 429 or 5xx (honouring ``Retry-After`` on 429
  and 503), single events the service answered 503; exponential backoff with full jitter. A batch
  over the service's body limit (413) is sent again in halves. Any other 4xx is final: the event
  goes to ``on_error`` and is logged. Every event carries a client-minted
  id, so a batch sent twice is stored once.
- ``flush(timeout)``, ``close(timeout)``, an ``atexit`` close, and fork safety: a child process
  starts with an empty queue and its own worker and connection pool.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from swarm_learning_client._http import API_PREFIX, RETRYABLE_STATUSES, Backoff, retry_after
from swarm_learning_client.models import EventFailure

log = logging.getLogger("swarm_learning_client")
# What the sender reads of a batch answer (POST /events/batch, 207) and of each result; the rest
# is named so the contract test (tests/unit/test_client_contract.py) knows the client saw it.
BATCH_ANSWER_FIELDS = frozenset({"results", "workspace_id", "received", "stored", "failed"})
RESULT_FIELDS = frozenset({"index", "status", "error", "warning", "type", "id", "recommendation_id"})
RESULT_ERROR_FIELDS = frozenset({"error", "message", "field"})

BATCH_PATH = f"{API_PREFIX}/events/batch"
MAX_BATCH_SIZE = 100  # the service's limit per request


@dataclass(frozen=True)
class SenderStats:
    sent: int  # stored by the service (201, or 200: already stored)
    failed: int  # refused by the service (4xx) or given up on after the retries
    dropped: int  # never queued: the queue was full (or the sender closed)
    queued: int  # waiting now
    batches: int  # requests sent, retries included
    retries: int


class BatchSender:
    def __init__(
        self,
        http_factory: Callable[[], httpx.Client],
        workspace_id: str,
        *,
        max_queue_size: int = 10_000,
        batch_size: int = MAX_BATCH_SIZE,
        flush_interval: float = 1.0,
        max_retries: int = 8,
        backoff: Backoff | None = None,
        on_drop: Callable[[dict[str, Any]], None] | None = None,
        on_error: Callable[[EventFailure], None] | None = None,
        drop_warning_interval: float = 60.0,
        shutdown_timeout: float = 5.0,
        register_atexit: bool = True,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH_SIZE:
            raise ValueError(f"batch_size must be between 1 and {MAX_BATCH_SIZE}")
        if max_queue_size < 1:
            raise ValueError("max_queue_size must be at least 1")
        self._http_factory = http_factory
        self._workspace_id = workspace_id
        self._max_queue = max_queue_size
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._max_retries = max_retries
        self._backoff = backoff or Backoff()
        self._on_drop = on_drop
        self._on_error = on_error
        self._warned: set[str] = set()
        self._drop_warning_interval = drop_warning_interval
        self._shutdown_timeout = shutdown_timeout
        self._fresh_state()
        # Weak references: registering must not keep a discarded sender (and its thread) alive.
        ref = weakref.ref(self)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=lambda: _call(ref, "_after_fork"))
        if register_atexit:
            atexit.register(_call, ref, "_at_exit")

    def _fresh_state(self) -> None:
        self._queue: deque[dict[str, Any]] = deque()
        self._wake = threading.Event()
        self._abort = threading.Event()
        self._progress = threading.Condition()
        self._start_lock = threading.Lock()
        self._take_lock = threading.Lock()  # the worker's take and flush's count; never enqueue's
        self._worker: threading.Thread | None = None
        self._http: httpx.Client | None = None
        self._closed = False
        self._taken = 0  # events the worker took from the queue
        self._settled = 0  # of those, sent or failed for good
        self._sent = self._failed = self._dropped = self._batches = self._retries = 0
        self._last_drop_warning = float("-inf")

    # ---- the caller's side ------------------------------------------------------------------------
    def enqueue(self, event: dict[str, Any]) -> bool:
        """Queue one event for sending; False when it was dropped (queue full or sender closed)."""
        queue = self._queue
        if len(queue) >= self._max_queue or self._closed:
            self._drop(event)
            return False
        queue.append(event)
        if self._worker is None:
            self._start()
        if len(queue) >= self._batch_size and not self._wake.is_set():
            self._wake.set()
        return True

    def flush(self, timeout: float | None = None) -> bool:
        """Send everything queued so far; True when all of it was settled within ``timeout``."""
        with self._take_lock:  # not between the worker's pop and its count
            target = self._taken + len(self._queue)
        if self._worker is None and self._queue:
            self._start()
        self._wake.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._progress:
            while self._settled < target:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                if self._worker is None or not self._worker.is_alive():
                    return False
                self._progress.wait(remaining if remaining is not None else 0.1)
        return True

    def close(self, timeout: float | None = None) -> bool:
        """Send what is queued (waiting at most ``timeout`` s), then stop the worker. Events tracked
        afterwards are dropped. True when everything queued was settled."""
        if self._closed:
            return not self._queue
        flushed = self.flush(self._shutdown_timeout if timeout is None else timeout)
        self._closed = True
        self._abort.set()  # a worker still waiting out a backoff stops now
        self._wake.set()
        if self._worker is not None:
            self._worker.join(1.0)
        if self._queue:
            log.warning("swarm learning client closed with %d events unsent", len(self._queue))
        if self._http is not None:
            self._http.close()
        return flushed

    @property
    def shutdown_timeout(self) -> float:
        return self._shutdown_timeout

    def stats(self) -> SenderStats:
        return SenderStats(
            sent=self._sent,
            failed=self._failed,
            dropped=self._dropped,
            queued=len(self._queue),
            batches=self._batches,
            retries=self._retries,
        )

    def _drop(self, event: dict[str, Any]) -> None:
        self._dropped += 1
        now = time.monotonic()
        if now - self._last_drop_warning >= self._drop_warning_interval:
            self._last_drop_warning = now
            reason = (
                "the client is closed" if self._closed else f"the queue is full ({self._max_queue} events)"
            )
            log.warning("swarm learning event dropped: %s; %d dropped so far", reason, self._dropped)
        if self._on_drop is not None:
            try:
                self._on_drop(event)
            except Exception:
                log.exception("on_drop hook failed")

    def _start(self) -> None:
        with self._start_lock:
            if self._worker is None:
                worker = threading.Thread(target=self._run, name="swarm-learning-sender", daemon=True)
                worker.start()
                self._worker = worker

    def _after_fork(self) -> None:
        # The parent owns (and sends) what it queued; its thread and sockets did not come along.
        self._fresh_state()

    def _at_exit(self) -> None:
        if not self._closed:
            self.close()

    # ---- the worker -------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._abort.is_set():
            self._wake.wait(self._flush_interval)
            self._wake.clear()
            while self._queue and not self._abort.is_set():
                with self._take_lock:
                    batch = [self._queue.popleft() for _ in range(min(self._batch_size, len(self._queue)))]
                    self._taken += len(batch)
                try:
                    self._deliver(batch)
                except Exception:  # never let the worker die: count the batch as failed
                    log.exception("swarm learning batch could not be sent")
                    self._settle(
                        [(e, None, "client_error", "unexpected error sending the batch") for e in batch]
                    )

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = self._http_factory()
        return self._http

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        pending, attempt = batch, 0
        while pending:
            wait: float | None = None
            self._batches += 1
            try:
                response = self._client().post(
                    BATCH_PATH, json={"workspace_id": self._workspace_id, "events": pending}
                )
            except httpx.TransportError as error:
                wait, why = self._backoff.delay(attempt), f"{type(error).__name__}: {error}"
            else:
                status = response.status_code
                if status == 207:
                    pending, why = self._read_results(pending, response.json()["results"]), "503 per event"
                    if pending:
                        wait = self._backoff.delay(attempt)
                elif status in RETRYABLE_STATUSES:
                    wait, why = self._backoff.delay(attempt, retry_after(response)), f"HTTP {status}"
                elif status == 413 and len(pending) > 1:  # over the body limit: halve the batch
                    half = len(pending) // 2
                    self._deliver(pending[:half])
                    self._deliver(pending[half:])
                    return
                else:  # any other answer is final for the whole batch
                    body = _json(response)
                    code = str(body.get("error", f"http_{status}"))
                    message = str(body.get("message", response.reason_phrase))
                    self._settle([(e, status, code, message) for e in pending])
                    return
            if wait is None:
                return
            attempt += 1
            if attempt > self._max_retries:
                self._settle(
                    [(e, None, "gave_up", f"not sent after {attempt} attempts ({why})") for e in pending]
                )
                return
            self._retries += 1
            log.debug("swarm learning batch retry %d in %.2f s (%s)", attempt, wait, why)
            if self._abort.wait(wait):
                self._settle([(e, None, "closed", "the client closed before the retry") for e in pending])
                return

    def _read_results(
        self, pending: list[dict[str, Any]], results: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Settle what the service stored or refused; return what it asks to send again."""
        again: list[dict[str, Any]] = []
        settled: list[Any] = []
        by_index = {r["index"]: r for r in results}
        for index, event in enumerate(pending):
            result = by_index.get(index, {"status": 503})
            status = result["status"]
            if status < 300:
                self._sent += 1
                settled.append(None)
                warning = result.get("warning")
                if warning and warning not in self._warned:  # e.g. a recommendation_type never seen
                    self._warned.add(warning)
                    log.warning("swarm learning: %s", warning)
            elif status in RETRYABLE_STATUSES:
                again.append(event)
            else:
                error = result.get("error") or {}
                failure = (
                    event,
                    status,
                    str(error.get("error")),
                    str(error.get("message")),
                    error.get("field"),
                )
                settled.append(failure)
        self._settle(settled)
        return again

    def _settle(self, outcomes: list[Any]) -> None:
        """Count events as final: None = sent (already counted), else a failure tuple."""
        for outcome in outcomes:
            if outcome is None:
                continue
            event, status, error, message, *rest = outcome
            self._failed += 1
            failure = EventFailure(event, status, error, message, rest[0] if rest else None)
            log.warning(
                "swarm learning %s event %s not stored: %s %s (%s)",
                event.get("type"), event.get("recommendation_id"), status or "", message, failure.field or "-",
            )  # fmt: skip
            if self._on_error is not None:
                try:
                    self._on_error(failure)
                except Exception:
                    log.exception("on_error hook failed")
        with self._progress:
            self._settled += len(outcomes)
            self._progress.notify_all()


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _call(ref: weakref.ref[BatchSender], method: str) -> None:
    sender = ref()
    if sender is not None:
        getattr(sender, method)()
