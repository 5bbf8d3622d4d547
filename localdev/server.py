"""Serve the API over HTTP on 127.0.0.1: each request becomes the API Gateway event the
deployed API would send, handled by the same handler, on the embedded DynamoDB."""

from __future__ import annotations

import base64
import hmac
import io
import json
import logging
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from datetime import datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from localdev.dashboard import dashboard_file, is_dashboard
from localdev.runtime import LocalFunctions

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3000  # the port `sam local start-api` uses, so URLs carry over
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
JOBS_PATH = "/_local/jobs/"  # local-only: run a scheduled function now
KEYS_PATH = "/_local/keys"  # local-only: the admin command's key operations (python -m admin --local)
LOCAL_PREFIX = "/_local/"  # both need the server's local token (make run: the development key)
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

log = logging.getLogger("localdev.server")


class LocalApiServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        functions: LocalFunctions,
        *,
        quiet: bool = False,
        local_token: str | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self._restore_logs: Callable[[], None] | None = None  # server_close runs when binding fails
        self.serving = False
        super().__init__(address, _Handler)
        self.functions = functions
        # Quiet: one access line per request; the handlers' structured logs and EMF metrics are
        # kept off the terminal, except warnings and errors, which go to stderr.
        self.quiet = quiet
        self._restore_logs = _quiet_handler_logs() if quiet else None
        # What /_local/ (keys, jobs) asks for in Authorization: Bearer; anyone on the machine can
        # reach the port, so key administration is not open to them.
        self.local_token = local_token or secrets.token_urlsafe(32)
        self.on_change = on_change or (lambda: None)  # after anything that may have written
        self.access_log = True  # one line per request on stderr
        # One request at a time, as one warm Lambda instance runs them. Reads too: moto's in-memory
        # backend is not built for concurrent writers; each function's resolver keeps the current
        # event on itself and the Logger's keys and the Metrics are shared by every handler of the
        # process, so two invocations at once would mix their context; redirect_stdout swaps the
        # process's stdout. Nor would running reads at once make a view faster: the handlers and
        # moto are Python under one interpreter lock.
        self.invoke_lock = threading.Lock()

    def deliver_events_later(self) -> None:
        """Like EventBridge: the functions that published events have answered; the functions the
        events are for run now, in the background (``POST /learning-cycles/trigger`` answers 202,
        then the cycle runs)."""
        if not self.functions.events_pending():
            return

        def deliver() -> None:
            output = io.StringIO()
            with self.invoke_lock, redirect_stdout(output):
                self.functions.deliver_events()
                self.on_change()
            _forward(output.getvalue(), quiet=self.quiet)

        threading.Thread(target=deliver, name="local-events", daemon=True).start()

    def start(self) -> None:
        """Serve in a background thread (the socket is bound from construction on)."""
        self.serving = True
        threading.Thread(target=self.serve_forever, name="local-api", daemon=True).start()

    def stop(self) -> None:
        """Stop serving (when it started: ``shutdown`` waits for a loop that never ran otherwise)
        and close the socket."""
        if self.serving:
            self.shutdown()
        self.server_close()

    def server_close(self) -> None:
        super().server_close()
        if self._restore_logs is not None:
            self._restore_logs()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class _Handler(BaseHTTPRequestHandler):
    server: LocalApiServer
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY: the headers and the body go out in two writes, and with Nagle's algorithm the
    # body waits for the client's delayed ACK of the headers, ~40 ms on every response.
    disable_nagle_algorithm = True

    def __getattr__(self, name: str) -> Any:
        # Every method (GET ... TRACE, or any token) goes to the gateway, which answers the ones
        # the API does not define as API Gateway does, instead of http.server's HTML 501.
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def _dispatch(self) -> None:
        self._started = time.perf_counter()
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"message": "Request Too Long"})
            return
        payload = self.rfile.read(length) if length else None
        body = payload.decode("utf-8", errors="replace") if payload is not None else None
        if url.path.startswith(LOCAL_PREFIX) and not self._local_caller():
            self._send(
                HTTPStatus.UNAUTHORIZED,
                {
                    "error": "unauthorized",
                    "message": "local administration needs Authorization: Bearer <the server's development key>",
                },
                {"WWW-Authenticate": 'Bearer realm="swarm-learning-local"'},
            )
            return
        if url.path.startswith(JOBS_PATH):
            self._run_job(url.path.removeprefix(JOBS_PATH), body)
            return
        if url.path == KEYS_PATH or url.path.startswith(KEYS_PATH + "/"):
            self._manage_keys(url.path.removeprefix(KEYS_PATH), body)
            return
        if is_dashboard(url.path):
            status, content, headers = dashboard_file(url.path, self.command)
            self._send(status, content, headers)
            return
        output = io.StringIO()
        with self.server.invoke_lock, redirect_stdout(output):
            result = self.server.functions.gateway.request(
                self.command,
                url.path,
                query=parse_qs(url.query, keep_blank_values=True),
                headers=dict(self.headers.items()),
                body=payload,
                source_ip=self.client_address[0],
            )
            if self.command not in READ_ONLY_METHODS:
                self.server.on_change()
        _forward(output.getvalue(), quiet=self.server.quiet)
        self.server.deliver_events_later()
        headers = {**(result.get("headers") or {})}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name] = ", ".join(values)
        answer: str | bytes = result.get("body") or ""
        if result.get("isBase64Encoded") and isinstance(answer, str):
            answer = base64.b64decode(answer)  # a binary answer (OTLP protobuf), as API Gateway sends it
        self._send(result["statusCode"], answer, headers)

    def _run_job(self, job: str, body: str | None) -> None:
        """Local-only: run a scheduled function now (not part of the deployed API)."""
        jobs = self.server.functions.jobs()
        if self.command != "POST" or job not in jobs:
            self._send(HTTPStatus.NOT_FOUND, {"message": f"unknown job {job!r}", "jobs": sorted(jobs)})
            return
        output = io.StringIO()
        with self.server.invoke_lock, redirect_stdout(output):
            try:
                overrides = json.loads(body) if body else {}
                result = self.server.functions.run_job(job, overrides if isinstance(overrides, dict) else {})
                if job == "learning-cycle":
                    # A person asked for a cycle: run the queued ones now and show what they learned.
                    self.server.functions.deliver_events()
                    result = {**result, "cycles": _learned(result)}
                status = HTTPStatus.OK
            except Exception as error:  # the job's failure is the answer, as Lambda would report it
                result, status = (
                    {"errorType": type(error).__name__, "errorMessage": str(error)},
                    HTTPStatus.BAD_GATEWAY,
                )
            self.server.on_change()  # a failed job may have written too (its dead letter)
        _forward(output.getvalue(), quiet=self.server.quiet)
        self.server.deliver_events_later()
        self._send(status, {"job": job, "result": result})

    def _manage_keys(self, rest: str, body: str | None) -> None:
        """Local-only: issue, list, revoke and rotate API keys in the embedded store (what
        ``python -m admin keys ... --local URL`` calls; against AWS it writes the table itself)."""
        from pydantic import ValidationError

        from swarm_learning.errors import LearningError
        from swarm_learning.services.keys.service import KeyRequest, get_key_service

        keys = get_key_service()
        parts = [p for p in rest.split("/") if p]
        try:
            with self.server.invoke_lock:
                payload = json.loads(body) if body else {}
                if self.command == "GET" and not parts:
                    answer: Any = [k.model_dump(mode="json") for k in keys.listed()]
                elif self.command == "POST" and not parts:
                    answer = keys.issue(KeyRequest.model_validate(payload)).model_dump(mode="json")
                elif self.command == "POST" and len(parts) == 2 and parts[1] == "revoke":
                    answer = keys.revoke(parts[0]).model_dump(mode="json")
                elif self.command == "POST" and len(parts) == 2 and parts[1] == "rotate":
                    grace = timedelta(hours=float(payload.get("grace_hours", 24)))
                    answer = keys.rotate(parts[0], grace=grace).model_dump(mode="json")
                else:
                    self._send(HTTPStatus.NOT_FOUND, {"error": "route_not_found", "message": f"no {rest!r}"})
                    return
                if self.command == "POST":
                    self.server.on_change()
        except (ValidationError, ValueError, TypeError) as error:
            self._send(HTTPStatus.UNPROCESSABLE_ENTITY, {"error": "validation_error", "message": str(error)})
            return
        except LearningError as error:
            self._send(error.status_code, {"error": error.code, "message": error.message})
            return
        self._send(HTTPStatus.CREATED if self.command == "POST" and not parts else HTTPStatus.OK, answer)

    def _local_caller(self) -> bool:
        presented = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(presented.encode(), self.server.local_token.encode())

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = (
            body
            if isinstance(body, bytes)
            else (body if isinstance(body, str) else json.dumps(body)).encode()
        )
        self._access_line(status)
        self.send_response(status)
        headers = {"Content-Type": "application/json", **(headers or {})}
        for name, value in headers.items():
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _access_line(self, status: int) -> None:
        """One short line per request on the console (the handlers' logs need --verbose)."""
        if not self.server.access_log:
            return
        took = (time.perf_counter() - getattr(self, "_started", time.perf_counter())) * 1000
        stamp = datetime.now().strftime("%H:%M:%S")
        line = f"{stamp} {self.command} {urlsplit(self.path).path} {int(status)} {took:.0f} ms"
        print(line, file=sys.stderr, flush=True)  # where http.server logs requests

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # _access_line says it, shorter

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


class _ImportantLines(io.TextIOBase):
    """Where the handlers' Logger writes when quiet: warnings and errors to stderr, nothing else."""

    def write(self, text: str) -> int:
        if '"level":"ERROR"' in text or '"level":"WARNING"' in text or '"level":"CRITICAL"' in text:
            sys.stderr.write(text)
        return len(text)


def _quiet_handler_logs() -> Callable[[], None]:
    """Send the functions' Logger to ``_ImportantLines``; returns how to undo it. (The Logger holds
    the stdout it found at import, which redirect_stdout cannot reach.)"""
    from swarm_learning.api.observability import logger

    handler = logger.registered_handler
    previous = handler.setStream(_ImportantLines())  # type: ignore[attr-defined]
    return lambda: handler.setStream(previous)  # type: ignore[attr-defined]


def _forward(output: str, *, quiet: bool) -> None:
    if not quiet:
        sys.stdout.write(output)
        return
    for line in output.splitlines():
        if '"level":"ERROR"' in line or '"level":"WARNING"' in line:
            print(line, file=sys.stderr)


def start_server(
    functions: LocalFunctions,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    quiet: bool = False,
    local_token: str | None = None,
    on_change: Callable[[], None] | None = None,
) -> LocalApiServer:
    """Start serving in a background thread; ``port=0`` picks a free port."""
    server = LocalApiServer(
        (host, port), functions, quiet=quiet, local_token=local_token, on_change=on_change
    )
    threading.Thread(target=server.serve_forever, name="local-api", daemon=True).start()
    return server


@contextmanager
def serving(
    functions: LocalFunctions,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    quiet: bool = False,
    local_token: str | None = None,
) -> Iterator[LocalApiServer]:
    """A running server for the duration of the block, shut down and closed after it."""
    server = start_server(functions, host, port, quiet=quiet, local_token=local_token)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _learned(scheduled: dict[str, Any]) -> dict[str, Any]:
    """Per workspace the learning-cycle job queued: its iteration's result, its strongest patterns
    and its rules, as the API serves them."""
    from datetime import datetime

    from swarm_learning.services.learning.base import new_iteration_id
    from swarm_learning.services.learning.service import get_learned_reads

    learned = get_learned_reads()
    run_at = datetime.fromisoformat(scheduled["run_at"])
    cycles: dict[str, Any] = {}
    for workspace_id in scheduled.get("workspaces", []):
        iteration = learned.iteration(workspace_id, new_iteration_id(run_at, workspace_id))
        patterns = learned.patterns(
            workspace_id, category=None, min_confidence=None, limit=10, next_token=None
        )
        rules = learned.rules_for(workspace_id, {})
        cycles[workspace_id] = {
            "status": iteration.status,
            "result": iteration.result.model_dump(mode="json") if iteration.result else None,
            "error": iteration.error,
            "strongest_patterns": [f"[{p.category}] {p.description}" for p in patterns.items],
            "rules": [rule["rule_id"] for rule in rules[:10]],
        }
    return cycles
