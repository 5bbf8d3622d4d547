"""Path and query parameters shared by the handlers (validated by the resolver, documented in the
OpenAPI document)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from swarm_learning.ids import IDENTIFIER_PATTERN as ID_PATTERN

ITERATION_ID_PATTERN = r"^iter_[0-9A-HJKMNP-TV-Z]{26}$"

WorkspaceId = Annotated[str, Query(pattern=ID_PATTERN, description="The workspace the data belongs to.")]
AgentId = Annotated[str, Path(pattern=ID_PATTERN)]
IterationId = Annotated[str, Path(pattern=ITERATION_ID_PATTERN)]
