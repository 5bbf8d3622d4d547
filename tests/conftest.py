"""Shared fixtures. The environment is configured before any handler or client exists. One embedded
AWS (moto, the template's tables, queues and event rules, the handlers loaded) is built per test
process, and every test that asks for it gets it back empty: ``functions``. Helpers live in
``tests/helpers/``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localdev import runtime
from tests.helpers.api import Api
from tests.helpers.clock import FIXED_NOW

# Before anything imports a handler: environment from the template, fake credentials.
runtime.configure_environment()
from swarm_learning import clock  # noqa: E402 - after the environment is configured
from tests.helpers import untraced  # noqa: E402

untraced.install()  # botocore and moto run without coverage's tracer (half the CPU under --cov)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files with a test marked ``slow`` first, each file's tests in their order. pytest-xdist
    (``make test`` runs it with ``--dist loadfile --no-loadscope-reorder``) hands the files to its
    workers in this order as they free up: a slow file handed out last would run alone on one
    worker while the other idles."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)  # stable


@pytest.fixture(scope="module", autouse=True)
def fixed_clock() -> Iterator[clock.SteppingClock]:
    """The service's clock for the module: ``FIXED_NOW``, stepping 1 ms per reading."""
    with clock.installed(clock.SteppingClock(FIXED_NOW)) as installed:
        yield installed  # type: ignore[misc]


@pytest.fixture(scope="session")
def embedded_aws() -> Iterator[runtime.LocalFunctions]:
    """Built once per test process (about a second); use ``functions``, which empties it first.
    Module-scoped fixtures that fill a store for several tests call ``runtime.empty_aws`` on it."""
    with runtime.embedded_aws() as loaded:
        yield loaded


@pytest.fixture
def functions(embedded_aws: runtime.LocalFunctions) -> runtime.LocalFunctions:
    """The embedded AWS as ``embedded_aws()`` builds it: empty tables and queues, no other service's
    state, no cached settings, clients or authorizer decisions."""
    runtime.empty_aws(embedded_aws)
    return embedded_aws


@pytest.fixture
def api(functions: runtime.LocalFunctions) -> Api:
    return Api(functions)


@pytest.fixture
def dynamodb_calls() -> Iterator[list[str]]:
    """The DynamoDB operations the service sends, by name."""
    from swarm_learning.dal.store import get_store

    calls: list[str] = []
    events = get_store().client.meta.events

    def record(model, **_):  # type: ignore[no-untyped-def]
        calls.append(model.name)

    events.register("before-call.dynamodb", record)
    yield calls
    events.unregister("before-call.dynamodb", record)
