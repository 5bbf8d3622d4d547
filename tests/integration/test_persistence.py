"""The local server's snapshot of its embedded DynamoDB and how commands find a running server,
in-process (tests/integration/test_local_run.py runs the real command with kill -9)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from localdev import devkey, persistence
from localdev.runtime import embedded_aws
from localdev.server import serving
from tests.helpers.api import Api, recommendation


def test_a_snapshot_brings_the_data_back_into_a_new_embedded_store(tmp_path: Path) -> None:
    path = tmp_path / "dynamodb.pickle"
    with embedded_aws() as functions:
        api = Api(functions)
        tracked = api.track()
        snapshots = persistence.Snapshots(path, threading.Lock())
        assert not snapshots.restore()  # nothing saved yet
        snapshots.save()
        saved_items = persistence.item_count()
        assert path.stat().st_mode & 0o777 == 0o600
        assert not path.with_name(path.name + ".tmp").exists()
    with embedded_aws() as functions:
        assert persistence.item_count() == 0
        assert persistence.Snapshots(path, threading.Lock()).restore()
        assert persistence.item_count() == saved_items
        status, stored = Api(functions, api.api_key).call(
            "GET",
            f"/api/v1/learning/recommendations/{tracked['recommendation_id']}",
            query={"workspace_id": recommendation()["workspace_id"]},
        )
        assert (status, stored["recommendation_id"]) == (200, tracked["recommendation_id"])


def test_an_unreadable_snapshot_is_moved_aside_and_the_store_starts_empty(tmp_path: Path) -> None:
    path = tmp_path / "dynamodb.pickle"
    path.write_bytes(b"not a pickle")
    said: list[str] = []
    with embedded_aws():
        assert not persistence.Snapshots(path, threading.Lock(), on_error=said.append).restore()
        assert persistence.item_count() == 0
    assert not path.exists()
    assert path.with_name("dynamodb.pickle.unreadable").read_bytes() == b"not a pickle"
    assert len(said) == 1
    assert "starting empty" in said[0]


def test_changes_are_saved_in_the_background_and_on_stop(tmp_path: Path) -> None:
    path = tmp_path / "dynamodb.pickle"
    with embedded_aws() as functions:
        snapshots = persistence.Snapshots(path, threading.Lock(), interval=0.01)
        snapshots.start()
        Api(functions).track()
        snapshots.changed()
        snapshots.stop()  # joins the saver, then writes the final snapshot
        written = path.read_bytes()
        assert b"STRAT-01" in written


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
