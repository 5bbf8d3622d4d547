"""Evaluate function: POST /outcomes/evaluate and POST /outcomes/evaluate-workflow."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from swarm_learning.api.handler import api_handler
from swarm_learning.api.http import (
    API_PREFIX,
    CONFLICT_RESPONSE,
    ERROR_RESPONSES,
    NOT_FOUND_RESPONSE,
    OK_RESPONSE,
    register_error_handlers,
    resolver_options,
)
from swarm_learning.api.observability import logger, metrics
from swarm_learning.models.evaluation import (
    EvaluateOutcomeRequest,
    EvaluateOutcomeResponse,
    EvaluateWorkflowRequest,
    EvaluateWorkflowResponse,
    WorkflowItemStatus,
)
from swarm_learning.services.tracking.tracker import get_tracker
from swarm_learning.vocabulary import Outcome

app = APIGatewayRestResolver(**resolver_options())
register_error_handlers(app)


def _count_outcome(outcome: Outcome, count: int = 1) -> None:
    with single_metric(
        name="OutcomesEvaluated",
        unit=MetricUnit.Count,
        value=count,
        default_dimensions=metrics.default_dimensions,
    ) as metric:
        metric.add_dimension(name="outcome", value=outcome.value)


@app.post(
    f"{API_PREFIX}/outcomes/evaluate",
    summary="Evaluate a recommendation's outcome",
    description=(
        "Stores the outcome, settles the recommendation and updates the agent's statistics in one "
        "transaction. Without `outcome`, it is derived from `overall_quality_score` "
        "(>= 70 approved, >= 40 partial, else rejected; configurable). A second evaluation is a 409."
    ),
    responses={**OK_RESPONSE, **ERROR_RESPONSES, **NOT_FOUND_RESPONSE, **CONFLICT_RESPONSE},
    tags=["Outcome evaluation"],
)
def evaluate_outcome(request: Annotated[EvaluateOutcomeRequest, Body()]) -> EvaluateOutcomeResponse:
    evaluated = get_tracker().evaluate(request)
    logger.info(
        "outcome evaluated",
        extra={"recommendation_id": evaluated.recommendation_id, "outcome": evaluated.outcome.value},
    )
    _count_outcome(evaluated.outcome)
    return evaluated


@app.post(
    f"{API_PREFIX}/outcomes/evaluate-workflow",
    summary="Evaluate every recommendation of a workflow",
    description=(
        "Scores each recommendation of the workflow (all of them, or those listed) with the "
        "workflow's quality and feedback, or a per-recommendation override. Each one is settled "
        "in its own transaction; `results` reports every one, including those that failed."
    ),
    responses={**OK_RESPONSE, **ERROR_RESPONSES, **NOT_FOUND_RESPONSE},
    tags=["Outcome evaluation"],
)
def evaluate_workflow_outcome(
    request: Annotated[EvaluateWorkflowRequest, Body()],
) -> EvaluateWorkflowResponse:
    summary = get_tracker().evaluate_workflow(request)
    logger.info(
        "workflow evaluated",
        extra={"workflow_id": summary.workflow_id, "evaluated": summary.evaluated, "failed": summary.failed},
    )
    for outcome, count in summary.outcomes.items():
        if count:
            _count_outcome(outcome, count)
    # Already-evaluated items are a benign re-run, not a failure worth an alarm.
    failures = sum(
        r.status not in (WorkflowItemStatus.EVALUATED, WorkflowItemStatus.ALREADY_EVALUATED)
        for r in summary.results
    )
    if failures:
        metrics.add_metric(name="WorkflowEvaluationFailures", unit=MetricUnit.Count, value=failures)
    return summary


lambda_handler = api_handler(app)
