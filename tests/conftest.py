"""Shared fixtures. The environment is configured before any handler or client exists. One embedded
AWS (moto, the template's tables, queues and event rules, the handlers loaded) is built per test
process, and every test that asks for it gets it back empty: ``functions``. Helpers live in
``tests/helpers/``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localdev import runtime
from tests.helpers.api import Api

# Before anything imports a handler: environment from the template, fake credentials.
runtime.configure_environment()


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
