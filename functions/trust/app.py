"""Trust function: register agents, manual trust updates, routing decisions, and the workspace's
settings (PUT /workspace-settings)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.metrics import MetricUnit

from swarm_learning.api.handler import api_handler
from swarm_learning.api.http import (
    API_PREFIX,
    ERROR_RESPONSES,
    NOT_FOUND_RESPONSE,
    OK_RESPONSE,
    register_error_handlers,
    resolver_options,
)
from swarm_learning.api.observability import logger, metrics
from swarm_learning.api.params import AgentId
from swarm_learning.api.routes import workspace_settings
from swarm_learning.models.routing_evaluation import RoutingEvaluationRequest, RoutingEvaluationResponse
from swarm_learning.models.trust import (
    InitializeTrustRequest,
    RoutingDecision,
    RoutingRequest,
    TrustAdjustmentResponse,
    TrustScoreResponse,
    TrustScoreUpdate,
)
from swarm_learning.services.trust.evaluation import get_routing_evaluation
from swarm_learning.services.trust.service import get_routing, get_trust_scores

app = APIGatewayRestResolver(**resolver_options())
register_error_handlers(app)


@app.post(
    f"{API_PREFIX}/trust-scores",
    summary="Initialize an agent's trust score (register the agent)",
    description="Idempotent: 201 when the agent is new, 200 when it was already known (its name is updated).",
    responses={
        201: {"description": "Registered"},
        200: {"description": "Already registered"},
        **ERROR_RESPONSES,
    },
    tags=["Trust scoring"],
)
def initialize_trust_score(
    request: Annotated[InitializeTrustRequest, Body()],
) -> Response[TrustScoreResponse]:
    trust, created = get_trust_scores().initialize(request)
    if created:
        metrics.add_metric(name="AgentsRegistered", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=201 if created else 200, content_type=content_types.APPLICATION_JSON, body=trust
    )


@app.post(
    f"{API_PREFIX}/trust-scores/<agent_id>/adjustments",
    summary="Manual trust update (the seed's TrustScoreUpdate)",
    description=(
        "`delta = learning_rate * (outcome_quality_score / 100 - 0.5 + impact)` for accuracy and "
        "consistency, each bounded by the learning rate, all adjustments together by ±0.25; recorded "
        "with its reason; the evidence is never rewritten."
    ),
    responses={**OK_RESPONSE, **ERROR_RESPONSES, **NOT_FOUND_RESPONSE},
    tags=["Trust scoring"],
)
def adjust_trust_score(
    agent_id: AgentId, update: Annotated[TrustScoreUpdate, Body()]
) -> TrustAdjustmentResponse:
    adjusted = get_trust_scores().adjust(agent_id, update)
    logger.info("trust adjusted", extra={"agent_id": agent_id, "adjustment_id": adjusted.adjustment_id})
    metrics.add_metric(name="TrustAdjustments", unit=MetricUnit.Count, value=1)
    return adjusted


@app.post(
    f"{API_PREFIX}/routing/select",
    summary="Choose agents for a task (Thompson sampling over trust posteriors)",
    description=(
        "Draws each candidate's success rate for the recommendation type from its Beta posterior "
        "and picks the k highest (`explore`), or the k best lower bounds (`exploit`). Each choice "
        "carries the probability that the policy picks it; the decision is logged under its id."
    ),
    responses={**OK_RESPONSE, **ERROR_RESPONSES},
    tags=["Routing"],
)
def select_agents(request: Annotated[RoutingRequest, Body()]) -> RoutingDecision:
    if request.correlation_id:
        logger.set_correlation_id(request.correlation_id)
    decision = get_routing().route(request)
    logger.info(
        "routing decision",
        extra={"decision_id": decision.decision_id, "chosen": [c.agent_id for c in decision.chosen]},
    )
    metrics.add_metric(name="RoutingDecisions", unit=MetricUnit.Count, value=1)
    return decision


@app.post(
    f"{API_PREFIX}/routing/evaluate",
    summary="Is routing helping? Off-policy estimates of routing policies from the logged decisions",
    description=(
        "Joins each logged decision of the window to the outcome of the recommendation its first-seated "
        "agent made for it (`decision_id`), and estimates, from the logged first-slot probabilities, "
        "the approval rate (approved 1, partial 1/2) each policy would have achieved: IPS, SNIPS and "
        "doubly robust (reward model: the logged posterior mean), each with a 95 % interval. Decisions "
        "with k > 1 are judged on their first slot. Reads only."
    ),
    responses={**OK_RESPONSE, **ERROR_RESPONSES},
    tags=["Routing"],
)
def evaluate_routing(request: Annotated[RoutingEvaluationRequest, Body()]) -> RoutingEvaluationResponse:
    evaluation = get_routing_evaluation().evaluate(request)
    logger.info(
        "routing evaluated",
        extra={"decisions": evaluation.decisions, "policies": len(evaluation.policies)},
    )
    return evaluation


app.include_router(workspace_settings.writes)

lambda_handler = api_handler(app)
