"""AWS calls without coverage's tracer: botocore and moto are not what coverage measures, yet under
``--cov`` every one of their Python calls goes through the tracer, which doubled the CPU time of the
tests that write to the embedded store (``test_learned_state.py``: 22 s without ``--cov``, 47 s
with it, 24 s with this).

``install()`` wraps botocore's ``BaseClient._make_api_call`` (every client's request: the
serialisation, the stubbed moto backend, the parsing): while it runs, the thread's tracer is set
aside when it is coverage's, and put back after (coverage's tracer re-installs itself when handed
back with ``sys.settrace``, the idiom debuggers use). Any other tracer (a debugger) is left alone.
What runs inside a request is not measured, so the lines of ``localdev/moto_*.py``, which moto
calls, count as missed under ``make test`` although their tests run them
(``tests/integration/test_moto_state.py``, ``test_moto_transactions.py``)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

from botocore.client import BaseClient

_original = BaseClient._make_api_call
_installed = False


def _is_coverage(tracer: Any) -> bool:
    from coverage.tracer import CTracer

    return isinstance(tracer, CTracer)


def untraced(call: Callable[..., Any], suspend: Callable[[Any], bool] = _is_coverage) -> Callable[..., Any]:
    """``call`` run with the thread's tracer set aside when ``suspend(tracer)``, then put back."""

    @functools.wraps(call)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        tracer = sys.gettrace()
        if tracer is None or not suspend(tracer):
            return call(*args, **kwargs)
        sys.settrace(None)
        try:
            return call(*args, **kwargs)
        finally:
            sys.settrace(tracer)

    return wrapper


def install() -> None:
    """Every botocore request untraced by coverage (idempotent)."""
    global _installed
    if not _installed:
        BaseClient._make_api_call = untraced(_original)  # type: ignore[method-assign]
        _installed = True
