"""Read routes of the dashboard: day-by-day series and the routing decision log (the query function's)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from swarm_learning.api.http import (
    API_PREFIX,
    ERROR_RESPONSES,
    OK_RESPONSE,
)
from swarm_learning.api.params import WorkspaceId
from swarm_learning.models.common import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from swarm_learning.services.series.reads import (
    DEFAULT_AGENTS_PAGE,
    DEFAULT_SERIES_DAYS,
    MAX_AGENTS_PAGE,
    MAX_SERIES_DAYS,
    AgentSeriesPage,
    RoutingDecisionPage,
    RoutingSeries,
    TrustSeriesPage,
    WorkspaceSeries,
    get_series_service,
)

router = Router()

SeriesDays = Annotated[
    int, Query(ge=1, le=MAX_SERIES_DAYS, description="Whole days ending today (UTC), today included.")
]
AgentsLimit = Annotated[int, Query(ge=1, le=MAX_AGENTS_PAGE, description="Agents per page.")]
NextToken = Annotated[str | None, Query(max_length=2048)]


@router.get(
    f"{API_PREFIX}/series/workspace",
    summary="The workspace's day by day counts (tracked, evaluated, outcomes, approval, quality)",
    description="Every day of the window, oldest first, from the statistics buckets.",
    responses={**OK_RESPONSE, **ERROR_RESPONSES},
    tags=["Time series"],
)
def get_workspace_series(
    workspace_id: WorkspaceId, days: SeriesDays = DEFAULT_SERIES_DAYS
) -> WorkspaceSeries:
    return get_series_service().workspace(workspace_id, days=days)


@router.get(
    f"{API_PREFIX}/series/agents",
    summary="Every agent's day by day counts, a page of agents at a time",
    description="Every day of the window per agent, from its statistics buckets; agents in id order.",
    responses={**OK_RESPONSE, **ERROR_RESPONSES},
    tags=["Time series"],
)
def get_agent_series(
    workspace_id: WorkspaceId,
    days: SeriesDays = DEFAULT_SERIES_DAYS,
    limit: AgentsLimit = DEFAULT_AGENTS_PAGE,
    next_token: NextToken = None,
) -> AgentSeriesPage:
    return get_series_service().agents(workspace_id, days=days, limit=limit, next_token=next_token)


@router.get(
    f"{API_PREFIX}/series/trust",
    summary="Every agent's trust over time (the day's last refresh snapshot), a page of agents at a time",
    description="Overall trust with its bounds per day that has a trust-refresh snapshot.",
    responses={**OK_RESPONSE, **ERROR_RESPONSES},
    tags=["Time series"],
)
def get_trust_series(
    workspace_id: WorkspaceId,
    days: SeriesDays = DEFAULT_SERIES_DAYS,
    limit: AgentsLimit = DEFAULT_AGENTS_PAGE,
    next_token: NextToken = None,
) -> TrustSeriesPage:
    return get_series_service().trust(workspace_id, days=days, limit=limit, next_token=next_token)


@router.get(
    f"{API_PREFIX}/series/routing",
    summary="How often routing chose each agent, day by day",
    description="Counted from the logged routing decisions of the window.",
    responses={**OK_RESPONSE, **ERROR_RESPONSES},
    tags=["Time series"],
)
def get_routing_series(workspace_id: WorkspaceId, days: SeriesDays = DEFAULT_SERIES_DAYS) -> RoutingSeries:
    return get_series_service().routing(workspace_id, days=days)


@router.get(
    f"{API_PREFIX}/routing/decisions",
    summary="Logged routing decisions, newest first",
    description="Each with the chosen agents and the probability the policy had of choosing each.",
    responses={**OK_RESPONSE, **ERROR_RESPONSES},
    tags=["Trust scoring"],
)
def list_routing_decisions(
    workspace_id: WorkspaceId,
    days: SeriesDays = DEFAULT_SERIES_DAYS,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    next_token: NextToken = None,
) -> RoutingDecisionPage:
    return get_series_service().decisions(workspace_id, days=days, limit=limit, next_token=next_token)
