"""The local server's snapshot of its embedded DynamoDB and how commands find a running server,
in-process (tests/integration/test_local_run.py runs the real command with kill -9)."""

from __future__ import annotations

import gzip
import json
import pickle
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev import devkey, moto_tables, persistence
from localdev.runtime import embedded_aws
from localdev.server import serving
from tests.helpers.api import Api, evaluation, recommendation


@pytest.fixture(autouse=True)
def _no_journal_after_the_test() -> Iterator[None]:
    yield
    persistence.journal_to(None)  # a failed test must not leave the process journaling


def _items(table: str) -> list[dict]:
    return sorted(moto_tables.items(table), key=lambda item: json.dumps(item, sort_keys=True))


def _everything() -> dict[str, list[dict]]:
    return {table: _items(table) for table in moto_tables.table_names()}


def test_writes_are_journaled_before_the_answer_and_replayed_into_a_new_store(tmp_path: Path) -> None:
    with embedded_aws() as functions:
        store = persistence.Store(tmp_path, threading.Lock())
        assert not store.open().restored  # nothing saved yet
        api = Api(functions)
        tracked = api.track()
        status, _ = api.call(
            "POST", "/api/v1/learning/outcomes/evaluate", body=evaluation(tracked["recommendation_id"])
        )
        assert status == 200
        before = _everything()
        journal = (tmp_path / "journal-1.jsonl").read_text().splitlines()
        assert all(json.loads(line)["changes"] for line in journal)
        assert tracked["recommendation_id"] in journal[-2] + journal[-1]
        assert (tmp_path / "journal-1.jsonl").stat().st_mode & 0o777 == 0o600
        persistence.journal_to(None)  # as if killed: no final snapshot
    with embedded_aws() as functions:
        assert persistence.item_count() == 0
        opened = persistence.Store(tmp_path, threading.Lock()).open()
        assert (opened.restored, opened.journal_entries) == (True, len(journal))
        assert _everything() == before
        status, stored = Api(functions, api.api_key).call(
            "GET",
            f"/api/v1/learning/recommendations/{tracked['recommendation_id']}",
            query={"workspace_id": recommendation()["workspace_id"]},
        )
        assert (status, stored["status"]) == (200, "approved")
        persistence.journal_to(None)


def test_a_snapshot_is_a_dynamodb_export_and_compacts_the_journal(tmp_path: Path) -> None:
    with embedded_aws() as functions:
        store = persistence.Store(tmp_path, threading.Lock())
        store.open()
        Api(functions).track()
        before = _everything()
        store.close()
        assert json.loads((tmp_path / "store.json").read_text())["generation"] == 2
        assert sorted(p.name for p in tmp_path.iterdir()) == ["journal-2.jsonl", "snapshot-2", "store.json"]
        assert (tmp_path / "journal-2.jsonl").read_text() == ""
        export = tmp_path / "snapshot-2" / "RecommendationsTable"
        summary = json.loads((export / "manifest-summary.json").read_text())
        files = [json.loads(line) for line in (export / "manifest-files.json").read_text().splitlines()]
        assert (summary["outputFormat"], summary["itemCount"]) == (
            "DYNAMODB_JSON",
            len(before["RecommendationsTable"]),
        )
        assert sum(f["itemCount"] for f in files) == summary["itemCount"]
        lines = gzip.decompress((export / files[0]["dataFileS3Key"]).read_bytes()).decode().splitlines()
        assert sorted(json.loads(line)["Item"]["pk"]["S"] for line in lines) == sorted(
            item["pk"]["S"] for item in before["RecommendationsTable"]
        )
    with embedded_aws():
        opened = persistence.Store(tmp_path, threading.Lock()).open()
        assert (opened.snapshot_items, opened.journal_entries) == (sum(map(len, before.values())), 0)
        assert _everything() == before
        persistence.journal_to(None)


def test_a_torn_last_line_is_dropped_with_one_warning_and_cut_off(tmp_path: Path) -> None:
    with embedded_aws() as functions:
        persistence.Store(tmp_path, threading.Lock()).open()
        api = Api(functions)
        tracked = api.track()
        persistence.journal_to(None)
    journal = tmp_path / "journal-1.jsonl"
    whole = journal.read_bytes()
    journal.write_bytes(whole + b'{"op":"PutItem","changes":[{"TableName":"Recomm')  # died mid-write
    said: list[str] = []
    with embedded_aws() as functions:
        store = persistence.Store(tmp_path, threading.Lock(), on_warning=said.append)
        assert store.open().journal_entries == len(whole.splitlines())
        assert len(said) == 1
        assert "torn last line" in said[0]
        assert journal.read_bytes() == whole  # cut off: the next line starts clean
        Api(functions).track()
        persistence.journal_to(None)
    assert all(json.loads(line) for line in journal.read_bytes().splitlines())
    with embedded_aws() as functions:
        said.clear()
        persistence.Store(tmp_path, threading.Lock(), on_warning=said.append).open()
        assert said == []
        status, _ = Api(functions, api.api_key).call(
            "GET",
            f"/api/v1/learning/recommendations/{tracked['recommendation_id']}",
            query={"workspace_id": recommendation()["workspace_id"]},
        )
        assert status == 200
        persistence.journal_to(None)


def test_a_damaged_line_before_the_last_stops_the_start_and_says_where(tmp_path: Path) -> None:
    with embedded_aws() as functions:
        persistence.Store(tmp_path, threading.Lock()).open()
        Api(functions).track()
        persistence.journal_to(None)
    journal = tmp_path / "journal-1.jsonl"
    lines = journal.read_bytes().splitlines()
    journal.write_bytes(b"\n".join([lines[0][:10], *lines[1:]]) + b"\n")
    with embedded_aws(), pytest.raises(persistence.CorruptJournal, match="line 1 cannot be read"):
        persistence.Store(tmp_path, threading.Lock()).open()
    assert journal.read_bytes().startswith(lines[0][:10])  # left as it was


def test_a_pickle_written_by_the_earlier_version_is_migrated_once(tmp_path: Path) -> None:
    with embedded_aws() as functions:
        api = Api(functions)
        tracked = api.track()
        before = _everything()
        # What the earlier server wrote: a pickle of moto's tables.
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        tables = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables
        (tmp_path / "dynamodb.pickle").write_bytes(pickle.dumps(tables, protocol=pickle.HIGHEST_PROTOCOL))
    with embedded_aws() as functions:
        opened = persistence.Store(tmp_path, threading.Lock()).open()
        assert (opened.migrated, opened.restored) == (True, True)
        assert _everything() == before
        persistence.journal_to(None)
    assert not (tmp_path / "dynamodb.pickle").exists()
    assert (tmp_path / "dynamodb.pickle.migrated").exists()
    assert (tmp_path / "store.json").exists()
    with embedded_aws() as functions:
        opened = persistence.Store(tmp_path, threading.Lock()).open()
        assert (opened.migrated, opened.snapshot_items) == (False, sum(map(len, before.values())))
        status, _ = Api(functions, api.api_key).call(
            "GET",
            f"/api/v1/learning/recommendations/{tracked['recommendation_id']}",
            query={"workspace_id": recommendation()["workspace_id"]},
        )
        assert status == 200
        persistence.journal_to(None)


def test_an_unreadable_pickle_is_moved_aside_and_the_store_starts_empty(tmp_path: Path) -> None:
    (tmp_path / "dynamodb.pickle").write_bytes(b"not a pickle")
    said: list[str] = []
    with embedded_aws():
        opened = persistence.Store(tmp_path, threading.Lock(), on_warning=said.append).open()
        assert not opened.restored
        assert persistence.item_count() == 0
        persistence.journal_to(None)
    assert not (tmp_path / "dynamodb.pickle").exists()
    assert (tmp_path / "dynamodb.pickle.unreadable").read_bytes() == b"not a pickle"
    assert len(said) == 1
    assert "starting empty" in said[0]


def test_a_long_journal_is_compacted_in_the_background(tmp_path: Path) -> None:
    with embedded_aws() as functions:
        store = persistence.Store(tmp_path, threading.Lock(), compact_seconds=0.01, compact_bytes=1)
        store.open()
        store.start()
        Api(functions).track()
        deadline = time.monotonic() + 30
        while json.loads((tmp_path / "store.json").read_text())["generation"] < 2:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        store.close()
        assert not (tmp_path / "journal-1.jsonl").exists()


def test_commands_find_the_one_running_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALDEV_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("SWARM_API_KEY", raising=False)
    with pytest.raises(devkey.NoLocalServer, match="no local server is running"):
        devkey.find_server()
    assert devkey.saved_dev_key() is None
    with embedded_aws() as functions, serving(functions, port=0, quiet=True) as first:
        files = devkey.ServerFiles.for_port(first.server_address[1])
        token, _ = devkey.dev_key(files)
        files.write_private(files.url, first.url)
        stale = devkey.ServerFiles(tmp_path / "1")  # a killed server's url file: nobody listens
        stale.create()
        stale.write_private(stale.url, "http://127.0.0.1:1")
        found = devkey.find_server()
        assert (found.url, found.key()) == (first.url, token)
        assert devkey.saved_dev_key() == token
        assert devkey.find_server(first.url + "/").files == files
        with pytest.raises(devkey.NoLocalServer, match="no local server answers at"):
            devkey.find_server("http://127.0.0.1:1")
        with serving(functions, port=0, quiet=True) as second:
            other = devkey.ServerFiles.for_port(second.server_address[1])
            other.create()
            other.write_private(other.url, second.url)
            with pytest.raises(devkey.NoLocalServer, match="several local servers are running"):
                devkey.find_server()
