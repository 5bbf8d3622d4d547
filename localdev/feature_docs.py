"""The features table of docs/learning.md, generated from the feature registry."""

from __future__ import annotations

from localdev import template as tpl

LEARNING_DOC = tpl.ROOT / "docs" / "learning.md"
BEGIN = "<!-- features: generated from swarm_learning.domain.feature_registry by `make docs-features` -->"
END = "<!-- /features -->"


def with_features_table(text: str) -> str:
    """``text`` with the block between the markers replaced by the registry's table."""
    from swarm_learning.domain.feature_registry import FEATURES

    head, found, rest = text.partition(BEGIN)
    _, ended, tail = rest.partition(END)
    if not found or not ended:
        raise ValueError(f"{LEARNING_DOC.name} lacks the features markers {BEGIN!r} … {END!r}")
    return f"{head}{BEGIN}\n{FEATURES.docs_table()}\n{END}{tail}"
