"""Batch ingestion: up to 100 tracks and evaluations in one request, answered per event.

Each event is validated on its own (the same models as the single-event routes), so one bad event
never sinks the others. The valid ones go to the store together: tracks and evaluations of the
same agent and day share their counter updates, so a batch costs a few transactions instead of
one per event. Client-minted ids make every event retry-safe: a batch sent again stores nothing
twice and answers the stored results (200).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationError

from swarm_learning.dal.items import EvaluationWrite, TrackWrite, WriteResult, WriteState
from swarm_learning.dal.store import LearningStore, get_store
from swarm_learning.errors import LearningError
from swarm_learning.models.evaluation import EvaluateOutcomeRequest
from swarm_learning.models.ingestion import (
    EventError,
    EventResult,
    EventType,
    IngestBatchRequest,
    IngestBatchResponse,
)
from swarm_learning.models.tracking import TrackRecommendationRequest
from swarm_learning.services.settings.service import (
    TypeCheck,
    WorkspaceSettingsService,
    get_workspace_settings_service,
)
from swarm_learning.services.tracking.tracker import RecommendationTracker, get_tracker
from swarm_learning.vocabulary import RecommendationStatus

_MODELS: dict[EventType, type[BaseModel]] = {
    EventType.TRACK: TrackRecommendationRequest,
    EventType.EVALUATE: EvaluateOutcomeRequest,
}


@dataclass
class _Event:
    """One event on its way through the batch: its request, its write, and its answer once known."""

    index: int
    type: EventType | None
    request: Any = None
    write: TrackWrite | EvaluationWrite | None = None
    result: EventResult | None = None
    type_check: TypeCheck | None = None


class BatchIngestor:
    def __init__(
        self, tracker: RecommendationTracker, store: LearningStore, types: WorkspaceSettingsService
    ) -> None:
        self._tracker = tracker
        self._store = store
        self._types = types

    def now(self) -> datetime:
        return self._tracker.now()

    def ingest(self, batch: IngestBatchRequest) -> IngestBatchResponse:
        events = [self._parse(batch.workspace_id, index, raw) for index, raw in enumerate(batch.events)]
        tracked: dict[str, _Event] = {}
        for event in events:
            if event.result is None and event.type is EventType.TRACK and event.request.recommendation_id:
                tracked.setdefault(event.request.recommendation_id, event)
        # The recommendations evaluated here and not tracked earlier in the batch: one read.
        wanted = {
            e.request.recommendation_id
            for e in events
            if e.result is None
            and e.type is EventType.EVALUATE
            and not (
                e.request.recommendation_id in tracked
                and tracked[e.request.recommendation_id].index < e.index
            )
        }
        stored = self._store.get_recommendations(batch.workspace_id, sorted(wanted), now=self._tracker.now())
        for event in events:
            if event.result is None:
                self._prepare(event, tracked, stored)
        pending: list[tuple[_Event, TrackWrite | EvaluationWrite]] = []
        for event in events:
            if event.result is None and event.write is not None:
                pending.append((event, event.write))
        written = self._store.commit_events([write for _, write in pending])
        for (event, _), result in zip(pending, written, strict=True):
            event.result = self._answer(event, result)
        new_types = {
            e.request.recommendation_type
            for e in events
            if e.type_check is not None
            and e.type_check.new
            and e.result is not None
            and e.result.status < 300
        }
        if new_types:
            self._types.record_types(batch.workspace_id, new_types)
        results = [e.result for e in events if e.result is not None]
        ok = sum(1 for r in results if r.status < 300)
        return IngestBatchResponse(
            workspace_id=batch.workspace_id,
            received=len(events),
            stored=ok,
            failed=len(results) - ok,
            results=results,
        )

    def _parse(self, workspace_id: str, index: int, raw: Mapping[str, Any]) -> _Event:
        kind = raw.get("type")
        if not isinstance(kind, str) or kind not in _MODELS:
            refused = _refused(
                index, None, None, None, 422, "validation_error", "type must be track or evaluate", "type"
            )
            return _Event(index, None, result=refused)
        event_type = EventType(kind)
        fields = {k: v for k, v in raw.items() if k != "type"}
        # Isolation: an event cannot name a workspace other than the one the key was checked for.
        if fields.setdefault("workspace_id", workspace_id) != workspace_id:
            refused = _refused(
                index, event_type, None, None, 422, "validation_error",
                "an event's workspace_id must be the batch's", "workspace_id",
            )  # fmt: skip
            return _Event(index, event_type, result=refused)
        try:
            request = _MODELS[event_type].model_validate(fields)
        except ValidationError as error:
            problem = error.errors()[0]
            field = ".".join(str(part) for part in problem.get("loc", ())) or None
            rid = (
                fields.get("recommendation_id") if isinstance(fields.get("recommendation_id"), str) else None
            )
            refused = _refused(
                index, event_type, None, rid, 422, "validation_error", problem.get("msg", "invalid"), field
            )
            return _Event(index, event_type, result=refused)
        return _Event(index, event_type, request)

    def _prepare(
        self, event: _Event, tracked: Mapping[str, _Event], stored: Mapping[str, dict[str, Any]]
    ) -> None:
        request = event.request
        try:
            if event.type is EventType.TRACK:
                event.type_check = self._types.check_type(request.workspace_id, request.recommendation_type)
                record, counters = self._tracker.prepare_track(request)
                event.write = TrackWrite(record, counters)
                return
            target = tracked.get(request.recommendation_id)
            recommendation: Mapping[str, Any] | None
            if target is not None and target.write is not None and target.index < event.index:
                recommendation = _as_stored(target.write)
            else:
                recommendation = stored.get(request.recommendation_id)
            if recommendation is None:
                event.result = _refused(
                    event.index, event.type, request.outcome_id, request.recommendation_id, 404,
                    "not_found", f"recommendation {request.recommendation_id} not found", "recommendation_id",
                )  # fmt: skip
                return
            if recommendation["status"] != RecommendationStatus.PENDING.value:
                answer = self._tracker.evaluation_replay(request, recommendation)
                event.result = _ok(event, answer.outcome_id, 200)
                return
            prepared = self._tracker.prepare_evaluation(request, recommendation)
            event.write = EvaluationWrite(recommendation, prepared.record, prepared.counters)
        except LearningError as error:
            event.result = _failed(event, error)

    def _answer(self, event: _Event, written: WriteResult) -> EventResult:
        request = event.request
        if written.state is WriteState.UNAVAILABLE:
            return _refused(
                event.index, event.type, _event_id(event), request.recommendation_id, 503,
                "unavailable", "not stored this time; send the event again", None,
            )  # fmt: skip
        try:
            if isinstance(event.write, TrackWrite):
                answer = self._tracker.track_answer(event.write.record, written.stored)
                return _ok(event, answer.recommendation_id, 200 if answer.replayed else 201)
            if written.state is WriteState.WRITTEN:
                assert isinstance(event.write, EvaluationWrite)
                return _ok(event, event.write.outcome["outcome_id"], 201)
            if written.stored is None:
                return _refused(
                    event.index, event.type, request.outcome_id, request.recommendation_id, 404,
                    "not_found", f"recommendation {request.recommendation_id} not found", "recommendation_id",
                )  # fmt: skip
            replay = self._tracker.evaluation_replay(request, written.stored)
            return _ok(event, replay.outcome_id, 200)
        except LearningError as error:
            return _failed(event, error)


def _as_stored(write: TrackWrite | EvaluationWrite) -> dict[str, Any]:
    """A recommendation tracked earlier in the batch, as the store would return it."""
    assert isinstance(write, TrackWrite)
    return {**write.record, "created_at": write.record["created_at"].isoformat()}


def _event_id(event: _Event) -> str | None:
    if isinstance(event.write, TrackWrite):
        return str(event.write.record["recommendation_id"])
    if isinstance(event.write, EvaluationWrite):
        return str(event.write.outcome["outcome_id"])
    return None


def _ok(event: _Event, event_id: str, status: int) -> EventResult:
    return EventResult(
        index=event.index,
        type=event.type,
        id=event_id,
        recommendation_id=event.request.recommendation_id if event.type is EventType.EVALUATE else event_id,
        status=status,
        warning=event.type_check.warning if event.type_check is not None else None,
    )


def _failed(event: _Event, error: LearningError) -> EventResult:
    request = event.request
    event_id = request.outcome_id if event.type is EventType.EVALUATE else request.recommendation_id
    return _refused(
        event.index, event.type, event_id, request.recommendation_id, error.status_code, error.code,
        error.message, error.field,
    )  # fmt: skip


def _refused(
    index: int,
    event_type: EventType | None,
    event_id: str | None,
    recommendation_id: str | None,
    status: int,
    code: str,
    message: str,
    field: str | None,
) -> EventResult:
    return EventResult(
        index=index,
        type=event_type,
        id=event_id,
        recommendation_id=recommendation_id,
        status=status,
        error=EventError(error=code, message=message, field=field),
    )


@cache
def get_ingestor() -> BatchIngestor:
    return BatchIngestor(get_tracker(), get_store(), get_workspace_settings_service())
