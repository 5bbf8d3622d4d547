"""The API contract's shared parts: size limits, constrained field types and the request/response bases.

Field names follow the specification. Size limits are part of the contract and are listed in
docs/api.md; they keep every item far below DynamoDB's 400 KB item limit.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
)

from swarm_learning.ids import (
    DECISION_ID_PATTERN,
    IDENTIFIER_PATTERN,
    OUTCOME_ID_PATTERN,
    RECOMMENDATION_ID_PATTERN,
)

T = TypeVar("T")

# ---- limits (documented in docs/api.md) -------------------------------------------------------
MAX_CORRELATION_ID_LENGTH = 128
MAX_AGENT_NAME_LENGTH = 128
MAX_TYPE_LENGTH = 40
MAX_JSON_BYTES = 32 * 1024
MAX_JSON_DEPTH = 8  # objects and lists inside recommendation_content / evidence
MAX_REASONING_CHARS = 8_000
MAX_FEEDBACK_CHARS = 4_000
MAX_QUALITY_DIMENSIONS = 20
MAX_ALTERNATIVES = 20
MAX_ALTERNATIVE_DESCRIPTION_CHARS = 500
MAX_WORKFLOW_RECOMMENDATIONS = 100
MAX_LATENCY_MS = 24 * 3600 * 1000
MAX_TOKENS = 10**9  # per recommendation
MAX_PAGE_SIZE = 100
MAX_BATCH_EVENTS = 100
DEFAULT_PAGE_SIZE = 25

Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN)]
CorrelationId = Annotated[
    str,
    StringConstraints(pattern=rf"^[A-Za-z0-9][A-Za-z0-9_.:\-]{{0,{MAX_CORRELATION_ID_LENGTH - 1}}}$"),
]
Slug = Annotated[str, StringConstraints(pattern=rf"^[a-z][a-z0-9_]{{0,{MAX_TYPE_LENGTH - 1}}}$")]
RecommendationId = Annotated[str, StringConstraints(pattern=RECOMMENDATION_ID_PATTERN)]
OutcomeId = Annotated[str, StringConstraints(pattern=OUTCOME_ID_PATTERN)]
DecisionId = Annotated[str, StringConstraints(pattern=DECISION_ID_PATTERN)]
# Enum fields of strict request models take their JSON strings ("approved"), nothing else.
Vocabulary = Annotated[T, Strict(False)]
# A computed figure as shown: the learning cycle computes in float32 (numpy), so six decimals
# keep every meaningful digit and drop the noise (-0.1499999761581421 -> -0.15).
ShownFloat = Annotated[float, AfterValidator(lambda value: round(value, 6))]
Score100 = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


def json_depth(value: Any) -> int:
    """Levels of objects and lists; iterative, since the value may be hostile input."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _bounded_json(value: dict[str, Any]) -> dict[str, Any]:
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_JSON_BYTES:
        raise ValueError(f"must serialise to at most {MAX_JSON_BYTES} bytes of JSON (got {size})")
    depth = json_depth(value)
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"must nest at most {MAX_JSON_DEPTH} levels of objects and lists (got {depth})")
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(_bounded_json)]


# defer_build: each function builds the validators of the models it uses, on first use, instead
# of every function building every model at import (a cold-start cost; see docs/benchmarks.md).
class _Request(BaseModel):
    # strict: a number sent as "1.5" or a boolean sent as "yes" is a 422, not silently coerced
    # (the resolver validates the parsed JSON in Python mode, where lax would coerce strings).
    model_config = ConfigDict(extra="forbid", defer_build=True, strict=True)


class _Response(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
