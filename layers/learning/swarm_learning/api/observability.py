"""One Logger, Tracer and Metrics for every handler (configured by POWERTOOLS_* variables)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()

# The request's own correlation header when the caller sends one, else API Gateway's request id.
CORRELATION_ID_PATH = 'headers."X-Correlation-Id" || headers."x-correlation-id" || requestContext.requestId'
