"""Tracking behind an ``Idempotency-Key`` (Powertools idempotency on its DynamoDB table): a retry
with the same key and body gets the first answer and writes nothing; the same key with another body
is refused, and so is a retry while the first request is still running.

Powertools' idempotency package is imported on the first request with a key, not at import: most
tracks carry none (``load_idempotency`` is what SnapStart loads before its snapshot)."""

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from swarm_learning.config import get_settings
from swarm_learning.errors import IdempotencyKeyReusedError, RequestInProgressError
from swarm_learning.models.tracking import TrackRecommendationRequest, TrackRecommendationResponse
from swarm_learning.services.tracking.tracker import get_tracker

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

KEY_HEADER = "Idempotency-Key"
_context: list[Any] = [None]  # the current invocation's Lambda context


@cache
def idempotency_config() -> "IdempotencyConfig":
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    return IdempotencyConfig(
        # Keys are scoped to the workspace; the body must match the first call's body.
        event_key_jmespath="[request.workspace_id, idempotency_key]",
        payload_validation_jmespath="request",
        expires_after_seconds=get_settings().idempotency_ttl_seconds,
    )


class _KeyedTrack(BaseModel):
    idempotency_key: str
    request: TrackRecommendationRequest


def load_idempotency() -> None:
    """Import Powertools' idempotency package now (SnapStart's before-snapshot hook)."""
    import aws_lambda_powertools.utilities.idempotency.exceptions
    import aws_lambda_powertools.utilities.idempotency.serialization.pydantic  # noqa: F401


# No ``from __future__ import annotations`` here: the serializer reads ``track``'s return type.
@cache
def _track_once() -> Callable[..., TrackRecommendationResponse]:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer

    persistence = DynamoDBPersistenceLayer(table_name=get_settings().idempotency_table)

    @idempotent_function(
        data_keyword_argument="command",
        config=idempotency_config(),
        persistence_store=persistence,
        output_serializer=PydanticSerializer,
    )
    def track(command: _KeyedTrack) -> TrackRecommendationResponse:
        return get_tracker().track(command.request)

    return track


def register_context(context: Any) -> None:
    """Each invocation's Lambda context, so a request cut off by the timeout can be retried."""
    _context[0] = context  # handed to the idempotency layer by the requests with a key


def track(request: TrackRecommendationRequest, idempotency_key: str | None) -> TrackRecommendationResponse:
    """Track ``request``, once per ``idempotency_key`` when one is given."""
    if idempotency_key is None:
        return get_tracker().track(request)
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    idempotency_config().register_lambda_context(_context[0])
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
