"""The local server's data across restarts: snapshots of the embedded DynamoDB (moto's tables,
items, indexes and TTL settings), written whenever something changed, at most every
``interval`` seconds, and on shutdown.

Each snapshot is written to a temporary file, flushed to disk and renamed over the previous one,
all while no request runs, so a ``kill -9`` at any moment leaves the last complete snapshot: it
loses only what changed after it (at most ``interval`` seconds of writes). Only DynamoDB is
kept; queued events and the authorizer's cache start empty, as after a redeploy.

The file is a pickle of moto's own objects, written and read only by this server in its
git-ignored, owner-only directory. A snapshot a different moto version cannot read is moved
aside (``*.unreadable``) and the server starts empty, saying so.
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from localdev.runtime import REGION

log = logging.getLogger("localdev.persistence")
DEFAULT_INTERVAL_SECONDS = 2.0


def _backend() -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]


def item_count() -> int:
    return sum(len(table) for table in _backend().tables.values())


class Snapshots:
    """Save and restore the embedded DynamoDB of one server (``path``)."""

    def __init__(
        self,
        path: Path,
        lock: AbstractContextManager[Any],
        *,
        interval: float = DEFAULT_INTERVAL_SECONDS,
        on_error: Callable[[str], None] = log.warning,
    ) -> None:
        self.path = path
        self.lock = lock  # the server's invoke lock: a snapshot never sees half a request
        self.interval = interval
        self.on_error = on_error
        self._changed = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def restore(self) -> bool:
        """Load the saved tables into the embedded DynamoDB (created from the template first, so
        tables the template added since are kept empty). Returns whether a snapshot was loaded."""
        if not self.path.exists():
            return False
        try:
            tables = pickle.loads(self.path.read_bytes())  # noqa: S301 - our own file, see above
            if not isinstance(tables, dict):
                raise TypeError(f"expected the tables, found {type(tables).__name__}")
        except Exception as error:  # an unreadable snapshot must not stop the server
            aside = self.path.with_name(self.path.name + ".unreadable")
            os.replace(self.path, aside)
            self.on_error(f"could not read {self.path} ({error}); moved it to {aside.name}, starting empty")
            return False
        with self.lock:
            _backend().tables.update(tables)
        return True

    def changed(self) -> None:
        """Something was written: the next periodic snapshot saves it."""
        self._changed = True

    def save(self) -> None:
        """Write a snapshot now (under the lock: no request is half done)."""
        with self.lock:
            self._changed = False
            data = pickle.dumps(_backend().tables, protocol=pickle.HIGHEST_PROTOCOL)
            temporary = self.path.with_name(self.path.name + ".tmp")
            with open(temporary, "wb", opener=lambda p, f: os.open(p, f, 0o600)) as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)

    def start(self) -> None:
        """Save in the background whenever something changed, every ``interval`` seconds."""

        def loop() -> None:
            while not self._stop.wait(self.interval):
                if self._changed:
                    try:
                        self.save()
                    except OSError as error:
                        self.on_error(f"could not save {self.path}: {error}")

        self._thread = threading.Thread(target=loop, name="local-snapshots", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the periodic saving and write the final snapshot."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.save()
