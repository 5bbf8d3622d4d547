"""The local server's data across restarts: a write-ahead journal and snapshots of the embedded
DynamoDB, in DynamoDB's own JSON, so an acknowledged write survives ``kill -9`` and any moto version.

- **Journal.** Every DynamoDB call that changes data (PutItem, UpdateItem, DeleteItem,
  BatchWriteItem, TransactWriteItems), whoever makes it (a handler, the authorizer's key store,
  Powertools' idempotency layer, a job, the local key administration), appends one line once moto
  has applied it, before the call returns to its caller and so before the HTTP answer leaves: the
  operation and, for each item it names, the item's key and its image after the call (no image:
  deleted), all in DynamoDB's JSON wire format (``{"S": "..."}``), as a DynamoDB stream's
  ``NEW_IMAGE`` record carries it. The line is written with one ``os.write`` (in the operating
  system's hands: a ``kill -9`` cannot lose it); ``fsync=True`` also syncs it to the disk before
  the answer (a power cut cannot either). An after-image is the item's whole state, so replaying
  a line twice changes nothing, and replay needs no expression evaluation.
- **Snapshot.** Each table's items as DynamoDB's export to S3 writes them (``DYNAMODB_JSON``):
  ``snapshot-<n>/<table>/manifest-summary.json``, ``manifest-files.json`` (one line per data
  file, with its item count and MD5) and ``data/<id>.json.gz``, one ``{"Item": {...}}`` per line.
  A snapshot compacts the journal: it is written beside the current one, then ``store.json`` is
  replaced (atomically) to name it and a new, empty journal; only then are the old snapshot and
  journal removed. A crash at any point leaves ``store.json`` naming a complete snapshot and the
  journal written since.
- **Startup** loads the named snapshot and replays its journal. A last line cut short (the
  process died inside the write) is dropped with one warning; the file is truncated after the
  last whole line so new lines start clean. A damaged line before the last is not guessed at: the
  server refuses to start and says where.
- **Migration.** A ``dynamodb.pickle`` written by earlier versions (a pickle of moto's own
  tables) is read once, written as a snapshot, and renamed ``dynamodb.pickle.migrated``; one it
  cannot read is moved aside (``*.unreadable``) and the server starts empty, saying so.

Only DynamoDB is kept: queued events (SQS) and the authorizer's cache start empty, as after a
redeploy; the template's tables and rules are created from the template at each start. The store
reads and writes moto's tables through ``localdev.moto_tables``, the only module that knows them.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import logging
import os
import pickle
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localdev import moto_tables

log = logging.getLogger("localdev.persistence")
DEFAULT_COMPACT_SECONDS = 30.0  # how often the saver looks at the journal's size
DEFAULT_COMPACT_BYTES = 8 * 1024 * 1024  # a journal this long is folded into a new snapshot
POINTER = "store.json"
LEGACY_PICKLE = "dynamodb.pickle"
FORMAT_VERSION = 1
EXPORT_VERSION = "2020-06-30"  # the manifest version DynamoDB's exports write
MUTATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


class CorruptJournal(SystemExit):
    """A journal line before the last cannot be read: one message, exit status 1."""


def item_count() -> int:
    return moto_tables.item_count()


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):  # binary attributes travel base64-encoded on the wire
        return base64.b64encode(value).decode()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot write {type(value).__name__} as DynamoDB JSON")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=_json_default)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _private_file(path: Path, data: bytes) -> None:
    with open(path, "wb", opener=lambda p, f: os.open(p, f, 0o600)) as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


# --- what a mutating call touched ------------------------------------------------------------


def changed_keys(operation: str, request: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(table, key)`` of every item a mutating call names, in the request's order; the key in
    DynamoDB JSON (for PutItem: the item's key attributes)."""

    def key_of(table: str, item_or_key: dict[str, Any]) -> dict[str, Any]:
        names = moto_tables.key_names(table)
        return {name: item_or_key[name] for name in names if name in item_or_key}

    if operation == "PutItem":
        yield request["TableName"], key_of(request["TableName"], request["Item"])
    elif operation in ("UpdateItem", "DeleteItem"):
        yield request["TableName"], key_of(request["TableName"], request["Key"])
    elif operation == "BatchWriteItem":
        for table, writes in request.get("RequestItems", {}).items():
            for write in writes:
                if "PutRequest" in write:
                    yield table, key_of(table, write["PutRequest"]["Item"])
                elif "DeleteRequest" in write:
                    yield table, key_of(table, write["DeleteRequest"]["Key"])
    elif operation == "TransactWriteItems":
        for entry in request.get("TransactItems", []):
            for kind, action in entry.items():
                if kind == "Put":
                    yield action["TableName"], key_of(action["TableName"], action["Item"])
                elif kind in ("Update", "Delete"):
                    yield action["TableName"], key_of(action["TableName"], action["Key"])


# --- the journal -----------------------------------------------------------------------------


class Journal:
    """One append-only file of after-images; each line written whole with one ``os.write``."""

    def __init__(self, path: Path, *, fsync: bool = False) -> None:
        self.path = path
        self.fsync = fsync
        self._lock = threading.Lock()
        self._descriptor: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self.lines = 0

    def record(self, operation: str, request: dict[str, Any]) -> None:
        """Append what ``operation`` (already applied by moto) left in each item it names."""
        changes = []
        seen: set[str] = set()
        for table, key in changed_keys(operation, request):
            identity = _dumps([table, key])
            if identity in seen:
                continue
            seen.add(identity)
            change: dict[str, Any] = {"TableName": table, "Key": key}
            image = moto_tables.read_item(table, key)
            if image is not None:
                change["NewImage"] = image
            changes.append(change)
        if changes:
            self.append({"op": operation, "changes": changes})

    def append(self, entry: dict[str, Any]) -> None:
        data = (_dumps(entry) + "\n").encode()
        with self._lock:
            if self._descriptor is None:
                raise RuntimeError(f"the journal {self.path} is closed: the server is stopping")
            view = memoryview(data)
            while view:  # a regular file takes it in one write; loop in case it does not
                written = os.write(self._descriptor, view)
                view = view[written:]
            if self.fsync:
                os.fdatasync(self._descriptor)
            self.lines += 1

    def size(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def close(self) -> None:
        with self._lock:
            if self._descriptor is not None:
                os.fsync(self._descriptor)
                os.close(self._descriptor)
                self._descriptor = None


def read_journal(path: Path, on_warning: Callable[[str], None]) -> Iterator[dict[str, Any]]:
    """The journal's entries in order. A last line cut short is dropped (one warning) and cut off
    the file, so the next line appended starts on a line of its own."""
    if not path.exists():
        return
    with open(path, "rb") as file:
        data = file.read()
    lines = data.split(b"\n")
    good_end = 0
    for index, line in enumerate(lines):
        last = index == len(lines) - 1
        if not line:
            if not last:
                good_end += 1
            continue
        try:
            entry = json.loads(line)
            if not isinstance(entry, dict) or "changes" not in entry:
                raise ValueError("not a journal entry")
            if last:  # whole JSON but no newline: written by a process that died after it
                raise ValueError("no end of line")
        except ValueError as error:
            if last or all(not rest for rest in lines[index + 1 :]):
                on_warning(
                    f"{path.name}: ignored a torn last line ({len(line)} bytes, {error}); "
                    "the write it held was never answered"
                )
                with open(path, "r+b") as file:
                    file.truncate(good_end)
                    file.flush()
                    os.fsync(file.fileno())
                return
            raise CorruptJournal(
                f"{path}: line {index + 1} cannot be read ({error}) and more lines follow it; "
                "not starting rather than guessing (move the file aside to start from the snapshot)"
            ) from error
        good_end += len(line) + 1
        yield entry


def replay(entry: dict[str, Any]) -> None:
    for change in entry["changes"]:
        if "NewImage" in change:  # a table the template no longer has: its writes are dropped
            moto_tables.put_item(change["TableName"], change["NewImage"], missing_ok=True)
        else:
            moto_tables.delete_item(change["TableName"], change["Key"])


# --- snapshots as DynamoDB exports -----------------------------------------------------------


def write_export(directory: Path, table: str, items: Iterator[dict[str, Any]], at: datetime) -> int:
    """One table's items as a DynamoDB export to S3 lays them out; returns the item count."""
    data_directory = directory / "data"
    data_directory.mkdir(parents=True, mode=0o700)
    data_key = f"data/{uuid.uuid4().hex}.json.gz"
    count = 0
    raw = bytearray()
    for item in items:
        raw += (_dumps({"Item": item}) + "\n").encode()
        count += 1
    compressed = gzip.compress(bytes(raw), compresslevel=1, mtime=0)
    _private_file(directory / data_key, compressed)
    md5 = hashlib.md5(compressed, usedforsecurity=False).hexdigest()
    files_line = {"itemCount": count, "md5Checksum": md5, "etag": md5, "dataFileS3Key": data_key}
    _private_file(directory / "manifest-files.json", (_dumps(files_line) + "\n").encode())
    summary = {
        "version": EXPORT_VERSION,
        "exportTime": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "tableName": table,
        "itemCount": count,
        "outputFormat": "DYNAMODB_JSON",
        "exportType": "FULL_EXPORT",
        "manifestFilesS3Key": "manifest-files.json",
    }
    _private_file(directory / "manifest-summary.json", json.dumps(summary, indent=2).encode())
    return count


def read_export(directory: Path) -> Iterator[dict[str, Any]]:
    """The items of one exported table (checking each data file's MD5 against its manifest)."""
    for line in (directory / "manifest-files.json").read_text().splitlines():
        if not line.strip():
            continue
        manifest = json.loads(line)
        compressed = (directory / manifest["dataFileS3Key"]).read_bytes()
        if hashlib.md5(compressed, usedforsecurity=False).hexdigest() != manifest["md5Checksum"]:
            raise ValueError(f"{directory / manifest['dataFileS3Key']}: checksum differs from its manifest")
        for item_line in gzip.decompress(compressed).splitlines():
            if item_line:
                yield json.loads(item_line)["Item"]


# --- where the journal hears of writes ------------------------------------------------------

_journal: Journal | None = None
_hooked = False
_CONTEXT_KEY = "localdev_journal_request"


def _before_call(model: Any, params: dict[str, Any], context: dict[str, Any], **kwargs: Any) -> None:
    if _journal is not None and model.name in MUTATIONS:
        context[_CONTEXT_KEY] = params.get("body")


def _after_call(http_response: Any, model: Any, context: dict[str, Any], **kwargs: Any) -> None:
    body = context.pop(_CONTEXT_KEY, None)
    journal = _journal
    if journal is None or body is None or http_response.status_code >= 300:
        return  # a refused call (a failed condition, a cancelled transaction) changed nothing
    journal.record(model.name, json.loads(body))


def journal_to(journal: Journal | None) -> None:
    """Journal every DynamoDB write of this process to ``journal`` from now on (None: stop).

    botocore's ``before-call``/``after-call`` events of every DynamoDB client: the handlers', the
    authorizer's, Powertools' idempotency layer's (its own session). Registered with botocore's
    built-in handlers, which every session created from now on registers (moto's own mock is
    hooked in the same way), and on boto3's default session if one exists already; the process's
    cached clients are then dropped so each is built again with the hooks."""
    global _journal, _hooked
    _journal = journal
    if journal is None or _hooked:
        return
    import boto3
    from botocore import handlers

    hooks: list[tuple[str, Any]] = [
        ("before-call.dynamodb", _before_call),
        ("after-call.dynamodb", _after_call),
    ]
    handlers.BUILTIN_HANDLERS.extend(hooks)
    if boto3.DEFAULT_SESSION is not None:
        for event, hook in hooks:
            boto3.DEFAULT_SESSION.events.register(event, hook)
    from localdev.runtime import reset_process_state

    reset_process_state()
    _hooked = True


# --- the store -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    """What ``Store.open`` found."""

    snapshot_items: int
    journal_entries: int
    migrated: bool
    restored: bool  # anything was there to load


class Store:
    """The embedded DynamoDB of one server, kept in ``directory``: open (load and replay), journal
    each write, compact into snapshots, close (final snapshot)."""

    def __init__(
        self,
        directory: Path,
        lock: AbstractContextManager[Any],
        *,
        fsync: bool = False,
        compact_seconds: float = DEFAULT_COMPACT_SECONDS,
        compact_bytes: int = DEFAULT_COMPACT_BYTES,
        on_warning: Callable[[str], None] = log.warning,
    ) -> None:
        self.directory = directory
        self.lock = lock  # the server's invoke lock: a snapshot never sees half a request
        self.fsync = fsync
        self.compact_seconds = compact_seconds
        self.compact_bytes = compact_bytes
        self.on_warning = on_warning
        self.journal: Journal | None = None
        self.generation = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def pointer(self) -> Path:
        return self.directory / POINTER

    def _snapshot_dir(self, generation: int) -> Path:
        return self.directory / f"snapshot-{generation}"

    def _journal_path(self, generation: int) -> Path:
        return self.directory / f"journal-{generation}.jsonl"

    def open(self) -> Opened:
        """Load the last snapshot, replay its journal (or migrate a pickle of an earlier version),
        then journal every write from now on. Call inside the embedded AWS, before serving."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        migrated = False
        snapshot_items = entries = 0
        with self.lock:
            if self.pointer.exists():
                state = json.loads(self.pointer.read_text())
                self.generation = int(state["generation"])
                for table in state["tables"]:
                    for item in read_export(self._snapshot_dir(self.generation) / table):
                        if moto_tables.put_item(table, item, missing_ok=True):
                            snapshot_items += 1
                for entry in read_journal(self._journal_path(self.generation), self.on_warning):
                    replay(entry)
                    entries += 1
            else:
                migrated = self._migrate_pickle()
            self.journal = Journal(self._journal_path(self.generation), fsync=self.fsync)
            if migrated or not self.pointer.exists():
                self._compact()  # the first snapshot in this format (and the pointer to it)
        journal_to(self.journal)
        return Opened(snapshot_items, entries, migrated, restored=bool(snapshot_items or entries or migrated))

    def _migrate_pickle(self) -> bool:
        legacy = self.directory / LEGACY_PICKLE
        if not legacy.exists():
            return False
        try:
            # Our own earlier format, written by this server into its owner-only directory.
            tables = pickle.loads(legacy.read_bytes())  # noqa: S301
            if not isinstance(tables, dict):
                raise TypeError(f"expected the tables, found {type(tables).__name__}")
            moto_tables.adopt_tables(tables)
        except Exception as error:  # an unreadable snapshot must not stop the server
            aside = legacy.with_name(legacy.name + ".unreadable")
            os.replace(legacy, aside)
            self.on_warning(f"could not read {legacy} ({error}); moved it to {aside.name}, starting empty")
            return False
        return True

    def _compact(self) -> None:
        """Write a snapshot of every table and start a new journal (the caller holds the lock)."""
        generation = self.generation + 1
        target = self._snapshot_dir(generation)
        building = target.with_name(target.name + ".tmp")
        if building.exists():
            shutil.rmtree(building)
        building.mkdir(mode=0o700)
        at = datetime.now(UTC)
        tables = moto_tables.table_names()
        for table in tables:
            write_export(building / table, table, moto_tables.items(table), at)
            _fsync_directory(building / table / "data")
            _fsync_directory(building / table)
        _fsync_directory(building)
        os.replace(building, target)
        new_journal = Journal(self._journal_path(generation), fsync=self.fsync)
        pointer = {"format": FORMAT_VERSION, "generation": generation, "tables": tables}
        temporary = self.pointer.with_name(POINTER + ".tmp")
        _private_file(temporary, json.dumps(pointer, indent=2).encode())
        os.replace(temporary, self.pointer)  # the commit point
        _fsync_directory(self.directory)
        old_generation, old_journal = self.generation, self.journal
        self.generation, self.journal = generation, new_journal
        journal_to(new_journal)
        if old_journal is not None:
            old_journal.close()
        self._journal_path(old_generation).unlink(missing_ok=True)
        shutil.rmtree(self._snapshot_dir(old_generation), ignore_errors=True)
        legacy = self.directory / LEGACY_PICKLE
        if legacy.exists():
            os.replace(legacy, legacy.with_name(LEGACY_PICKLE + ".migrated"))

    def snapshot(self) -> None:
        """Fold the journal into a new snapshot now (under the lock: no request is half done)."""
        with self.lock:
            if not self._closed:
                self._compact()

    def start(self) -> None:
        """Compact in the background whenever the journal has grown past ``compact_bytes``."""

        def loop() -> None:
            while not self._stop.wait(self.compact_seconds):
                journal = self.journal
                if journal is not None and journal.size() >= self.compact_bytes:
                    try:
                        self.snapshot()
                    except OSError as error:
                        self.on_warning(f"could not write a snapshot in {self.directory}: {error}")

        self._thread = threading.Thread(target=loop, name="local-snapshots", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """The final snapshot (when anything was journaled since the last), then no more journaling:
        a request still running finishes first (the lock); a write after this one fails its call
        (the journal is closed), so nothing is answered as saved that is not."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self.lock:
            if self._closed:
                return
            try:
                if self.journal is not None and self.journal.size():
                    self._compact()
            finally:
                journal_to(None)
                if self.journal is not None:
                    self.journal.close()
                self._closed = True
