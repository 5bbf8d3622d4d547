"""Learning function: trigger learning cycles and read what they learned (patterns, agent profiles,
decision rules), and whether a cycle should run."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from swarm_learning.api.access import refusal
from swarm_learning.api.http import (
    API_PREFIX,
    ERROR_RESPONSES,
    NOT_FOUND_RESPONSE,
    OK_RESPONSE,
    cors_config,
    register_error_handlers,
)
from swarm_learning.api.observability import CORRELATION_ID_PATH, logger, metrics, tracer
from swarm_learning.api.params import AgentId, IterationId, WorkspaceId
from swarm_learning.models.learning import (
    DEFAULT_PATTERN_PAGE,
    MAX_ITERATION_PAGE,
    MAX_PATTERN_PAGE,
    AgentProfileView,
    DecisionRuleList,
    LearningCycleAccepted,
    LearningIteration,
    LearningIterationList,
    PatternList,
    ShouldTriggerResponse,
    SuggestDecisionRulesRequest,
    TriggerLearningCycleRequest,
)
from swarm_learning.services.meta_learner import get_meta_learner
from swarm_learning.vocabulary import PatternCategory

app = APIGatewayRestResolver(
    cors=cors_config(),
    enable_validation=True,
    # A response that breaks its own schema is our bug: a 500 we see, not a 422 for the client.
    response_validation_error_http_code=HTTPStatus.INTERNAL_SERVER_ERROR,
)
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
    accepted = get_meta_learner().trigger(request)
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
    return get_meta_learner().should_trigger(workspace_id)


@app.get(
    f"{API_PREFIX}/learning-cycles",
    summary="The workspace's latest learning cycles, newest first",
    responses={**OK_RESPONSE, **ERROR_RESPONSES},
    tags=["Meta-learning"],
)
def list_learning_cycles(
    workspace_id: WorkspaceId,
    limit: Annotated[int, Query(ge=1, le=MAX_ITERATION_PAGE)] = 10,
) -> LearningIterationList:
    return get_meta_learner().iterations(workspace_id, limit=limit)


@app.get(
    f"{API_PREFIX}/learning-cycles/<iteration_id>",
    summary="A learning cycle's status and, once it succeeded, its Learning Cycle Result",
    responses={**OK_RESPONSE, **ERROR_RESPONSES, **NOT_FOUND_RESPONSE},
    tags=["Meta-learning"],
)
def get_learning_cycle(iteration_id: IterationId, workspace_id: WorkspaceId) -> LearningIteration:
    return get_meta_learner().iteration(workspace_id, iteration_id)


@app.get(
    f"{API_PREFIX}/patterns",
    summary="Discovered patterns, strongest first",
    description="Empty (with `version` null) before the workspace's first learning cycle.",
    responses={**OK_RESPONSE, **ERROR_RESPONSES},
    tags=["Meta-learning"],
)
def get_patterns(
    workspace_id: WorkspaceId,
    category: Annotated[PatternCategory | None, Query()] = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PATTERN_PAGE)] = DEFAULT_PATTERN_PAGE,
    next_token: Annotated[str | None, Query(max_length=512)] = None,
) -> PatternList:
    return get_meta_learner().patterns(
        workspace_id, category=category, min_confidence=min_confidence, limit=limit, next_token=next_token
    )


@app.get(
    f"{API_PREFIX}/agent-profiles/<agent_id>",
    summary="An agent's profile from the latest learning cycle",
    responses={**OK_RESPONSE, **ERROR_RESPONSES, **NOT_FOUND_RESPONSE},
    tags=["Meta-learning"],
)
def get_agent_profile(agent_id: AgentId, workspace_id: WorkspaceId) -> AgentProfileView:
    return get_meta_learner().agent_profile(workspace_id, agent_id)


@app.post(
    f"{API_PREFIX}/decision-rules/suggest",
    summary="Decision rules for a context (the seed's suggest_decision_rules)",
    description="The current rules whose conditions concern the decision described by `context`.",
    responses={**OK_RESPONSE, **ERROR_RESPONSES},
    tags=["Meta-learning"],
)
def suggest_decision_rules(request: Annotated[SuggestDecisionRulesRequest, Body()]) -> DecisionRuleList:
    return get_meta_learner().suggest_rules(request)


@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH, clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    # Refused requests (no caller, oversized body, another workspace) never reach a route.
    return refusal(event) or app.resolve(event, context)
