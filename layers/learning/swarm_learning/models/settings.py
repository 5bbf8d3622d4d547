"""A workspace's settings: the recommendation types it accepts, its default type and its trust
threshold (GET and PUT /workspace-settings)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, field_validator, model_validator

from swarm_learning.models.common import Identifier, Slug, _Request, _Response

MAX_ALLOWED_TYPES = 100


class WorkspaceSettingsFields(_Request):
    """The settable fields; every one is optional, and null (or left out) means "not set"."""

    allowed_recommendation_types: list[Slug] | None = Field(
        default=None,
        max_length=MAX_ALLOWED_TYPES,
        description=(
            "When set, the only recommendation types tracking accepts (422 naming "
            "recommendation_type for others, on the track and batch routes). Null: every type is "
            "accepted, and a type the workspace has never seen is answered with a `warning`."
        ),
    )
    default_recommendation_type: Slug | None = Field(
        default=None,
        description=(
            "The type given to a recommendation whose source names none (the OpenTelemetry "
            "receiver's spans). Must be one of allowed_recommendation_types when those are set."
        ),
    )
    min_trust: float | None = Field(
        default=None,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="The workspace's trust threshold (0..1): agents below it are flagged by alerts.",
    )

    @field_validator("allowed_recommendation_types")
    @classmethod
    def _distinct(cls, types: list[str] | None) -> list[str] | None:
        if types is not None:
            if not types:
                raise ValueError("allowed_recommendation_types must list at least one type (or be null)")
            if len(set(types)) != len(types):
                raise ValueError("allowed_recommendation_types must not repeat a type")
        return types

    @model_validator(mode="after")
    def _default_is_allowed(self) -> WorkspaceSettingsFields:
        allowed = self.allowed_recommendation_types
        default = self.default_recommendation_type
        if allowed is not None and default is not None and default not in allowed:
            raise ValueError("default_recommendation_type must be one of allowed_recommendation_types")
        return self


class PutWorkspaceSettingsRequest(WorkspaceSettingsFields):
    """Replaces the workspace's settings as a whole (a field left out is unset)."""

    workspace_id: Identifier


class WorkspaceSettings(_Response):
    workspace_id: str
    allowed_recommendation_types: list[str] | None = None
    default_recommendation_type: str | None = None
    min_trust: float | None = None
    updated_at: datetime | None = Field(default=None, description="Null: never set (the defaults).")

    def accepts(self, recommendation_type: str) -> bool:
        allowed = self.allowed_recommendation_types
        return allowed is None or recommendation_type in allowed
