"""Learning function: trigger learning cycles and read what they learned (patterns, agent profiles,
decision rules), and whether a cycle should run."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.metrics import MetricUnit

from swarm_learning.api.handler import api_handler
from swarm_learning.api.http import (
    API_PREFIX,
    ERROR_RESPONSES,
    OK_RESPONSE,
    register_error_handlers,
    resolver_options,
)
from swarm_learning.api.observability import logger, metrics
from swarm_learning.api.params import WorkspaceId
from swarm_learning.api.routes import alert_reads, learned_reads
from swarm_learning.models.learning import (
    LearningCycleAccepted,
    ShouldTriggerResponse,
    TriggerLearningCycleRequest,
)
from swarm_learning.services.learning.service import get_learned_reads, get_learning_trigger

app = APIGatewayRestResolver(**resolver_options())
register_error_handlers(app)


@app.post(
    f"{API_PREFIX}/learning-cycles/trigger",
    summary="Trigger a learning cycle (asynchronous)",
    description=(
        "Queues a cycle for the workspace and publishes the on-demand event; answers 202 with the "
        "iteration id to follow. 409 while a cycle of the workspace is running."
    ),
    responses={202: {"description": "Queued"}, **ERROR_RESPONSES},
    tags=["Meta-learning"],
)
def trigger_learning_cycle(
    request: Annotated[TriggerLearningCycleRequest, Body()],
) -> Response[LearningCycleAccepted]:
    accepted = get_learning_trigger().trigger(request)
    logger.info("learning cycle queued", extra={"iteration_id": accepted.iteration_id})
    metrics.add_metric(name="LearningCyclesTriggered", unit=MetricUnit.Count, value=1)
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=accepted)


@app.get(
    f"{API_PREFIX}/learning-cycles/should-trigger",
    summary="Whether a learning cycle should run now (the seed's should_trigger_learning_cycle)",
    description=(
        "Yes when no cycle is running and either `min_new_outcomes` outcomes arrived since the last "
        "cycle started, or `max_hours_between_cycles` passed with at least one new outcome."
    ),
    responses={**OK_RESPONSE, **ERROR_RESPONSES},
    tags=["Meta-learning"],
)
def should_trigger_learning_cycle(workspace_id: WorkspaceId) -> ShouldTriggerResponse:
    return get_learned_reads().should_trigger(workspace_id)


app.include_router(learned_reads.router)
app.include_router(alert_reads.router)

lambda_handler = api_handler(app)
