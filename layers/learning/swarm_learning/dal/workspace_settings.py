"""A workspace's settings item (statistics table): what PUT /workspace-settings stores, and the
recommendation types the workspace has seen, on one item so one read answers both.

``WorkspaceSettingsStore.get`` is the read other services call (tracking, the OpenTelemetry
receiver, alerts): the defaults when nothing was ever set. Reads are cached in the process for
``max_age_seconds``; a PUT in the same process is seen at once, other processes within that age.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import cache
from typing import Any

from swarm_learning.config import Settings, get_settings
from swarm_learning.dal.base import StoreBase
from swarm_learning.dal.items import deserialize, serialize
from swarm_learning.dal.keys import settings_key
from swarm_learning.models.settings import PutWorkspaceSettingsRequest, WorkspaceSettings

SETTABLE = ("allowed_recommendation_types", "default_recommendation_type", "min_trust")
SETTINGS_CACHE_SECONDS = 30.0


class _Cached:
    __slots__ = ("at", "known_types", "settings")

    def __init__(self, at: float, settings: WorkspaceSettings, known_types: frozenset[str]) -> None:
        self.at, self.settings, self.known_types = at, settings, known_types


class WorkspaceSettingsStore(StoreBase):
    def __init__(
        self,
        settings: Settings,
        client: Any | None = None,
        *,
        max_age_seconds: float = SETTINGS_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(settings, client)
        self._max_age = max_age_seconds
        self._clock = clock
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def get(self, workspace_id: str) -> WorkspaceSettings:
        """The workspace's settings; every field unset (null) when none were ever stored."""
        return self._read(workspace_id).settings

    def known_types(self, workspace_id: str, *, fresh: bool = False) -> frozenset[str]:
        """The recommendation types the workspace has tracked (since this record was kept). A
        type once seen stays seen, so a cached answer that holds a type is right; ``fresh`` reads
        the item again before saying a type is unknown."""
        return self._read(workspace_id, fresh=fresh).known_types

    def put(self, request: PutWorkspaceSettingsRequest, *, now: datetime) -> WorkspaceSettings:
        """Replace the settings as a whole (fields not given are removed); the seen types stay."""
        values = {name: getattr(request, name) for name in SETTABLE}
        present = {name: value for name, value in values.items() if value is not None}
        removed = [name for name, value in values.items() if value is None]
        names = {f"#{name}": name for name in [*present, "updated_at"]}
        expression = "SET " + ", ".join(f"#{name} = :{name}" for name in [*present, "updated_at"])
        if removed:
            names.update({f"#{name}": name for name in removed})
            expression += " REMOVE " + ", ".join(f"#{name}" for name in removed)
        response = self._client.update_item(
            TableName=self._statistics,
            Key=serialize(settings_key(request.workspace_id)),
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=serialize(
                {**{f":{name}": value for name, value in present.items()}, ":updated_at": now.isoformat()}
            ),
            ReturnValues="ALL_NEW",
        )
        return self._remember(request.workspace_id, deserialize(response["Attributes"])).settings

    def add_known_types(self, workspace_id: str, types: Iterable[str]) -> None:
        """Record types as seen (a set ``ADD``: concurrent writers never lose one)."""
        new = sorted(set(types))
        if not new:
            return
        response = self._client.update_item(
            TableName=self._statistics,
            Key=serialize(settings_key(workspace_id)),
            UpdateExpression="ADD seen_types :types",
            ExpressionAttributeValues={":types": {"SS": new}},
            ReturnValues="ALL_NEW",
        )
        self._remember(workspace_id, deserialize(response["Attributes"]))

    def _read(self, workspace_id: str, *, fresh: bool = False) -> _Cached:
        with self._lock:
            cached = self._cache.get(workspace_id)
        if cached is not None and not fresh and self._clock() - cached.at < self._max_age:
            return cached
        response = self._client.get_item(
            TableName=self._statistics, Key=serialize(settings_key(workspace_id))
        )
        return self._remember(workspace_id, deserialize(response.get("Item", {})))

    def _remember(self, workspace_id: str, item: dict[str, Any]) -> _Cached:
        settings = WorkspaceSettings(
            workspace_id=workspace_id,
            allowed_recommendation_types=item.get("allowed_recommendation_types"),
            default_recommendation_type=item.get("default_recommendation_type"),
            min_trust=float(item["min_trust"]) if item.get("min_trust") is not None else None,
            updated_at=item.get("updated_at"),
        )
        entry = _Cached(self._clock(), settings, frozenset(item.get("seen_types", ())))
        with self._lock:
            self._cache[workspace_id] = entry
        return entry


@cache
def get_workspace_settings_store() -> WorkspaceSettingsStore:
    """One per process (its cache shared by every service in it)."""
    return WorkspaceSettingsStore(get_settings())
