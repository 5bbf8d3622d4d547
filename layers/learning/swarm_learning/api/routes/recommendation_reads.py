"""Read routes of tracked recommendations and the statistics over them (the query function's)."""

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from swarm_learning.api.http import (
    API_PREFIX,
    ERROR_RESPONSES,
    NOT_FOUND_RESPONSE,
    OK_RESPONSE,
)
from swarm_learning.api.params import AgentId, WorkspaceId
from swarm_learning.ids import RECOMMENDATION_ID_PATTERN
from swarm_learning.models.common import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from swarm_learning.models.reads import (
    AgentStats,
    Recommendation,
    RecommendationPage,
    WorkspaceStats,
)
from swarm_learning.services.tracking.reads import get_tracked_reads
from swarm_learning.vocabulary import RecommendationStatus

router = Router()

Days = Annotated[
    int | None,
    Query(ge=1, le=3650, description="Window in days ending today; defaults to the retention period."),
]


@router.get(
    f"{API_PREFIX}/recommendations/<recommendation_id>",
    summary="Get a recommendation with its outcome",
    responses={**OK_RESPONSE, **ERROR_RESPONSES, **NOT_FOUND_RESPONSE},
    tags=["Recommendation tracking"],
)
def get_recommendation(
    recommendation_id: Annotated[str, Path(pattern=RECOMMENDATION_ID_PATTERN)],
    workspace_id: WorkspaceId,
) -> Recommendation:
    return get_tracked_reads().get(workspace_id, recommendation_id)


@router.get(
    f"{API_PREFIX}/recommendations/agent/<agent_id>",
    summary="List an agent's recommendations, newest first",
    description="Filters combine; pass `next_token` from one page to get the next.",
    responses={**OK_RESPONSE, **ERROR_RESPONSES},
    tags=["Recommendation tracking"],
)
def list_agent_recommendations(
    agent_id: AgentId,
    workspace_id: WorkspaceId,
    recommendation_type: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{0,39}$")] = None,
    status: Annotated[RecommendationStatus | None, Query()] = None,
    since: Annotated[datetime | None, Query(description="ISO 8601; inclusive.")] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601; inclusive.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> RecommendationPage:
    return get_tracked_reads().list_for_agent(
        workspace_id,
        agent_id,
        recommendation_type=recommendation_type,
        status=status,
        since=since,
        until=until,
        limit=limit,
        next_token=next_token,
    )


@router.get(
    f"{API_PREFIX}/agents/<agent_id>/stats",
    summary="An agent's statistics (the seed's get_agent_stats)",
    description="Totals, approval rate, average quality and calibration, overall and by type.",
    responses={**OK_RESPONSE, **ERROR_RESPONSES, **NOT_FOUND_RESPONSE},
    tags=["Statistics"],
)
def get_agent_stats(agent_id: AgentId, workspace_id: WorkspaceId, days: Days = None) -> AgentStats:
    return get_tracked_reads().agent_stats(workspace_id, agent_id, days=days)


@router.get(
    f"{API_PREFIX}/stats",
    summary="Learning system statistics for the workspace",
    responses={**OK_RESPONSE, **ERROR_RESPONSES},
    tags=["Statistics"],
)
def get_workspace_stats(workspace_id: WorkspaceId, days: Days = None) -> WorkspaceStats:
    return get_tracked_reads().workspace_stats(workspace_id, days=days)
