"""Track function: POST /recommendations/track."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from aws_lambda_powertools.metrics import MetricUnit

from swarm_learning.api import snapstart
from swarm_learning.api.handler import api_handler
from swarm_learning.api.http import (
    API_PREFIX,
    CONFLICT_RESPONSE,
    ERROR_RESPONSES,
    register_error_handlers,
    resolver_options,
)
from swarm_learning.api.observability import logger, metrics
from swarm_learning.models.tracking import TrackRecommendationRequest, TrackRecommendationResponse
from swarm_learning.services.tracking import idempotent as idempotent_tracking

app = APIGatewayRestResolver(**resolver_options())
register_error_handlers(app)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=idempotent_tracking.KEY_HEADER,
        pattern=r"^[A-Za-z0-9_.:\-]{8,128}$",
        description="Retries with the same key return the first answer and store one item.",
    ),
]


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
    tracked = idempotent_tracking.track(request, idempotency_key)
    logger.info(
        "recommendation tracked",
        extra={"recommendation_id": tracked.recommendation_id, "replayed": tracked.replayed},
    )
    if tracked.replayed:  # a retry of a client-minted id: the stored answer, nothing written
        return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=tracked)
    metrics.add_metric(name="RecommendationsTracked", unit=MetricUnit.Count, value=1)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=tracked)


lambda_handler = api_handler(app, on_context=idempotent_tracking.register_context)
snapstart.load_before_snapshot(idempotent_tracking.load_idempotency)
