"""Learning speed benchmark: how fast the learning cycle turns evaluated recommendations into patterns (``python -m bench.learning_speed``)."""

from __future__ import annotations

import importlib
from typing import Any

# The modules that were one ``bench/learning_speed.py``: ``from bench.learning_speed import <name>`` keeps working
# (imported on first use, so importing the package loads none of them).
_MODULES = ("rows", "cycle", "mining", "end_to_end")


def __getattr__(name: str) -> Any:
    for module in _MODULES:
        found = importlib.import_module(f"bench.learning_speed.{module}")
        if name in vars(found):
            return vars(found)[name]
    raise AttributeError(f"module 'bench.learning_speed' has no attribute {name!r}")
