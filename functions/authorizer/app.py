"""Authorizer function: the API key in ``Authorization: Bearer <key>`` -> the caller and the
workspaces it may use, handed to the API functions in the request context.

API Gateway caches the answer per key for ``AuthorizerCacheSeconds`` across every route, so the
policy allows the whole API; which workspace a request may touch is checked by the functions
(``swarm_learning.api.access``). A missing header never reaches this function (API Gateway answers
401); a wrong, revoked or expired key gets a Deny, which the API answers with 401 too. Neither is a
Lambda error, so the Errors alarm means the authorizer itself failed. The token is never logged.
"""

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from swarm_learning.api.handler import observed
from swarm_learning.api.observability import logger, metrics
from swarm_learning.services.keys.service import (
    InvalidApiKeyError,
    bearer_token,
    caller_context,
    get_key_service,
)

ANONYMOUS = "anonymous"


@observed(log_event=False)  # the event carries the secret
@event_source(data_class=APIGatewayAuthorizerRequestEvent)
def lambda_handler(event: APIGatewayAuthorizerRequestEvent, context: LambdaContext) -> dict:
    token = bearer_token(event.headers.get("Authorization"))  # headers are case-insensitive
    try:
        caller = get_key_service().authenticate(token)
    except InvalidApiKeyError as reason:
        logger.info("API key refused", extra={"reason": str(reason)})  # names the key id at most
        metrics.add_metric(name="ApiKeysRefused", unit=MetricUnit.Count, value=1)
        refused = APIGatewayAuthorizerResponse.from_route_arn(event.method_arn, principal_id=ANONYMOUS)
        refused.deny_all_routes()
        return refused.asdict()
    logger.append_keys(key_id=caller.key_id)
    metrics.add_metric(name="ApiKeysAccepted", unit=MetricUnit.Count, value=1)
    allowed = APIGatewayAuthorizerResponse.from_route_arn(
        event.method_arn,
        principal_id=caller.key_id,
        context=caller_context(caller),
        usage_identifier_key=caller.usage_key,
    )
    allowed.allow_all_routes()
    return allowed.asdict()
