"""Path and query parameters shared by the handlers (validated by the resolver, documented in the
OpenAPI document)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$"
ITERATION_ID_PATTERN = r"^iter_[0-9A-HJKMNP-TV-Z]{26}$"

WorkspaceId = Annotated[str, Query(pattern=ID_PATTERN, description="The workspace the data belongs to.")]
AgentId = Annotated[str, Path(pattern=ID_PATTERN)]
IterationId = Annotated[str, Path(pattern=ITERATION_ID_PATTERN)]
