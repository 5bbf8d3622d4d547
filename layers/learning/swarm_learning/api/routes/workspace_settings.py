"""GET and PUT /workspace-settings: the workspace's allowed recommendation types, its default type
and its trust threshold. GET is served by the query function (reads only), PUT by the trust
function (it writes the statistics table)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from swarm_learning.api.http import API_PREFIX, ERROR_RESPONSES, OK_RESPONSE
from swarm_learning.api.params import WorkspaceId
from swarm_learning.models.settings import PutWorkspaceSettingsRequest, WorkspaceSettings
from swarm_learning.services.settings.service import get_workspace_settings_service

PATH = f"{API_PREFIX}/workspace-settings"
TAGS = ["Workspace settings"]

reads = Router()
writes = Router()


@reads.get(
    PATH,
    summary="The workspace's settings",
    description="Every field null (and `updated_at` null) until settings are stored.",
    responses={**OK_RESPONSE, **ERROR_RESPONSES},
    tags=TAGS,
)
def get_workspace_settings(workspace_id: WorkspaceId) -> WorkspaceSettings:
    return get_workspace_settings_service().get(workspace_id)


@writes.put(
    PATH,
    summary="Replace the workspace's settings",
    description=(
        "Replaces every setting (a field left out or null is unset). `allowed_recommendation_types` "
        "makes tracking refuse other types (422); `default_recommendation_type` must be one of them "
        "when both are set; `min_trust` is 0..1. Running functions see a change within 30 s."
    ),
    responses={**OK_RESPONSE, **ERROR_RESPONSES},
    tags=TAGS,
)
def put_workspace_settings(request: Annotated[PutWorkspaceSettingsRequest, Body()]) -> WorkspaceSettings:
    return get_workspace_settings_service().put(request)
