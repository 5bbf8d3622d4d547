"""``GET /alerts``: the alerts raised for a workspace, newest first (the learning function's)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from swarm_learning.api.http import API_PREFIX, ERROR_RESPONSES, OK_RESPONSE
from swarm_learning.api.params import WorkspaceId
from swarm_learning.ids import IDENTIFIER_PATTERN
from swarm_learning.models.alerts import DEFAULT_ALERT_PAGE, MAX_ALERT_PAGE, AlertPage
from swarm_learning.services.alerts.service import get_alert_reads
from swarm_learning.vocabulary import AlertKind

router = Router()


@router.get(
    f"{API_PREFIX}/alerts",
    summary="Alerts raised for the workspace, newest first",
    description=(
        "What changed: agents whose performance declined or recovered, trust crossing `min_trust`, "
        "learning cycles below target or failing, routing doing worse than the best fixed agent. "
        "Each alert is also published on the event bus with its kind as the detail-type "
        "(docs/alerts.md). Filter by `kind` and `agent_id`; page with `next_token`."
    ),
    responses={**OK_RESPONSE, **ERROR_RESPONSES},
    tags=["Alerts"],
)
def list_alerts(
    workspace_id: WorkspaceId,
    kind: Annotated[AlertKind | None, Query()] = None,
    agent_id: Annotated[str | None, Query(pattern=IDENTIFIER_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_ALERT_PAGE)] = DEFAULT_ALERT_PAGE,
    next_token: Annotated[str | None, Query(max_length=512)] = None,
) -> AlertPage:
    return get_alert_reads().page(
        workspace_id, limit=limit, next_token=next_token, kind=kind, agent_id=agent_id
    )
