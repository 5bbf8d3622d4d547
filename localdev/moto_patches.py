"""The local speed-ups of moto (``moto_transactions``, ``moto_expressions``, ``moto_reads``), installed
only on the moto they were written against.

Each replaces moto internals (``DynamoDBBackend.transact_write_items``, ``Table.query``, the update
expression parser and validators, the response serialiser ...). Those are not moto's API and change
between releases, so the patches are installed only when the installed moto is the version uv.lock
pins (``PATCHED_FOR``; tests/unit/test_lock.py keeps the two equal) and every internal they replace
is where they expect it. Otherwise the embedded AWS runs on moto as it is (correct, slower) and says
so once. After upgrading moto in the lock: run the moto tests (tests/integration/test_moto_*.py)
and ``python -m bench.moto_patches``, then move ``PATCHED_FOR``.

``LOCALDEV_MOTO_PATCHES`` picks patches by name (``none``, or a comma list of ``transactions``,
``expressions``, ``reads``): how the benchmark compares them, and a way to rule them out.
"""

from __future__ import annotations

import importlib
import logging
import os
from importlib import metadata

log = logging.getLogger("localdev")

PATCHED_FOR = "5.2.6"
# module -> the attributes (dotted from the module) each patch replaces or reads.
INTERNALS: dict[str, dict[str, tuple[str, ...]]] = {
    "transactions": {
        "moto.dynamodb.models": ("DynamoDBBackend.transact_write_items",),
        "moto.dynamodb.models.dynamo_type": ("DynamoType",),
        "moto.dynamodb.models.table": ("Table.get_item", "Table.delete_item"),
    },
    "expressions": {
        "moto.dynamodb.parsing.expressions": ("UpdateExpressionParser.make",),
        "moto.dynamodb.parsing.validators": (
            "deepcopy",
            "ActionCountValidator.verify_action_counts",
            "OverlappingPathsValidator.check_for_overlapping_paths",
        ),
        "moto.dynamodb.parsing.ast_nodes": (
            "DepthFirstTraverser.traverse",
            "DepthFirstTraverser.pre_processing_of_child",
            "Node",
        ),
    },
    "reads": {
        "moto.dynamodb.models.table": ("Table.all_items", "Table.query"),
        "moto.dynamodb.models.dynamo_type": (
            "Item.project",
            "Item.size",
            "Item.__deepcopy__",
            "LimitedSizeDict",
        ),
        "moto.core.serialize": ("BaseJSONSerializer._serialize_type_structure",),
        "moto.dynamodb.responses": ("DynamoHandler.serialized",),
        "moto.core.common_models": ("BaseModel.__new__",),
        "moto.core.responses": ("ActionResult",),
    },
}
PATCH_MODULES = {
    "transactions": "localdev.moto_transactions",
    "expressions": "localdev.moto_expressions",
    "reads": "localdev.moto_reads",
}
_warned = False
installed: tuple[str, ...] = ()


def incompatibility(installed_version: str | None = None) -> str | None:
    """Why the patches cannot go on this moto, or None when they can."""
    version = installed_version or metadata.version("moto")
    if version != PATCHED_FOR:
        return f"moto {version} is installed; the local speed-ups were written for moto {PATCHED_FOR}"
    for internals in INTERNALS.values():
        for module_name, attributes in internals.items():
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                return f"moto has no module {module_name}"
            for dotted in attributes:
                target: object = module
                for part in dotted.split("."):
                    if not hasattr(target, part):
                        return f"moto has no {module_name}.{dotted}"
                    target = getattr(target, part)
    return None


def chosen() -> tuple[str, ...]:
    """The patches ``LOCALDEV_MOTO_PATCHES`` asks for (all by default)."""
    wanted = os.environ.get("LOCALDEV_MOTO_PATCHES", "").strip()
    if not wanted:
        return tuple(PATCH_MODULES)
    if wanted == "none":
        return ()
    names = tuple(name.strip() for name in wanted.split(",") if name.strip())
    unknown = set(names) - set(PATCH_MODULES)
    if unknown:
        raise ValueError(f"LOCALDEV_MOTO_PATCHES: unknown {sorted(unknown)}; known: {sorted(PATCH_MODULES)}")
    return names


def install(installed_version: str | None = None) -> tuple[str, ...]:
    """Install the chosen patches when this moto is the one they were written for; else warn once
    and leave moto as it is. Returns the names installed."""
    global _warned, installed
    reason = incompatibility(installed_version)
    if reason is not None:
        if not _warned:
            log.warning("%s: running on moto as it is (correct, slower)", reason)
            _warned = True
        return ()
    names = chosen()
    for name in names:
        importlib.import_module(PATCH_MODULES[name]).install()
    installed = tuple(dict.fromkeys((*installed, *names)))
    return names
