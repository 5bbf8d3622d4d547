"""Workspace settings (GET and PUT /workspace-settings) and the recommendation-type check tracking
runs: types stay an open vocabulary (docs/architecture.md), but a type the workspace has never
seen is answered with a warning, and a workspace that lists its allowed types refuses others."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from swarm_learning.clock import Clock, utcnow
from swarm_learning.dal.workspace_settings import WorkspaceSettingsStore, get_workspace_settings_store
from swarm_learning.errors import InvalidFieldError
from swarm_learning.models.settings import PutWorkspaceSettingsRequest, WorkspaceSettings

# How many of the workspace's known types a warning lists (the likely intended ones first).
WARNING_NAMES = 8


@dataclass(frozen=True)
class TypeCheck:
    new: bool  # never tracked in this workspace before (record it once stored)
    warning: str | None


class WorkspaceSettingsService:
    def __init__(self, store: WorkspaceSettingsStore, clock: Clock = utcnow) -> None:
        self._store = store
        self._clock = clock

    def get(self, workspace_id: str) -> WorkspaceSettings:
        return self._store.get(workspace_id)

    def put(self, request: PutWorkspaceSettingsRequest) -> WorkspaceSettings:
        return self._store.put(request, now=self._clock())

    def check_type(self, workspace_id: str, recommendation_type: str) -> TypeCheck:
        """422 (naming recommendation_type) for a type outside the workspace's allowed list; a
        warning for a type it has never seen when it lists none."""
        settings = self._store.get(workspace_id)
        allowed = settings.allowed_recommendation_types
        if allowed is not None and recommendation_type not in allowed:
            raise InvalidFieldError(
                f"recommendation_type {recommendation_type!r} is not allowed in this workspace "
                f"(allowed_recommendation_types: {', '.join(allowed)})",
                field="recommendation_type",
            )
        if recommendation_type in self._store.known_types(workspace_id):
            return TypeCheck(new=False, warning=None)
        known = self._store.known_types(workspace_id, fresh=True)
        if recommendation_type in known:
            return TypeCheck(new=False, warning=None)
        if allowed is not None:  # listed on purpose: new, but expected
            return TypeCheck(new=True, warning=None)
        return TypeCheck(new=True, warning=_new_type_warning(recommendation_type, known))

    def record_types(self, workspace_id: str, types: Iterable[str]) -> None:
        self._store.add_known_types(workspace_id, types)


def _new_type_warning(recommendation_type: str, known: frozenset[str]) -> str:
    message = f"recommendation_type {recommendation_type!r} is new to this workspace"
    if known:
        # Closest names first: a typo ("strateg") sits beside the type it meant ("strategy").
        nearest = sorted(known, key=lambda name: (-_shared_prefix(name, recommendation_type), name))
        shown = ", ".join(nearest[:WARNING_NAMES]) + (", …" if len(known) > WARNING_NAMES else "")
        message += f" (known types: {shown})"
    return (
        message
        + "; tracked anyway. PUT /workspace-settings with allowed_recommendation_types to refuse unknown types."
    )


def _shared_prefix(a: str, b: str) -> int:
    size = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        size += 1
    return size


@cache
def get_workspace_settings_service() -> WorkspaceSettingsService:
    return WorkspaceSettingsService(get_workspace_settings_store())
