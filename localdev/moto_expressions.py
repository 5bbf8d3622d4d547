"""Cheaper DynamoDB update expressions for moto: each distinct expression parsed once, and its
whole-expression checks run once.

moto parses the ``UpdateExpression`` of every update (twice inside a transaction: once to check the
name and value references, once to apply it), and a profile of seeding a swarm shows the parser taking a
seventh of the time. The store sends the same few expressions with different values, and moto
only reads the parsed tree (the validator deep-copies it before substituting values), so a parse
can be reused for the same string.

Two of moto's validators (at most one SET/ADD/REMOVE clause; no path updated twice) check the whole
tree below every nested ``UpdateExpression`` node, which is quadratic in the number of actions
(another sixth of the time for the store's 20-action updates). The root's check sees every action
of the nested ones, so running it once at the root accepts and rejects the same expressions; only
the wording of the error for an expression breaking several rules at once may differ.

The validator then copies the parsed tree for each update and walks it with ten processors, and
the copy (``copy.deepcopy`` of a few hundred nodes) and the walks (an ``isinstance`` against an
abstract base class per node and processor, the processor's type map rebuilt per node) took half
of what remained. The parse now keeps a pickled copy of its tree, and the validator's copy is
unpickled from it (the same tree, a fraction of the time); the walk visits the same nodes in the
same order, calls the same hooks and processors, with each node class's test computed once.
Local tooling only, like ``moto_transactions``.
"""

from __future__ import annotations

import pickle
from copy import deepcopy
from functools import lru_cache
from typing import Any

from moto.dynamodb.parsing import ast_nodes, expressions, validators

# Both modules are untyped for mypy (moto marks them ``# type: ignore``): look the classes up.
UpdateExpressionParser: Any = getattr(expressions, "UpdateExpressionParser")  # noqa: B009
ActionCountValidator: Any = getattr(validators, "ActionCountValidator")  # noqa: B009
OverlappingPathsValidator: Any = getattr(validators, "OverlappingPathsValidator")  # noqa: B009
DepthFirstTraverser: Any = getattr(ast_nodes, "DepthFirstTraverser")  # noqa: B009
Node: Any = getattr(ast_nodes, "Node")  # noqa: B009
_original = UpdateExpressionParser.make
_PICKLED = "_pickled_tree"  # the attribute of a cached parse holding its pickled copy
_installed = False


@lru_cache(maxsize=512)
def _parse(expression: str) -> Any:
    tree = _original(expression)
    setattr(tree, _PICKLED, pickle.dumps(tree, pickle.HIGHEST_PROTOCOL))  # after pickling: not in it
    return tree


def _copy(value: Any) -> Any:
    """``deepcopy`` for the validators module: a cached parse is copied from its pickled copy."""
    pickled = getattr(value, _PICKLED, None)
    # Only ever bytes this process pickled itself (``_parse``), never outside input.
    return pickle.loads(pickled) if pickled is not None else deepcopy(value)  # noqa: S301


def _traverse(self: Any, root: Any) -> Any:
    """``DepthFirstTraverser.traverse_node_recursively`` from the root, with each node class's
    tests (is it a node, does this processor process it) computed once per walk."""
    processed = self.nodes_to_be_processed()
    hook = self.pre_processing_of_child
    has_hook = type(self).pre_processing_of_child is not DepthFirstTraverser.pre_processing_of_child
    process = self.process
    kinds: dict[type, tuple[bool, bool]] = {}

    def visit(node: Any, child_id: int) -> Any:
        kind = kinds.get(type(node))
        if kind is None:
            kind = kinds[type(node)] = (isinstance(node, Node), isinstance(node, processed))
        if kind[0]:
            parent = node.parent
            if node.children is not None:
                for index, child in enumerate(node.children):
                    if has_hook:
                        hook(node, index)
                    visit(child, index)
            if kind[1]:
                node = process(node)
                node.parent = parent
                if parent:
                    parent.children[child_id] = node
        return node

    return visit(root, -1)


def _count_actions_at_the_root(self: Any, node: Any) -> Any:
    return self.verify_action_counts(node)


def _check_paths_at_the_root(self: Any, node: Any) -> Any:
    return self.check_for_overlapping_paths(node)


def install() -> None:
    """Replace moto's parser entry point, the two checks, the validator's copy and the walk
    (idempotent)."""
    global _installed
    if not _installed:
        UpdateExpressionParser.make = staticmethod(_parse)
        setattr(validators, "deepcopy", _copy)  # noqa: B010 - the module's own name for it
        DepthFirstTraverser.traverse = _traverse
        ActionCountValidator.traverse = _count_actions_at_the_root
        OverlappingPathsValidator.traverse = _check_paths_at_the_root
        _installed = True
