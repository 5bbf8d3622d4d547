"""Read routes of trust: scores, their history and the decision boost (the query function's)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from swarm_learning.api import snapstart
from swarm_learning.api.http import (
    API_PREFIX,
    ERROR_RESPONSES,
    NOT_FOUND_RESPONSE,
    OK_RESPONSE,
)
from swarm_learning.api.params import AgentId, WorkspaceId
from swarm_learning.models.common import MAX_PAGE_SIZE
from swarm_learning.models.trust import (
    DecisionBoostResponse,
    TrustHistory,
    TrustScoreList,
    TrustScoreResponse,
    TrustSortKey,
)
from swarm_learning.services.trust.service import get_trust_refresh, get_trust_scores, load_trust_refresh

router = Router()
snapstart.load_before_snapshot(load_trust_refresh)


@router.get(
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
    return get_trust_scores().get(workspace_id, agent_id)


@router.get(
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
    return get_trust_scores().list(
        workspace_id, min_trust=min_trust, sort_by=sort_by, descending=order == "desc"
    )


@router.get(
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
    return get_trust_refresh().history(workspace_id, agent_id, limit=limit)


@router.get(
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
    return get_trust_scores().decision_boost(workspace_id, agent_id, recommendation_type)
