"""Track function: POST /recommendations/track."""

from functools import cache
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from swarm_learning.api.access import refusal
from swarm_learning.api.http import (
    API_PREFIX,
    CONFLICT_RESPONSE,
    ERROR_RESPONSES,
    cors_config,
    error_response,
    register_error_handlers,
)
from swarm_learning.api.observability import CORRELATION_ID_PATH, logger, metrics, tracer
from swarm_learning.config import get_settings
from swarm_learning.models.reads import ErrorDetail
from swarm_learning.models.tracking import TrackRecommendationRequest, TrackRecommendationResponse
from swarm_learning.services.tracking import get_tracker

app = APIGatewayRestResolver(
    cors=cors_config(),
    enable_validation=True,
    # A response that breaks its own schema is our bug: a 500 we see, not a 422 for the client.
    response_validation_error_http_code=HTTPStatus.INTERNAL_SERVER_ERROR,
)
register_error_handlers(app)


@app.exception_handler(IdempotencyValidationError)
def idempotency_key_reused(_: IdempotencyValidationError) -> Response:
    detail = ErrorDetail(field="Idempotency-Key", message="key was already used with a different body")
    return error_response(app, 422, "idempotency_key_reused", detail.message, [detail])


@app.exception_handler(IdempotencyAlreadyInProgressError)
def idempotent_request_in_flight(_: IdempotencyAlreadyInProgressError) -> Response:
    detail = ErrorDetail(field="Idempotency-Key", message="a request with this key is still in progress")
    return error_response(app, 409, "request_in_progress", detail.message, [detail])


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=r"^[A-Za-z0-9_.:\-]{8,128}$",
        description="Retries with the same key return the first answer and store one item.",
    ),
]

idempotency_config = IdempotencyConfig(
    # Keys are scoped to the workspace; the body must match the first call's body.
    event_key_jmespath="[request.workspace_id, idempotency_key]",
    payload_validation_jmespath="request",
    expires_after_seconds=get_settings().idempotency_ttl_seconds,
)


class _KeyedTrack(BaseModel):
    idempotency_key: str
    request: TrackRecommendationRequest


@cache
def _track_once():  # type: ignore[no-untyped-def]
    persistence = DynamoDBPersistenceLayer(table_name=get_settings().idempotency_table)

    @idempotent_function(
        data_keyword_argument="command",
        config=idempotency_config,
        persistence_store=persistence,
        output_serializer=PydanticSerializer,
    )
    def track(command: _KeyedTrack) -> TrackRecommendationResponse:
        return get_tracker().track(command.request)

    return track


@app.post(
    f"{API_PREFIX}/recommendations/track",
    summary="Track a recommendation",
    description="Records a recommendation an agent made; it stays `pending` until evaluated.",
    responses={
        201: {"description": "Tracked"},
        200: {"description": "Already tracked with this client-minted id and body; nothing written"},
        **ERROR_RESPONSES,
        **CONFLICT_RESPONSE,
    },
    tags=["Recommendation tracking"],
)
def track_recommendation(
    request: Annotated[TrackRecommendationRequest, Body()],
    idempotency_key: IdempotencyKey = None,
) -> Response[TrackRecommendationResponse]:
    if request.correlation_id:
        logger.set_correlation_id(request.correlation_id)
    if idempotency_key is None:
        tracked = get_tracker().track(request)
    else:
        tracked = _track_once()(command=_KeyedTrack(idempotency_key=idempotency_key, request=request))
    logger.info(
        "recommendation tracked",
        extra={"recommendation_id": tracked.recommendation_id, "replayed": tracked.replayed},
    )
    if tracked.replayed:  # a retry of a client-minted id: the stored answer, nothing written
        return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=tracked)
    metrics.add_metric(name="RecommendationsTracked", unit=MetricUnit.Count, value=1)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=tracked)


@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH, clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    idempotency_config.register_lambda_context(context)
    # Refused requests (no caller, oversized body, another workspace) never reach a route.
    return refusal(event) or app.resolve(event, context)
