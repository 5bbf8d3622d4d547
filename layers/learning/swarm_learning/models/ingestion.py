"""Request and response models of batch ingestion (track and evaluate events in one call)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import (
    Field,
)

from swarm_learning.models.common import MAX_BATCH_EVENTS, Identifier, _Request, _Response


# ---- batch ingestion --------------------------------------------------------------------------
class EventType(StrEnum):
    TRACK = "track"
    EVALUATE = "evaluate"


class IngestBatchRequest(_Request):
    workspace_id: Identifier
    events: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_BATCH_EVENTS,
        description=(
            'Applied in order. Each is `{"type": "track", ...}` with the fields of '
            'TrackRecommendationRequest or `{"type": "evaluate", ...}` with those of '
            "EvaluateOutcomeRequest; `workspace_id` may be left out (it is the batch's). Each event "
            "is validated on its own, so one bad event never sinks the others."
        ),
    )


class EventError(_Response):
    error: str
    message: str
    field: str | None = Field(description="The event's field at fault, e.g. confidence_score.")


class EventResult(_Response):
    index: int
    type: EventType | None
    id: str | None = Field(
        description="recommendation_id for a track, outcome_id for an evaluation (null if not known)."
    )
    recommendation_id: str | None
    status: int = Field(
        description=(
            "201 stored, 200 already stored with this body (nothing written), 404 / 409 / 422 "
            "as on the single-event routes, 503 not stored this time: send it again."
        )
    )
    error: EventError | None = None
    warning: str | None = Field(
        default=None, description="As on the track route: a recommendation_type the workspace had never seen."
    )


class IngestBatchResponse(_Response):
    workspace_id: str
    received: int
    stored: int = Field(description="Events answered 200 or 201.")
    failed: int
    results: list[EventResult]
