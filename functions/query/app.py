"""Query function: every read (recommendations, agent statistics, workspace statistics)."""

from datetime import datetime
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from swarm_learning import __version__
from swarm_learning.api.access import HEALTH_PATH, refusal
from swarm_learning.api.http import (
    API_PREFIX,
    ERROR_RESPONSES,
    NOT_FOUND_RESPONSE,
    OK_RESPONSE,
    cors_config,
    register_error_handlers,
)
from swarm_learning.api.observability import CORRELATION_ID_PATH, logger, metrics, tracer
from swarm_learning.api.params import AgentId, WorkspaceId
from swarm_learning.ids import RECOMMENDATION_ID_PATTERN
from swarm_learning.models.common import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from swarm_learning.models.reads import (
    AgentStats,
    HealthResponse,
    Recommendation,
    RecommendationPage,
    WorkspaceStats,
)
from swarm_learning.models.trust import (
    DecisionBoostResponse,
    TrustHistory,
    TrustScoreList,
    TrustScoreResponse,
    TrustSortKey,
)
from swarm_learning.services.series import (
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
from swarm_learning.services.tracking import get_tracker
from swarm_learning.services.trust import get_trust_service
from swarm_learning.vocabulary import RecommendationStatus

app = APIGatewayRestResolver(
    cors=cors_config(),
    enable_validation=True,
    # A response that breaks its own schema is our bug: a 500 we see, not a 422 for the client.
    response_validation_error_http_code=HTTPStatus.INTERNAL_SERVER_ERROR,
)
register_error_handlers(app)

Days = Annotated[
    int | None,
    Query(ge=1, le=3650, description="Window in days ending today; defaults to the retention period."),
]

SeriesDays = Annotated[
    int, Query(ge=1, le=MAX_SERIES_DAYS, description="Whole days ending today (UTC), today included.")
]
AgentsLimit = Annotated[int, Query(ge=1, le=MAX_AGENTS_PAGE, description="Agents per page.")]
NextToken = Annotated[str | None, Query(max_length=2048)]


@app.get(
    HEALTH_PATH,
    summary="Health check",
    description="The only route without authentication. Touches no data.",
    tags=["Health"],
    security=[],
)
def health() -> HealthResponse:
    return HealthResponse(status="ok", version=__version__)


@app.get(
    f"{API_PREFIX}/recommendations/<recommendation_id>",
    summary="Get a recommendation with its outcome",
    responses={**OK_RESPONSE, **ERROR_RESPONSES, **NOT_FOUND_RESPONSE},
    tags=["Recommendation tracking"],
)
def get_recommendation(
    recommendation_id: Annotated[str, Path(pattern=RECOMMENDATION_ID_PATTERN)],
    workspace_id: WorkspaceId,
) -> Recommendation:
    return get_tracker().get(workspace_id, recommendation_id)


@app.get(
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
    return get_tracker().list_for_agent(
        workspace_id,
        agent_id,
        recommendation_type=recommendation_type,
        status=status,
        since=since,
        until=until,
        limit=limit,
        next_token=next_token,
    )


@app.get(
    f"{API_PREFIX}/agents/<agent_id>/stats",
    summary="An agent's statistics (the seed's get_agent_stats)",
    description="Totals, approval rate, average quality and calibration, overall and by type.",
    responses={**OK_RESPONSE, **ERROR_RESPONSES, **NOT_FOUND_RESPONSE},
    tags=["Statistics"],
)
def get_agent_stats(agent_id: AgentId, workspace_id: WorkspaceId, days: Days = None) -> AgentStats:
    return get_tracker().agent_stats(workspace_id, agent_id, days=days)


@app.get(
    f"{API_PREFIX}/stats",
    summary="Learning system statistics for the workspace",
    responses={**OK_RESPONSE, **ERROR_RESPONSES},
    tags=["Statistics"],
)
def get_workspace_stats(workspace_id: WorkspaceId, days: Days = None) -> WorkspaceStats:
    return get_tracker().workspace_stats(workspace_id, days=days)


@app.get(
    f"{API_PREFIX}/trust-scores/<agent_id>",
    summary="An agent's trust score",
    description=(
        "The seed's Trust Score Response plus the counts behind every dimension, the credible "
        "interval of accuracy, calibration bins and per-type scores. Computed from the statistics "
        "buckets at request time."
    ),
    responses={**OK_RESPONSE, **ERROR_RESPONSES, **NOT_FOUND_RESPONSE},
    tags=["Trust scoring"],
)
def get_trust_score(agent_id: AgentId, workspace_id: WorkspaceId) -> TrustScoreResponse:
    return get_trust_service().get(workspace_id, agent_id)


@app.get(
    f"{API_PREFIX}/trust-scores",
    summary="Every agent's trust score (get_all_trust_scores / get_trusted_agents)",
    description="`min_trust` keeps agents whose `overall_trust_score` reaches it (the seed's trusted agents).",
    responses={**OK_RESPONSE, **ERROR_RESPONSES},
    tags=["Trust scoring"],
)
def list_trust_scores(
    workspace_id: WorkspaceId,
    min_trust: Annotated[float | None, Query(ge=0, le=1)] = None,
    sort_by: Annotated[TrustSortKey, Query()] = TrustSortKey.OVERALL,
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc",
) -> TrustScoreList:
    return get_trust_service().list(
        workspace_id, min_trust=min_trust, sort_by=sort_by, descending=order == "desc"
    )


@app.get(
    f"{API_PREFIX}/trust-scores/<agent_id>/history",
    summary="An agent's trust over time (one snapshot per trust-refresh run)",
    responses={**OK_RESPONSE, **ERROR_RESPONSES, **NOT_FOUND_RESPONSE},
    tags=["Trust scoring"],
)
def get_trust_history(
    agent_id: AgentId,
    workspace_id: WorkspaceId,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE * 4)] = 120,
) -> TrustHistory:
    return get_trust_service().history(workspace_id, agent_id, limit=limit)


@app.get(
    f"{API_PREFIX}/agents/<agent_id>/decision-boost",
    summary="Confidence boost for an agent on a recommendation type (get_agent_decision_boost)",
    description="In [0.5, 1.5]; exactly 1.0 without evidence. Formula in docs/trust.md.",
    responses={**OK_RESPONSE, **ERROR_RESPONSES},
    tags=["Trust scoring"],
)
def get_decision_boost(
    agent_id: AgentId,
    workspace_id: WorkspaceId,
    recommendation_type: Annotated[str, Query(pattern=r"^[a-z][a-z0-9_]{0,39}$")],
) -> DecisionBoostResponse:
    return get_trust_service().decision_boost(workspace_id, agent_id, recommendation_type)


@app.get(
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


@app.get(
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


@app.get(
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


@app.get(
    f"{API_PREFIX}/series/routing",
    summary="How often routing chose each agent, day by day",
    description="Counted from the logged routing decisions of the window.",
    responses={**OK_RESPONSE, **ERROR_RESPONSES},
    tags=["Time series"],
)
def get_routing_series(workspace_id: WorkspaceId, days: SeriesDays = DEFAULT_SERIES_DAYS) -> RoutingSeries:
    return get_series_service().routing(workspace_id, days=days)


@app.get(
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


@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH, clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    # Refused requests (no caller, oversized body, another workspace) never reach a route.
    return refusal(event) or app.resolve(event, context)
