"""The OTLP receiver's service: decoded spans and log records through the batch ingestion.

Agent runs become track events and evaluations evaluate events of ``POST /events/batch``'s
``BatchIngestor``: the same validation, transactions, shared counter updates and retry-safety (the
ids are derived from the trace, so a re-export replays instead of storing twice). What cannot be
stored is counted with its reason, for the OTLP answer's ``partial_success``; what DynamoDB could
not take this time marks the export for a retry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from http import HTTPStatus
from typing import Any

from swarm_learning.config import Settings, get_settings
from swarm_learning.dal.store import LearningStore, get_store
from swarm_learning.domain import otel
from swarm_learning.models.common import MAX_BATCH_EVENTS
from swarm_learning.models.ingestion import EventResult, IngestBatchRequest
from swarm_learning.services.settings.service import WorkspaceSettingsService, get_workspace_settings_service
from swarm_learning.services.tracking.ingestion import BatchIngestor, get_ingestor

SpanKey = tuple[str, str]
MAX_MESSAGES = 5  # reasons quoted in partial_success.error_message; the rest are counted


@dataclass
class ExportOutcome:
    """What became of an export: rejected items (spans or log records) and why, and whether part
    of it must be sent again."""

    rejected: set[Any] = field(default_factory=set)
    reasons: list[str] = field(default_factory=list)
    retry: bool = False
    tracked: int = 0  # newly stored (replays not counted): the functions' metrics
    evaluated: int = 0

    def reject(self, item: Any, reason: str) -> None:
        if item not in self.rejected:
            self.rejected.add(item)
            self.reasons.append(reason)

    @property
    def message(self) -> str:
        shown = "; ".join(self.reasons[:MAX_MESSAGES])
        more = len(self.reasons) - MAX_MESSAGES
        return shown + (f"; and {more} more" if more > 0 else "")


def workspace_of(resource: Mapping[str, Any], header: str | None) -> str | None:
    """The workspace an export writes to: the ``X-Workspace-Id`` header, else the resource's
    ``swarm.workspace_id``."""
    if header:
        return header
    named = resource.get(otel.WORKSPACE)
    return named if isinstance(named, str) and named else None


class OtlpReceiver:
    def __init__(
        self,
        ingestor: BatchIngestor,
        store: LearningStore,
        settings: Settings,
        workspace_settings: WorkspaceSettingsService,
    ) -> None:
        self._ingestor = ingestor
        self._store = store
        self._settings = settings
        self._workspace_settings = workspace_settings

    def default_type(self, workspace_id: str) -> str:
        """The type of an agent span that names none: the workspace's `default_recommendation_type`
        (PUT /workspace-settings), else OTLP_DEFAULT_RECOMMENDATION_TYPE."""
        configured = self._workspace_settings.get(workspace_id).default_recommendation_type
        return configured or self._settings.otlp_default_recommendation_type

    def export_spans(self, workspace_id: str, spans: Sequence[otel.Span], outcome: ExportOutcome) -> None:
        index = {span.key: span for span in spans}
        usage: dict[SpanKey, list[tuple[int, int]]] = {}
        for span in spans:
            tokens = otel.span_tokens(span)
            if tokens is None or otel.is_agent_run(span) or not span.parent_span_id:
                continue
            parent = index.get((span.trace_id, span.parent_span_id))
            owner = otel.nearest_agent(parent, index) if parent else None
            if owner is not None:
                usage.setdefault(owner.key, []).append(tokens)

        tracks: list[tuple[otel.Span, dict[str, Any]]] = []
        default_type = self.default_type(workspace_id) if any(map(otel.is_agent_run, spans)) else ""
        for span in spans:
            if not otel.is_agent_run(span):
                continue
            try:
                fields = otel.track_fields(
                    span,
                    workspace_id=workspace_id,
                    default_type=default_type,
                    tokens=otel.run_tokens(span, usage.get(span.key, [])),
                )
            except otel.MappingError as error:
                outcome.reject(span.key, str(error))
                continue
            tracks.append((span, fields))

        stored: dict[SpanKey, str] = {}
        for (span, fields), result in zip(
            tracks, self._ingest(workspace_id, [f for _, f in tracks]), strict=True
        ):
            if self._settled(result, span.key, f"span {span.span_id}", outcome):
                stored[span.key] = fields["recommendation_id"]
                outcome.tracked += result.status == HTTPStatus.CREATED  # not a replay
        if stored:
            self._store.link_spans(
                workspace_id,
                stored,
                created_at={key: otel.span_time(index[key].start_unix_nano) for key in stored},
            )

        carried = [
            otel.Evaluation(
                owner.trace_id, owner.span_id, event.time_unix_nano or span.end_unix_nano, event.attributes
            )
            for span in spans
            for event in span.events
            if otel.is_evaluation(event.name, event.attributes)
            for owner in [otel.nearest_agent(span, index) or span]
        ]
        self.evaluate(workspace_id, carried, outcome, known=stored)
        self._apply_early(workspace_id, stored, outcome)

    def evaluate(
        self,
        workspace_id: str,
        evaluations: Sequence[otel.Evaluation],
        outcome: ExportOutcome,
        *,
        known: Mapping[SpanKey, str] | None = None,
        item_of: Mapping[int, Any] | None = None,
    ) -> None:
        """Apply evaluations to the recommendations their spans became; keep the ones whose span has
        not arrived yet. ``item_of`` names what a rejection counts against (default: the span)."""
        if not evaluations:
            return
        known = dict(known or {})
        unknown = {e.key for e in evaluations if e.key not in known}
        now = self._ingestor_now()
        if unknown:
            known.update(self._store.linked_recommendations(workspace_id, unknown, now=now))

        def item(position: int) -> Any:
            return item_of[position] if item_of is not None else evaluations[position].key

        ready: list[tuple[int, dict[str, Any]]] = []
        waiting: list[tuple[int, dict[str, Any]]] = []
        for position, evaluation in enumerate(evaluations):
            try:
                fields = otel.evaluation_fields(
                    evaluation, workspace_id=workspace_id, recommendation_id=known.get(evaluation.key)
                )
            except otel.MappingError as error:
                outcome.reject(item(position), str(error))
                continue
            (ready if evaluation.key in known else waiting).append((position, fields))

        kept: dict[SpanKey, tuple[int, dict[str, Any]]] = {}
        expires_at = now + timedelta(seconds=self._settings.otlp_early_evaluation_seconds)
        for position, fields in waiting:
            key = evaluations[position].key
            other = self._store.keep_early_evaluation(
                workspace_id, key, fields, now=now, expires_at=expires_at
            )
            if other is not None:
                outcome.reject(
                    item(position),
                    f"span {key[1]}: another evaluation is already waiting for this span; "
                    "a recommendation is evaluated once",
                )
                continue
            kept[key] = (position, fields)
        # The span may have arrived while these were being kept: look again (see dal.span_links).
        arrived = self._store.linked_recommendations(workspace_id, kept, now=now) if kept else {}
        for key, rid in arrived.items():
            position, fields = kept[key]
            ready.append((position, {**fields, "recommendation_id": rid}))

        applied = []
        results = self._ingest(workspace_id, [fields for _, fields in ready])
        for (position, _), result in zip(ready, results, strict=True):
            what = f"evaluation of span {evaluations[position].span_id}"
            if self._settled(result, item(position), what, outcome):
                outcome.evaluated += result.status == HTTPStatus.CREATED
            if result.status != HTTPStatus.SERVICE_UNAVAILABLE and evaluations[position].key in arrived:
                applied.append(evaluations[position].key)
        if applied:
            self._store.drop_early_evaluations(workspace_id, applied)

    def export_logs(
        self, workspace_id: str, records: Sequence[tuple[int, otel.LogRecord]], outcome: ExportOutcome
    ) -> None:
        """The evaluation results among log records (``records`` numbered for the rejections);
        other records are not this service's business and are accepted without being stored."""
        evaluations, positions = [], []
        for position, record in records:
            if not otel.is_evaluation(record.event_name, record.attributes):
                continue
            if not record.trace_id or not record.span_id:
                outcome.reject(
                    position, "an evaluation result needs the trace and span of the agent run it evaluates"
                )
                continue
            evaluations.append(
                otel.Evaluation(record.trace_id, record.span_id, record.time_unix_nano, record.attributes)
            )
            positions.append(position)
        self.evaluate(workspace_id, evaluations, outcome, item_of=dict(enumerate(positions)))

    def _apply_early(self, workspace_id: str, stored: Mapping[SpanKey, str], outcome: ExportOutcome) -> None:
        """Evaluations that arrived before these spans, applied now that they are tracked."""
        if not stored:
            return
        early = self._store.early_evaluations(workspace_id, stored, now=self._ingestor_now())
        if not early:
            return
        pending = [(key, {**fields, "recommendation_id": stored[key]}) for key, fields in early.items()]
        done = []
        for (key, _), result in zip(
            pending, self._ingest(workspace_id, [f for _, f in pending]), strict=True
        ):
            if result.status == HTTPStatus.SERVICE_UNAVAILABLE:
                outcome.retry = True
                continue
            done.append(key)  # applied, replayed, or refused for good (already evaluated)
            outcome.evaluated += result.status == HTTPStatus.CREATED
        if done:
            self._store.drop_early_evaluations(workspace_id, done)

    def _ingest(self, workspace_id: str, events: list[dict[str, Any]]) -> list[EventResult]:
        results: list[EventResult] = []
        for start in range(0, len(events), MAX_BATCH_EVENTS):
            chunk = events[start : start + MAX_BATCH_EVENTS]
            batch = IngestBatchRequest.model_validate({"workspace_id": workspace_id, "events": chunk})
            results.extend(self._ingestor.ingest(batch).results)
        return results

    @staticmethod
    def _settled(result: EventResult, item: Any, what: str, outcome: ExportOutcome) -> bool:
        if result.status < 300:
            return True
        if result.status == HTTPStatus.SERVICE_UNAVAILABLE:
            outcome.retry = True
            return False
        error = result.error
        reason = (
            f"{error.field}: {error.message}" if error and error.field else (error.message if error else "")
        )
        outcome.reject(item, f"{what}: {result.status} {reason}")
        return False

    def _ingestor_now(self) -> datetime:
        return self._ingestor.now()


@cache
def get_receiver() -> OtlpReceiver:
    return OtlpReceiver(get_ingestor(), get_store(), get_settings(), get_workspace_settings_service())
