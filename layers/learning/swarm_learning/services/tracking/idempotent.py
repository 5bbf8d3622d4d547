"""Tracking behind an ``Idempotency-Key`` (Powertools idempotency on its DynamoDB table): a retry
with the same key and body gets the first answer and writes nothing; the same key with another body
is refused, and so is a retry while the first request is still running."""

from collections.abc import Callable
from functools import cache
from typing import Any

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
from pydantic import BaseModel

from swarm_learning.config import get_settings
from swarm_learning.errors import IdempotencyKeyReusedError, RequestInProgressError
from swarm_learning.models.tracking import TrackRecommendationRequest, TrackRecommendationResponse
from swarm_learning.services.tracking.tracker import get_tracker

KEY_HEADER = "Idempotency-Key"

idempotency_config = IdempotencyConfig(
    # Keys are scoped to the workspace; the body must match the first call's body.
    event_key_jmespath="[request.workspace_id, idempotency_key]",
    payload_validation_jmespath="request",
    expires_after_seconds=get_settings().idempotency_ttl_seconds,
)


class _KeyedTrack(BaseModel):
    idempotency_key: str
    request: TrackRecommendationRequest


# No ``from __future__ import annotations`` here: the serializer reads ``track``'s return type.
@cache
def _track_once() -> Callable[..., TrackRecommendationResponse]:
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


def register_context(context: Any) -> None:
    """Each invocation's Lambda context, so a request cut off by the timeout can be retried."""
    idempotency_config.register_lambda_context(context)


def track(request: TrackRecommendationRequest, idempotency_key: str | None) -> TrackRecommendationResponse:
    """Track ``request``, once per ``idempotency_key`` when one is given."""
    if idempotency_key is None:
        return get_tracker().track(request)
    try:
        return _track_once()(command=_KeyedTrack(idempotency_key=idempotency_key, request=request))
    except IdempotencyValidationError:
        raise IdempotencyKeyReusedError(
            "key was already used with a different body", field=KEY_HEADER
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise RequestInProgressError(
            "a request with this key is still in progress", field=KEY_HEADER
        ) from None
