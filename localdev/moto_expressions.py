"""Parse each distinct DynamoDB update expression once, for moto.

moto parses the ``UpdateExpression`` of every update (twice inside a transaction: once to check the
placeholders, once to apply it), and a profile of seeding a swarm shows the parser taking a
seventh of the time. The store sends the same few expressions with different values, and moto
only reads the parsed tree (the validator deep-copies it before substituting values), so a parse
can be reused for the same string. Local tooling only, like ``moto_transactions``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from moto.dynamodb.parsing import expressions

# The module is untyped (``# type: ignore`` at its top), so mypy sees none of its names.
UpdateExpressionParser: Any = getattr(expressions, "UpdateExpressionParser")  # noqa: B009
_original = UpdateExpressionParser.make
_installed = False


@lru_cache(maxsize=512)
def _parse(expression: str) -> Any:
    return _original(expression)


def install() -> None:
    """Replace moto's parser entry point with the cached one (idempotent)."""
    global _installed
    if not _installed:
        UpdateExpressionParser.make = staticmethod(_parse)
        _installed = True
