"""Lambda SnapStart: what each restored instance must make its own, and what a snapshot should hold.

With SnapStart (template.yaml: ``SnapStartEnabled``) Lambda runs a version's initialisation once,
snapshots the memory, and starts every later instance from that snapshot. Whatever the
initialisation computed is then shared by every instance restored from it, so after a restore:

- the ``random`` module is seeded again (the retry jitter of ``swarm_learning.dal`` must differ
  between instances, or they retry in step);
- boto3's default session and every cached client, store and setting of the layer are dropped and
  built again on first use: a client made before the snapshot holds the credentials, connections
  and clock offset of the snapshotting instance.

Ids need nothing: ULIDs and API-key secrets take their randomness from ``os.urandom`` per call.

Imports a function needs on some requests only are deferred (a cold start without SnapStart does
not pay for them); ``load_before_snapshot`` has them imported before the snapshot is taken, so a
restored instance does not pay on its first such request either.

``snapshot_restore_py`` is part of Lambda's Python runtime (3.12 and later); elsewhere (tests, the
local server) the hooks are registered nowhere and never run, and ``fresh_instance`` is what a test
calls to play a restore.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from typing import Any

try:
    from snapshot_restore_py import register_after_restore, register_before_snapshot
except ImportError:  # not Lambda's runtime
    register_after_restore = register_before_snapshot = None

_installed = False


def fresh_instance() -> None:
    """What differs per instance, made again (the after-restore hook)."""
    random.seed()
    import boto3

    boto3.DEFAULT_SESSION = None
    for module in list(sys.modules.values()):
        name = getattr(module, "__name__", "")
        if name == "swarm_learning" or name.startswith("swarm_learning."):
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


def load_before_snapshot(load: Callable[[], Any]) -> None:
    """Run ``load`` (a deferred import) before SnapStart snapshots the instance."""
    if register_before_snapshot is not None:
        register_before_snapshot(load)


def install() -> None:
    """Register the after-restore hook (once per process; every handler calls it at import)."""
    global _installed
    if not _installed and register_after_restore is not None:
        register_after_restore(fresh_instance)
    _installed = True
