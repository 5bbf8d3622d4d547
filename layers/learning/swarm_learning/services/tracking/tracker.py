"""Recommendation tracking and outcome evaluation: the specification's RecommendationTracker and the
tracking side of LearningIntegration, over ``LearningStore``."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from swarm_learning.clock import Clock, utcnow
from swarm_learning.config import Settings, get_settings
from swarm_learning.dal.store import LearningStore, get_store
from swarm_learning.domain import counters as ctr
from swarm_learning.domain.evaluated import canonical_action, content_keys
from swarm_learning.errors import (
    AlreadyEvaluatedError,
    IdReusedError,
    InvalidFieldError,
    InvalidRequestError,
    LearningError,
    NotFoundError,
)
from swarm_learning.ids import (
    new_outcome_id,
    new_recommendation_id,
    outcome_time,
    recommendation_time,
)
from swarm_learning.models.common import MAX_WORKFLOW_RECOMMENDATIONS
from swarm_learning.models.evaluation import (
    Alternative,
    EvaluateOutcomeRequest,
    EvaluateOutcomeResponse,
    EvaluateWorkflowRequest,
    EvaluateWorkflowResponse,
    WorkflowItemResult,
    WorkflowItemStatus,
)
from swarm_learning.models.tracking import TrackRecommendationRequest, TrackRecommendationResponse
from swarm_learning.services.settings.service import get_workspace_settings_service
from swarm_learning.vocabulary import Outcome, RecommendationStatus


@dataclass(frozen=True)
class _PreparedOutcome:
    """An evaluation ready for the store: the outcome record, its counters, and the answer."""

    record: dict[str, Any]
    counters: dict[str, float]
    answer: EvaluateOutcomeResponse


# How a recommendation that could not be settled is reported in a workflow evaluation.
_WORKFLOW_FAILURES = {409: WorkflowItemStatus.ALREADY_EVALUATED, 404: WorkflowItemStatus.NOT_FOUND}


def _json(value: Mapping[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def fingerprint(request: EvaluateOutcomeRequest | TrackRecommendationRequest) -> str:
    """What identifies a request's body: a retry with the same id must send the same one."""
    return hashlib.sha256(_json(request.model_dump(mode="json")).encode()).hexdigest()


class RecommendationTracker:
    """Tracks recommendations and evaluates their outcomes (one at a time or a workflow's); the
    batch ingestion prepares its writes with the same methods."""

    def __init__(self, store: LearningStore, settings: Settings, clock: Clock = utcnow) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock

    def now(self) -> datetime:
        """The tracker's time (the batch ingestion reads with it what it is about to write)."""
        return self._clock()

    # ---- tracking ----------------------------------------------------------------------------
    def track(self, request: TrackRecommendationRequest) -> TrackRecommendationResponse:
        """Store a recommendation (one transaction). A client-minted id that is already stored
        with the same body answers the stored recommendation and writes nothing."""
        types = get_workspace_settings_service()
        checked = types.check_type(request.workspace_id, request.recommendation_type)
        record, counters = self.prepare_track(request)
        stored = self._store.insert_recommendation(record, counters)
        answer = self.track_answer(record, stored)
        if checked.new:
            types.record_types(request.workspace_id, [request.recommendation_type])
        return answer.model_copy(update={"warning": checked.warning}) if checked.warning else answer

    def prepare_track(self, request: TrackRecommendationRequest) -> tuple[dict[str, Any], dict[str, float]]:
        """The recommendation record and the counters it adds, ready for the store."""
        now = self._clock()
        if request.recommendation_id is None:
            recommendation_id, created_at = new_recommendation_id(now), now
        else:
            recommendation_id = request.recommendation_id
            created_at = self._minted_at(recommendation_time(recommendation_id), now, "recommendation_id")
        record = {
            "recommendation_id": recommendation_id,
            "workspace_id": request.workspace_id,
            "agent_id": request.agent_id,
            "agent_name": request.agent_name,
            "correlation_id": request.correlation_id,
            "workflow_id": request.workflow_id,
            "recommendation_type": request.recommendation_type,
            # Stored as JSON text: opaque to queries, exact (no float -> Decimal surprises),
            # and free of DynamoDB's nesting limit.
            "content_json": _json(request.recommendation_content),
            "evidence_json": _json(request.evidence),
            # Kept for the learning cycle, which then never re-parses content (swarm_learning.evaluated).
            "action_key": canonical_action(request.recommendation_content),
            "content_keys": list(content_keys(request.recommendation_content)),
            "confidence_score": request.confidence_score,
            "reasoning": request.reasoning,
            "execution_status": request.execution_status.value,
            "latency_ms": request.latency_ms,
            "input_tokens": request.input_tokens,
            "output_tokens": request.output_tokens,
            "decision_id": request.decision_id,
            "selection_probability": request.selection_probability,
            "status": RecommendationStatus.PENDING.value,
            "created_at": created_at,
            "request_fingerprint": fingerprint(request),
        }
        counters = ctr.tracking_counters(
            request.execution_status,
            request.confidence_score,
            request.latency_ms,
            input_tokens=request.input_tokens,
            output_tokens=request.output_tokens,
        )
        return record, counters

    def track_answer(
        self, record: Mapping[str, Any], stored: Mapping[str, Any] | None
    ) -> TrackRecommendationResponse:
        """The answer to a track: the new record, or (its id was taken) the stored one if it was
        tracked with the same body; a different body is a 409."""
        replayed = stored is not None
        if stored is not None:
            if stored.get("request_fingerprint") != record["request_fingerprint"]:
                raise IdReusedError(
                    f"recommendation_id {record['recommendation_id']} was already tracked with a different body",
                    field="recommendation_id",
                )
            record = {**stored, "created_at": datetime.fromisoformat(stored["created_at"])}
        return TrackRecommendationResponse(
            recommendation_id=record["recommendation_id"],
            workspace_id=record["workspace_id"],
            agent_id=record["agent_id"],
            status=RecommendationStatus.PENDING,
            created_at=record["created_at"],
            replayed=replayed,
        )

    def _minted_at(self, at: datetime, now: datetime, field: str) -> datetime:
        """A client-minted id's time, if it is within the allowed skew of the server's clock."""
        oldest = now - timedelta(seconds=self._settings.client_id_max_age_seconds)
        newest = now + timedelta(seconds=self._settings.client_id_max_lead_seconds)
        if not oldest <= at <= newest:
            raise InvalidFieldError(
                f"{field} was minted at {at.isoformat()}; ids must be minted between "
                f"{self._settings.client_id_max_age_seconds} s before and "
                f"{self._settings.client_id_max_lead_seconds} s after the server's clock ({now.isoformat()})",
                field=field,
            )
        return at

    # ---- evaluation --------------------------------------------------------------------------
    def evaluate(self, request: EvaluateOutcomeRequest) -> EvaluateOutcomeResponse:
        recommendation = self._store.get_recommendation_for_update(
            request.workspace_id, request.recommendation_id, now=self._clock()
        )
        if recommendation["status"] != RecommendationStatus.PENDING.value:
            return self.evaluation_replay(request, recommendation)
        write = self.prepare_evaluation(request, recommendation)
        try:
            self._store.record_evaluation(recommendation, write.record, write.counters)
        except AlreadyEvaluatedError as error:
            if error.stored is None:
                raise
            return self.evaluation_replay(request, error.stored)
        return write.answer

    def prepare_evaluation(
        self, request: EvaluateOutcomeRequest, recommendation: Mapping[str, Any]
    ) -> _PreparedOutcome:
        now = self._clock()
        outcome_id = None
        if request.outcome_id is not None:
            self._minted_at(outcome_time(request.outcome_id), now, "outcome_id")
            outcome_id = request.outcome_id
        return self._prepare_outcome(
            recommendation,
            quality_scores=request.quality_scores,
            overall_quality_score=request.overall_quality_score,
            feedback=request.evaluator_feedback,
            outcome=request.outcome,
            alternatives=request.alternatives,
            comparative_rank=request.comparative_rank,
            evaluator_id=request.evaluator_id,
            outcome_id=outcome_id,
            request_fingerprint=fingerprint(request),
        )

    def evaluation_replay(
        self, request: EvaluateOutcomeRequest, stored: Mapping[str, Any]
    ) -> EvaluateOutcomeResponse:
        """A recommendation that is evaluated already: the stored answer if this is a retry of
        the evaluation that settled it (same ``outcome_id`` and body), else a 409."""
        rid = stored["recommendation_id"]
        if request.outcome_id is None or stored.get("outcome_id") != request.outcome_id:
            raise AlreadyEvaluatedError(
                f"recommendation {rid} has already been evaluated", field="recommendation_id"
            )
        if stored.get("evaluation_fingerprint") != fingerprint(request):
            raise IdReusedError(
                f"outcome_id {request.outcome_id} was already used with a different body", field="outcome_id"
            )
        return EvaluateOutcomeResponse(
            outcome_id=stored["outcome_id"],
            recommendation_id=rid,
            workspace_id=stored["workspace_id"],
            agent_id=stored["agent_id"],
            outcome=Outcome(stored["status"]),
            status=RecommendationStatus(stored["status"]),
            overall_quality_score=stored["overall_quality_score"],
            evaluated_at=stored["evaluated_at"],
            replayed=True,
        )

    def evaluate_workflow(self, request: EvaluateWorkflowRequest) -> EvaluateWorkflowResponse:
        """Score every recommendation of a workflow; each one succeeds or fails on its own and
        every failure is reported in ``results``."""
        now = self._clock()
        targets: list[tuple[str, dict[str, Any] | None, WorkflowItemStatus | None]]
        if request.recommendations is None:
            items = list(
                self._store.iter_workflow_recommendations(request.workspace_id, request.workflow_id, now=now)
            )
            if not items:
                raise NotFoundError(
                    f"workflow {request.workflow_id} has no recommendations", field="workflow_id"
                )
            if len(items) > MAX_WORKFLOW_RECOMMENDATIONS:
                raise InvalidRequestError(
                    f"workflow has {len(items)} recommendations; list at most "
                    f"{MAX_WORKFLOW_RECOMMENDATIONS} in 'recommendations' per call",
                    field="recommendations",
                )
            unknown = set(request.overrides) - {i["recommendation_id"] for i in items}
            if unknown:
                raise InvalidRequestError(
                    f"overrides name recommendations not in the workflow: {sorted(unknown)}",
                    field="overrides",
                )
            targets = [(i["recommendation_id"], i, None) for i in items]
        else:
            targets = [self._workflow_target(request, rid, now) for rid in request.recommendations]

        results = [self._evaluate_in_workflow(request, rid, item, status) for rid, item, status in targets]
        settled = [r for r in results if r.status is WorkflowItemStatus.EVALUATED]
        qualities = [r.overall_quality_score for r in settled if r.overall_quality_score is not None]
        outcomes = Counter(r.outcome for r in settled if r.outcome is not None)
        return EvaluateWorkflowResponse(
            workspace_id=request.workspace_id,
            workflow_id=request.workflow_id,
            total=len(results),
            evaluated=len(settled),
            failed=len(results) - len(settled),
            outcomes={o: outcomes.get(o, 0) for o in Outcome},
            average_quality_score=sum(qualities) / len(qualities) if qualities else None,
            results=results,
        )

    def _workflow_target(
        self, request: EvaluateWorkflowRequest, recommendation_id: str, now: datetime
    ) -> tuple[str, dict[str, Any] | None, WorkflowItemStatus | None]:
        try:
            item = self._store.get_recommendation_for_update(request.workspace_id, recommendation_id, now=now)
        except NotFoundError:
            return recommendation_id, None, WorkflowItemStatus.NOT_FOUND
        if item.get("workflow_id") != request.workflow_id:
            return recommendation_id, None, WorkflowItemStatus.NOT_IN_WORKFLOW
        return recommendation_id, item, None

    def _evaluate_in_workflow(
        self,
        request: EvaluateWorkflowRequest,
        recommendation_id: str,
        item: dict[str, Any] | None,
        status: WorkflowItemStatus | None,
    ) -> WorkflowItemResult:
        if item is None:
            assert status is not None
            messages = {
                WorkflowItemStatus.NOT_FOUND: "recommendation not found in this workspace",
                WorkflowItemStatus.NOT_IN_WORKFLOW: f"recommendation is not part of workflow {request.workflow_id}",
            }
            return WorkflowItemResult(
                recommendation_id=recommendation_id, status=status, error=messages[status]
            )
        # The workflow's scoring, with whatever the recommendation's override states on top.
        scoring: dict[str, Any] = {
            "quality_scores": request.quality_scores,
            "overall_quality_score": request.overall_quality_score,
            "evaluator_feedback": request.feedback,
            "outcome": request.outcome,
        }
        override = request.overrides.get(recommendation_id)
        if override is not None:
            scoring.update(override.model_dump(exclude_none=True))
        try:
            settled = self._settle(
                item,
                quality_scores=scoring["quality_scores"],
                overall_quality_score=scoring["overall_quality_score"],
                feedback=scoring["evaluator_feedback"],
                outcome=scoring["outcome"],
                alternatives=[],
                comparative_rank=None,
                evaluator_id=request.evaluator_id,
            )
        except LearningError as error:
            failure = _WORKFLOW_FAILURES.get(error.status_code, WorkflowItemStatus.FAILED)
            return WorkflowItemResult(
                recommendation_id=recommendation_id, status=failure, error=error.message
            )
        return WorkflowItemResult(
            recommendation_id=recommendation_id,
            status=WorkflowItemStatus.EVALUATED,
            outcome=settled.outcome,
            outcome_id=settled.outcome_id,
            overall_quality_score=settled.overall_quality_score,
        )

    def _settle(self, recommendation: dict[str, Any], **scoring: Any) -> EvaluateOutcomeResponse:
        write = self._prepare_outcome(recommendation, outcome_id=None, request_fingerprint="", **scoring)
        self._store.record_evaluation(recommendation, write.record, write.counters)
        return write.answer

    def _prepare_outcome(
        self,
        recommendation: Mapping[str, Any],
        *,
        quality_scores: Mapping[str, float],
        overall_quality_score: float,
        feedback: str,
        outcome: Outcome | None,
        alternatives: Iterable[Alternative],
        comparative_rank: int | None,
        evaluator_id: str | None,
        outcome_id: str | None,
        request_fingerprint: str,
    ) -> _PreparedOutcome:
        now = self._clock()
        resolved = outcome or ctr.derive_outcome(
            overall_quality_score,
            approved_min=self._settings.outcome_approved_min,
            partial_min=self._settings.outcome_partial_min,
        )
        created_at = datetime.fromisoformat(recommendation["created_at"])
        stated = recommendation.get("confidence_score")
        confidence = float(stated) if stated is not None else None
        record = {
            "outcome_id": outcome_id or new_outcome_id(now),
            "recommendation_id": recommendation["recommendation_id"],
            "agent_id": recommendation["agent_id"],
            "recommendation_type": recommendation["recommendation_type"],
            "confidence_score": confidence,
            "outcome": resolved.value,
            "quality_scores": dict(quality_scores),
            "overall_quality_score": overall_quality_score,
            "evaluator_feedback": feedback,
            "alternatives": [a.model_dump(exclude_none=True) for a in alternatives],
            "comparative_rank": comparative_rank,
            "evaluator_id": evaluator_id,
            "evaluated_at": now,
            # kept on the recommendation (not the outcome item) to recognise a retry
            "fingerprint": request_fingerprint,
        }
        counters = ctr.evaluation_counters(
            resolved, confidence, overall_quality_score, max((now - created_at).total_seconds(), 0.0)
        )
        answer = EvaluateOutcomeResponse(
            outcome_id=record["outcome_id"],
            recommendation_id=recommendation["recommendation_id"],
            workspace_id=recommendation["workspace_id"],
            agent_id=recommendation["agent_id"],
            outcome=resolved,
            status=RecommendationStatus(resolved.value),
            overall_quality_score=overall_quality_score,
            evaluated_at=now,
        )
        return _PreparedOutcome(record, counters, answer)


@cache
def get_tracker() -> RecommendationTracker:
    """The process-wide tracker, built on first use (after configuration is in place)."""
    return RecommendationTracker(get_store(), get_settings())
