"""Read routes of what the learning cycles learned: iterations, patterns, agent profiles and
decision rules (the learning function's)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from swarm_learning.api import snapstart
from swarm_learning.api.http import (
    API_PREFIX,
    ERROR_RESPONSES,
    NOT_FOUND_RESPONSE,
    OK_RESPONSE,
)
from swarm_learning.api.params import AgentId, IterationId, WorkspaceId
from swarm_learning.models.learning import (
    DEFAULT_PATTERN_PAGE,
    MAX_ITERATION_PAGE,
    MAX_PATTERN_PAGE,
    AgentProfileView,
    DecisionRuleList,
    LearningIteration,
    LearningIterationList,
    PatternList,
    SuggestDecisionRulesRequest,
)
from swarm_learning.services.learning.reads import load_pattern_maths
from swarm_learning.services.learning.service import get_learned_reads
from swarm_learning.vocabulary import PatternCategory

router = Router()
snapstart.load_before_snapshot(load_pattern_maths)


@router.get(
    f"{API_PREFIX}/learning-cycles",
    summary="The workspace's latest learning cycles, newest first",
    responses={**OK_RESPONSE, **ERROR_RESPONSES},
    tags=["Meta-learning"],
)
def list_learning_cycles(
    workspace_id: WorkspaceId,
    limit: Annotated[int, Query(ge=1, le=MAX_ITERATION_PAGE)] = 10,
) -> LearningIterationList:
    return get_learned_reads().iterations(workspace_id, limit=limit)


@router.get(
    f"{API_PREFIX}/learning-cycles/<iteration_id>",
    summary="A learning cycle's status and, once it succeeded, its Learning Cycle Result",
    responses={**OK_RESPONSE, **ERROR_RESPONSES, **NOT_FOUND_RESPONSE},
    tags=["Meta-learning"],
)
def get_learning_cycle(iteration_id: IterationId, workspace_id: WorkspaceId) -> LearningIteration:
    return get_learned_reads().iteration(workspace_id, iteration_id)


@router.get(
    f"{API_PREFIX}/patterns",
    summary="Discovered patterns, strongest first",
    description="Empty (with `version` null) before the workspace's first learning cycle.",
    responses={**OK_RESPONSE, **ERROR_RESPONSES},
    tags=["Meta-learning"],
)
def get_patterns(
    workspace_id: WorkspaceId,
    category: Annotated[PatternCategory | None, Query()] = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PATTERN_PAGE)] = DEFAULT_PATTERN_PAGE,
    next_token: Annotated[str | None, Query(max_length=512)] = None,
) -> PatternList:
    return get_learned_reads().patterns(
        workspace_id, category=category, min_confidence=min_confidence, limit=limit, next_token=next_token
    )


@router.get(
    f"{API_PREFIX}/agent-profiles/<agent_id>",
    summary="An agent's profile from the latest learning cycle",
    responses={**OK_RESPONSE, **ERROR_RESPONSES, **NOT_FOUND_RESPONSE},
    tags=["Meta-learning"],
)
def get_agent_profile(agent_id: AgentId, workspace_id: WorkspaceId) -> AgentProfileView:
    return get_learned_reads().agent_profile(workspace_id, agent_id)


@router.post(
    f"{API_PREFIX}/decision-rules/suggest",
    summary="Decision rules for a context (the seed's suggest_decision_rules)",
    description="The current rules whose conditions concern the decision described by `context`.",
    responses={**OK_RESPONSE, **ERROR_RESPONSES},
    tags=["Meta-learning"],
)
def suggest_decision_rules(request: Annotated[SuggestDecisionRulesRequest, Body()]) -> DecisionRuleList:
    return get_learned_reads().suggest_rules(request)
