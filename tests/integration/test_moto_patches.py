"""The local speed-ups of moto go on only the moto they were written for: on the locked version
every one is installed; on another the embedded AWS runs on moto as it is, warning once."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest

from localdev import moto_patches

ROOT = Path(__file__).resolve().parents[2]

FALLBACK = """
import logging, sys
logging.basicConfig(level=logging.WARNING, format="%(message)s")
sys.path.insert(0, "layers/learning")
from localdev import moto_patches
moto_patches.PATCHED_FOR = "5.0.0"  # as if uv.lock had moved to a moto the patches do not know
from localdev.runtime import embedded_aws
from tests.helpers.api import Api
with embedded_aws() as functions:
    api = Api(functions)
    tracked = api.track()
    status, stored = api.call(
        "GET", f"/api/v1/learning/recommendations/{tracked['recommendation_id']}",
        query={"workspace_id": "ws_test"},
    )
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.models import DynamoDBBackend
    print(status, stored["recommendation_id"] == tracked["recommendation_id"])
    print(Table.query.__module__, DynamoDBBackend.transact_write_items.__module__, moto_patches.installed)
with embedded_aws():
    pass
"""


def test_the_patches_are_written_for_the_locked_moto_and_installed_on_it() -> None:
    lock = (ROOT / "uv.lock").read_text()
    locked = re.search(r'name = "moto"\nversion = "([^"]+)"', lock)
    assert locked is not None
    assert locked.group(1) == moto_patches.PATCHED_FOR  # moving moto in the lock means re-checking them
    assert moto_patches.incompatibility() is None
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    from localdev.runtime import embedded_aws

    with embedded_aws():
        assert set(moto_patches.installed) == {"transactions", "expressions", "reads"}
        assert Table.query.__module__ == "localdev.moto_reads"
        assert DynamoDBBackend.transact_write_items.__module__ == "localdev.moto_transactions"


def test_another_moto_version_or_a_missing_internal_is_named() -> None:
    assert moto_patches.incompatibility("5.3.0") == (
        f"moto 5.3.0 is installed; the local speed-ups were written for moto {moto_patches.PATCHED_FOR}"
    )
    moto_patches.INTERNALS["reads"]["moto.dynamodb.models.table"] += ("Table.no_such_method",)
    try:
        assert moto_patches.incompatibility() == "moto has no moto.dynamodb.models.table.Table.no_such_method"
    finally:
        moto_patches.INTERNALS["reads"]["moto.dynamodb.models.table"] = ("Table.all_items", "Table.query")


def test_a_mismatch_installs_nothing_and_warns_once(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(moto_patches, "_warned", False)
    with caplog.at_level(logging.WARNING, logger="localdev"):
        assert moto_patches.install("5.3.0") == ()
        assert moto_patches.install("5.3.0") == ()
    assert [r.getMessage() for r in caplog.records] == [
        f"moto 5.3.0 is installed; the local speed-ups were written for moto {moto_patches.PATCHED_FOR}: "
        "running on moto as it is (correct, slower)"
    ]


def test_the_patches_can_be_chosen_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALDEV_MOTO_PATCHES", "reads, transactions")
    assert moto_patches.chosen() == ("reads", "transactions")
    monkeypatch.setenv("LOCALDEV_MOTO_PATCHES", "none")
    assert moto_patches.chosen() == ()
    monkeypatch.setenv("LOCALDEV_MOTO_PATCHES", "fast")
    with pytest.raises(ValueError, match="unknown \\['fast'\\]"):
        moto_patches.chosen()


@pytest.mark.slow
def test_on_a_moto_the_patches_do_not_know_the_service_runs_on_moto_as_it_is() -> None:
    ran = subprocess.run(
        [sys.executable, "-c", FALLBACK], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[-2:] == [
        "200 True",
        "moto.dynamodb.models.table moto.dynamodb.models ()",
    ]
    warnings = [line for line in ran.stderr.splitlines() if "local speed-ups" in line]
    assert warnings == [
        f"moto {moto_patches.PATCHED_FOR} is installed; the local speed-ups were written for moto 5.0.0: "
        "running on moto as it is (correct, slower)"
    ]
