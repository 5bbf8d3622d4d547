"""Every log line carries the keys of its own invocation: two workspaces (each with its own key) in
turn through every function, and no line names the other workspace, the other caller or another
iteration. The functions share one Logger per process, as a warm Lambda container keeps its own."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from localdev.runtime import LocalFunctions
from tests.helpers.api import Api, issue_key

WORKSPACES = ("ws_alpha", "ws_beta")
API_FUNCTIONS = {"TrackFunction", "EvaluateFunction", "QueryFunction", "TrustFunction", "LearningFunction"}
JOB_FUNCTIONS = {"TrustRefreshFunction", "PatternRefreshFunction", "CleanupFunction"}
PER_REQUEST_KEYS = ("workspace_id", "key_id", "iteration_id", "correlation_id")


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    """What the functions' Logger writes (its handler's stream, swapped for the test)."""
    from swarm_learning.api.observability import logger

    written = io.StringIO()
    previous = logger.registered_handler.setStream(written)  # type: ignore[attr-defined]
    try:
        yield written
    finally:
        logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]


def _lines(output: io.StringIO) -> list[dict[str, Any]]:
    """The structured log lines written since the last read."""
    text = output.getvalue()
    output.seek(0)
    output.truncate()
    return [json.loads(line) for line in text.splitlines()]


def _key_id(token: str) -> str:
    return token.split("_")[1]  # swl_<key_id>_<secret>


def test_each_invocation_logs_only_its_own_workspace_caller_and_iteration(
    functions: LocalFunctions, output: io.StringIO
) -> None:
    seen: set[str] = set()
    for workspace in WORKSPACES:
        api = Api(functions, issue_key((workspace,), name=workspace))
        key_id = _key_id(api.api_key)
        correlation = f"wf-{workspace}"
        tracked = api.track(workspace_id=workspace, correlation_id=correlation)
        rid = tracked["recommendation_id"]
        calls: list[tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]] = [
            (
                "POST",
                "/api/v1/learning/outcomes/evaluate",
                {"workspace_id": workspace, "recommendation_id": rid, "overall_quality_score": 80},
                None,
            ),
            ("GET", f"/api/v1/learning/recommendations/{rid}", None, {"workspace_id": workspace}),
            (
                "POST",
                "/api/v1/learning/routing/select",
                {"workspace_id": workspace, "recommendation_type": "strategy", "candidates": ["STRAT-01"]},
                None,
            ),
            ("POST", "/api/v1/learning/learning-cycles/trigger", {"workspace_id": workspace}, None),
        ]
        for method, path, body, query in calls:
            status, answer = api.call(method, path, body=body, query=query)
            assert status in (200, 202), answer
        iteration_id = answer["iteration_id"]
        assert functions.deliver_events() == 1  # the LearningCycleRequested event runs the cycle
        # A well-formed key nobody issued (a fresh one each time: the gateway caches decisions).
        unknown_key = f"swl_{'a' * 16}_{workspace.ljust(43, 'x')}"
        refused, _ = api.as_key(unknown_key).call(
            "GET", "/api/v1/learning/stats", query={"workspace_id": workspace}
        )
        assert refused == 401
        # The query function logs only refusals: this key may not read the other workspace.
        other = next(w for w in WORKSPACES if w != workspace)
        assert api.call("GET", "/api/v1/learning/stats", query={"workspace_id": other})[0] == 403

        lines = _lines(output)
        for line in lines:
            function = line["function_name"]
            seen.add(function)
            if isinstance(line["message"], dict):  # the event as received (log_event), before any key
                assert not {"workspace_id", "key_id", "iteration_id"} & set(line), line
            elif line["message"] == "request refused":
                assert (function, line.get("key_id"), line.get("status")) == ("QueryFunction", key_id, 403)
                assert "workspace_id" not in line, line
            elif function in API_FUNCTIONS:
                assert (line.get("workspace_id"), line.get("key_id")) == (workspace, key_id), line
                assert line.get("iteration_id") in (None, iteration_id), line
            elif function == "AuthorizerFunction":
                assert line.get("key_id") in (key_id, None), line
                assert not {"workspace_id", "iteration_id", "correlation_id"} & set(line), line
            else:
                assert function == "LearningCycleFunction", line
                assert (line.get("workspace_id"), line.get("iteration_id")) == (workspace, iteration_id), line
                assert "key_id" not in line, line
        tracked_lines = [line for line in lines if line["message"] == "recommendation tracked"]
        assert [line["correlation_id"] for line in tracked_lines] == [correlation]
        refusals = [line for line in lines if line["message"] == "API key refused"]
        assert len(refusals) == 1
        assert "key_id" not in refusals[0]

    for job in ("trust-refresh", "pattern-refresh", "cleanup", "learning-cycle"):
        functions.run_job(job)
        functions.deliver_events()
    for line in _lines(output):
        seen.add(line["function_name"])
        if line["function_name"] in JOB_FUNCTIONS or line["message"] == "learning cycles scheduled":
            assert not set(PER_REQUEST_KEYS) & set(line), line
    assert seen >= API_FUNCTIONS | JOB_FUNCTIONS | {"AuthorizerFunction", "LearningCycleFunction"}
