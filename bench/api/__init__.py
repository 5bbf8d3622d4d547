"""API benchmark: the Lambda handlers against the raw DynamoDB calls they imply (``python -m bench.api``)."""

from __future__ import annotations

import importlib
from typing import Any

# The modules that were one ``bench/api.py``: ``from bench.api import <name>`` keeps working
# (imported on first use, so importing the package loads none of them).
_MODULES = ("calls", "raw", "latency", "imports", "profile", "tables")


def __getattr__(name: str) -> Any:
    for module in _MODULES:
        found = importlib.import_module(f"bench.api.{module}")
        if name in vars(found):
            return vars(found)[name]
    raise AttributeError(f"module 'bench.api' has no attribute {name!r}")
