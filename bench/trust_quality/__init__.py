"""Trust quality benchmark: does the trust maths agree with the ground truth of a simulated swarm? (``python -m bench.trust_quality``)."""

from __future__ import annotations

import importlib
from typing import Any

# The modules that were one ``bench/trust_quality.py``: ``from bench.trust_quality import <name>`` keeps working
# (imported on first use, so importing the package loads none of them).
_MODULES = ("simulation", "ranking", "routing", "close", "drift")


def __getattr__(name: str) -> Any:
    for module in _MODULES:
        found = importlib.import_module(f"bench.trust_quality.{module}")
        if name in vars(found):
            return vars(found)[name]
    raise AttributeError(f"module 'bench.trust_quality' has no attribute {name!r}")
