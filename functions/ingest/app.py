"""Ingest function: POST /events/batch, tracks and evaluations in one request, answered per event."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.metrics import MetricUnit

from swarm_learning.api.handler import api_handler
from swarm_learning.api.http import API_PREFIX, ERROR_RESPONSES, register_error_handlers, resolver_options
from swarm_learning.api.observability import logger, metrics
from swarm_learning.models.ingestion import EventType, IngestBatchRequest, IngestBatchResponse
from swarm_learning.services.tracking.ingestion import get_ingestor

app = APIGatewayRestResolver(**resolver_options(cors=False))  # the dashboard never sends events
register_error_handlers(app)


@app.post(
    f"{API_PREFIX}/events/batch",
    summary="Ingest a batch of tracks and evaluations",
    description=(
        "Up to 100 events, applied in order. Answers 207 with one result per event: 201 stored, "
        "200 already stored with the same body (a retry; nothing written), or the status and the "
        "field at fault that the single-event route would give (404, 409, 422), or 503 (not stored "
        "this time: send it again). Events of the same agent and day share their counter updates."
    ),
    responses={207: {"description": "One result per event"}, **ERROR_RESPONSES},
    tags=["Recommendation tracking"],
)
def ingest_batch(request: Annotated[IngestBatchRequest, Body()]) -> Response[IngestBatchResponse]:
    answer = get_ingestor().ingest(request)
    stored = [r for r in answer.results if r.status == HTTPStatus.CREATED]
    tracks = sum(1 for r in stored if r.type is EventType.TRACK)
    logger.info("batch ingested", extra={"received": answer.received, "stored": answer.stored})
    metrics.add_metric(name="RecommendationsTracked", unit=MetricUnit.Count, value=tracks)
    metrics.add_metric(name="OutcomesEvaluated", unit=MetricUnit.Count, value=len(stored) - tracks)
    metrics.add_metric(name="BatchEventsFailed", unit=MetricUnit.Count, value=answer.failed)
    return Response(status_code=207, content_type=content_types.APPLICATION_JSON, body=answer)


lambda_handler = api_handler(app)
