"""The one decorator stack every function's ``lambda_handler`` runs under, and the API handler built
on it: refused requests answered before the resolver, the rest resolved by the function's routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from swarm_learning.api import snapstart
from swarm_learning.api.access import refusal
from swarm_learning.api.observability import CORRELATION_ID_PATH, logger, metrics, tracer

Handler = Callable[[Any, Any], dict[str, Any]]


def observed(
    *, log_event: bool | None = None, correlation_id_path: str | None = None
) -> Callable[[Handler], Handler]:
    """Logger with the Lambda context (state cleared per invocation: a warm container must not tag
    one request with the last one's keys), metrics flushed with a cold-start metric, X-Ray."""

    snapstart.install()  # every function: a SnapStart restore makes its per-instance state again

    def wrap(handler: Handler) -> Handler:
        traced = tracer.capture_lambda_handler(handler)
        measured = metrics.log_metrics(capture_cold_start_metric=True)(traced)
        return logger.inject_lambda_context(
            log_event=log_event, correlation_id_path=correlation_id_path, clear_state=True
        )(measured)

    return wrap


def job_handler(handler: Handler) -> Handler:
    """A scheduled or event-driven function: the event is small and carries no secret, so it is logged."""
    return observed(log_event=True)(handler)


def api_handler(app: APIGatewayRestResolver, *, on_context: Callable[[Any], None] | None = None) -> Handler:
    """The ``lambda_handler`` of an API function serving ``app``'s routes. ``on_context`` sees each
    invocation's context first (idempotency needs its remaining time)."""

    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if on_context is not None:
            on_context(context)
        # Refused requests (no caller, oversized body, another workspace) never reach a route.
        return refusal(event) or app.resolve(event, context)

    return observed(correlation_id_path=CORRELATION_ID_PATH)(lambda_handler)
