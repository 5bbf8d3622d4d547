"""One Logger, Tracer and Metrics for every handler (configured by POWERTOOLS_* variables)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

# Every handler injects the Lambda context with clear_state=True: a warm container keeps this
# Logger, and a key appended in one invocation (workspace, caller, iteration) must not tag the next.
logger = Logger()
# Only botocore makes outbound calls; patching just it keeps cold starts from importing every
# library the X-Ray SDK knows how to patch.
tracer = Tracer(patch_modules=["botocore"])
metrics = Metrics()

# The request's own correlation header when the caller sends one, else API Gateway's request id.
CORRELATION_ID_PATH = 'headers."X-Correlation-Id" || headers."x-correlation-id" || requestContext.requestId'
