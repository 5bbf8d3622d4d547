"""The embedded store as data, to prove that a request changed nothing."""

from __future__ import annotations

import json

from localdev import moto_state, runtime


def store_snapshot() -> dict[str, list[str]]:
    """Every item of every table, canonically ordered: compare two to prove that a request changed
    nothing. Read from moto's tables directly (a scan through botocore costs ~100x more)."""
    return {
        table: sorted(json.dumps(item, sort_keys=True, default=repr) for item in items)
        for table, items in moto_state.table_items(runtime.REGION).items()
    }
