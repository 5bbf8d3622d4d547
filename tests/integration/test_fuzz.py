"""Schemathesis against the committed OpenAPI document and the local HTTP server (real sockets,
the local API Gateway with the authorizer, moto DynamoDB): bounded and seeded.

Every generated request must get a documented status, never a 5xx, with a body that conforms to
the documented schema; a rejected request (4xx) must leave every table exactly as it was.

Checks left out, and why:
- ``unsupported_method`` expects 405 for a method a path does not define; API Gateway answers
  those with its MISSING_AUTHENTICATION_TOKEN response, which the template maps to a JSON 404.
- ``positive_data_acceptance``: schema-valid input is legitimately refused here when it names an id
  that does not exist (404), repeats an evaluation (409) or uses another workspace (403).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from localdev.openapi import OPENAPI_FILE
from localdev.runtime import LocalFunctions, empty_aws
from localdev.server import LocalApiServer, serving
from swarm_learning.ids import IDENTIFIER_PATTERN
from tests.helpers.api import issue_key
from tests.helpers.store import store_snapshot

# 1,200 generated requests over a real socket; under pytest-xdist schemathesis runs one operation
# and the bound below fails, so `make test` runs this file in a process of its own.
pytestmark = [pytest.mark.slow, pytest.mark.serial]

WORKSPACE = "ws_fuzz"
VALID_ID = re.compile(IDENTIFIER_PATTERN)
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "3"))
MIN_REQUESTS = 1000
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]

schema = schemathesis.openapi.from_path(OPENAPI_FILE)
requests_made: list[int] = []


@pytest.fixture(scope="module")
def server(embedded_aws: LocalFunctions) -> Iterator[LocalApiServer]:
    empty_aws(embedded_aws)
    with serving(embedded_aws, port=0, quiet=True) as running:
        yield running


@pytest.fixture(scope="module")
def api_key(server: LocalApiServer) -> str:
    return issue_key((WORKSPACE,), name="fuzz")


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    """One HTTP client for the run (a new one per request costs more than the request)."""
    with requests.Session() as opened:
        yield opened


def _mostly_mine(value: Any) -> Any:
    """Three in four valid generated workspace ids become the key's own, so most requests reach the
    handlers' logic; the rest exercise the 403 path. Invalid ids stay (they must be rejected).
    Chosen by a hash: deterministic."""
    if (
        isinstance(value, str)
        and VALID_ID.fullmatch(value)
        and hashlib.sha256(value.encode()).digest()[0] % 4
    ):
        return WORKSPACE
    return value


def _settled_snapshot(server: LocalApiServer) -> dict[str, list[str]]:
    """The store once background work (events a previous request published) has finished."""
    while True:
        with server.invoke_lock:
            if not server.functions.events_pending():
                return store_snapshot()
        server.functions.deliver_events()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,  # seeded: the same requests on every run
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_the_api_answers_every_generated_request_as_documented(
    case: schemathesis.Case, server: LocalApiServer, api_key: str, session: requests.Session
) -> None:
    if isinstance(case.query, dict) and "workspace_id" in case.query:
        case.query["workspace_id"] = _mostly_mine(case.query["workspace_id"])
    if isinstance(case.body, dict) and "workspace_id" in case.body:
        case.body["workspace_id"] = _mostly_mine(case.body["workspace_id"])
    before = _settled_snapshot(server)
    response = case.call_and_validate(
        base_url=server.url,
        session=session,
        headers={"Authorization": f"Bearer {api_key}"},
        checks=CHECKS,
    )
    requests_made.append(response.status_code)
    if 400 <= response.status_code < 500:
        assert _settled_snapshot(server) == before, (
            f"{case.method} {case.path} -> {response.status_code} changed the store"
        )


def test_the_fuzz_run_was_big_enough() -> None:
    # Runs after the generated tests (file order): the bound is part of the contract.
    statuses = sorted(Counter(requests_made).items())
    print(f"fuzz: {len(requests_made)} requests, by status {statuses}")  # shown with pytest -s
    assert len(requests_made) >= MIN_REQUESTS, len(requests_made)
    assert not [status for status in requests_made if status >= 500]
