"""Reads of tracked recommendations and the statistics their counters add up to."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from swarm_learning.clock import Clock, utcnow
from swarm_learning.config import Settings, get_settings
from swarm_learning.dal.items import Bucket
from swarm_learning.dal.store import LearningStore, get_store
from swarm_learning.domain import counters as ctr
from swarm_learning.domain.statistics import summarize
from swarm_learning.errors import (
    InvalidRequestError,
    NotFoundError,
)
from swarm_learning.ids import (
    highest_recommendation_id,
    lowest_recommendation_id,
)
from swarm_learning.models.evaluation import (
    OutcomeRecord,
)
from swarm_learning.models.reads import (
    AgentStats,
    PerformanceSummary,
    Recommendation,
    RecommendationPage,
    StatsWindow,
    WorkspaceStats,
)
from swarm_learning.vocabulary import RecommendationStatus


class TrackedReads:
    """Recommendations by id or agent, and agent and workspace statistics."""

    def __init__(self, store: LearningStore, settings: Settings, clock: Clock = utcnow) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock

    def get(self, workspace_id: str, recommendation_id: str) -> Recommendation:
        item, outcome = self._store.get_recommendation(workspace_id, recommendation_id, now=self._clock())
        return _recommendation(item, outcome)

    def list_for_agent(
        self,
        workspace_id: str,
        agent_id: str,
        *,
        recommendation_type: str | None = None,
        status: RecommendationStatus | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int,
        next_token: str | None = None,
    ) -> RecommendationPage:
        if since is not None and until is not None and since > until:
            raise InvalidRequestError("since must not be after until", field="since")
        page = self._store.list_agent_recommendations(
            workspace_id,
            agent_id,
            now=self._clock(),
            recommendation_type=recommendation_type,
            status=status.value if status else None,
            since=lowest_recommendation_id(since) if since else None,
            until=highest_recommendation_id(until) if until else None,
            limit=limit,
            next_token=next_token,
        )
        items = [_recommendation(item, None) for item in page.items]
        return RecommendationPage(items=items, count=len(items), next_token=page.next_token)

    def _window(self, days: int | None) -> tuple[date, date, StatsWindow]:
        span = min(days or self._settings.retention_days, self._settings.retention_days)
        now = self._clock()
        first = now.date() - timedelta(days=span - 1)
        since = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
        return first, now.date(), StatsWindow(since=since, until=now)

    def agent_stats(self, workspace_id: str, agent_id: str, *, days: int | None = None) -> AgentStats:
        """The specification's ``get_agent_stats``, from the agent's day buckets (no scan)."""
        entry = self._store.agent_directory_entry(workspace_id, agent_id)
        if entry is None:
            raise NotFoundError(f"agent {agent_id} not found", field="agent_id")
        first, last, window = self._window(days)
        buckets = self._store.agent_buckets(workspace_id, agent_id, first_day=first, last_day=last)
        overall = ctr.add_counters(b.counters for b in buckets if b.recommendation_type is None)
        return AgentStats(
            workspace_id=workspace_id,
            agent_id=agent_id,
            agent_name=entry.get("agent_name") or entry["agent_id"],
            first_seen_at=entry.get("first_seen_at"),
            last_seen_at=entry.get("last_seen_at"),
            window=window,
            overall=summarize(overall),
            by_type=_by_type(b for b in buckets if b.recommendation_type is not None),
        )

    def workspace_stats(self, workspace_id: str, *, days: int | None = None) -> WorkspaceStats:
        """The specification's ``GET /stats``: the workspace's totals, from its sharded day buckets."""
        first, last, window = self._window(days)
        buckets = self._store.workspace_buckets(workspace_id, first_day=first, last_day=last)
        return WorkspaceStats(
            workspace_id=workspace_id,
            agents=self._store.count_agents(workspace_id),
            window=window,
            # Workspace buckets are kept per type only; the overall figures are their sum.
            overall=summarize(ctr.add_counters(b.counters for b in buckets)),
            by_type=_by_type(buckets),
        )


@cache
def get_tracked_reads() -> TrackedReads:
    return TrackedReads(get_store(), get_settings())


def _by_type(buckets: Iterable[Bucket]) -> dict[str, PerformanceSummary]:
    grouped: dict[str, list[dict[str, float]]] = {}
    for bucket in buckets:
        assert bucket.recommendation_type is not None
        grouped.setdefault(bucket.recommendation_type, []).append(bucket.counters)
    return {rtype: summarize(ctr.add_counters(group)) for rtype, group in sorted(grouped.items())}


def _recommendation(item: Mapping[str, Any], outcome: Mapping[str, Any] | None) -> Recommendation:
    return Recommendation(
        recommendation_id=item["recommendation_id"],
        workspace_id=item["workspace_id"],
        agent_id=item["agent_id"],
        agent_name=item.get("agent_name"),
        correlation_id=item.get("correlation_id"),
        workflow_id=item.get("workflow_id"),
        recommendation_type=item["recommendation_type"],
        recommendation_content=json.loads(item["content_json"]),
        confidence_score=item.get("confidence_score"),
        reasoning=item.get("reasoning", ""),
        evidence=json.loads(item.get("evidence_json", "{}")),
        execution_status=item["execution_status"],
        latency_ms=item.get("latency_ms"),
        input_tokens=item.get("input_tokens"),
        output_tokens=item.get("output_tokens"),
        status=item["status"],
        created_at=item["created_at"],
        decision_id=item.get("decision_id"),
        selection_probability=item.get("selection_probability"),
        evaluated_at=item.get("evaluated_at"),
        overall_quality_score=item.get("overall_quality_score"),
        outcome=OutcomeRecord(
            outcome_id=outcome["outcome_id"],
            recommendation_id=outcome["recommendation_id"],
            outcome=outcome["outcome"],
            quality_scores=outcome.get("quality_scores", {}),
            overall_quality_score=outcome["overall_quality_score"],
            evaluator_feedback=outcome.get("evaluator_feedback", ""),
            alternatives=outcome.get("alternatives", []),
            comparative_rank=outcome.get("comparative_rank"),
            evaluator_id=outcome.get("evaluator_id"),
            evaluated_at=outcome["evaluated_at"],
        )
        if outcome
        else None,
    )
