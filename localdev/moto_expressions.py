"""Cheaper DynamoDB update expressions for moto: each distinct expression parsed once, and its
whole-expression checks run once.

moto parses the ``UpdateExpression`` of every update (twice inside a transaction: once to check the
placeholders, once to apply it), and a profile of seeding a swarm shows the parser taking a
seventh of the time. The store sends the same few expressions with different values, and moto
only reads the parsed tree (the validator deep-copies it before substituting values), so a parse
can be reused for the same string.

Two of moto's validators (at most one SET/ADD/REMOVE clause; no path updated twice) check the whole
tree below every nested ``UpdateExpression`` node, which is quadratic in the number of actions
(another sixth of the time for the store's 20-action updates). The root's check sees every action
of the nested ones, so running it once at the root accepts and rejects the same expressions; only
the wording of the error for an expression breaking several rules at once may differ. Local tooling
only, like ``moto_transactions``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from moto.dynamodb.parsing import expressions, validators

# Both modules are untyped for mypy (moto marks them ``# type: ignore``): look the classes up.
UpdateExpressionParser: Any = getattr(expressions, "UpdateExpressionParser")  # noqa: B009
ActionCountValidator: Any = getattr(validators, "ActionCountValidator")  # noqa: B009
OverlappingPathsValidator: Any = getattr(validators, "OverlappingPathsValidator")  # noqa: B009
_original = UpdateExpressionParser.make
_installed = False


@lru_cache(maxsize=512)
def _parse(expression: str) -> Any:
    return _original(expression)


def _count_actions_at_the_root(self: Any, node: Any) -> Any:
    return self.verify_action_counts(node)


def _check_paths_at_the_root(self: Any, node: Any) -> Any:
    return self.check_for_overlapping_paths(node)


def install() -> None:
    """Replace moto's parser entry point and the two checks (idempotent)."""
    global _installed
    if not _installed:
        UpdateExpressionParser.make = staticmethod(_parse)
        ActionCountValidator.traverse = _count_actions_at_the_root
        OverlappingPathsValidator.traverse = _check_paths_at_the_root
        _installed = True
