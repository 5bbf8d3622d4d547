"""Python client for the swarm learning service.

>>> client = SwarmLearningClient("http://127.0.0.1:3000", api_key, workspace_id="ws_demo")
>>> rid = client.track(agent_id="STRAT-01", recommendation_type="strategy", recommendation_content={...}, confidence_score=0.8)
"""

from swarm_learning_client._http import Backoff
from swarm_learning_client.aio import AsyncSwarmLearningClient
from swarm_learning_client.client import SwarmLearningClient, TrackingClient, in_lambda
from swarm_learning_client.errors import ApiError, CycleTimeoutError, SwarmLearningError, TransportError
from swarm_learning_client.ids import new_outcome_id, new_recommendation_id
from swarm_learning_client.models import (
    AgentProfile,
    AgentRecommendation,
    Alert,
    AlertPage,
    DecisionBoost,
    DecisionRule,
    Estimate,
    EventFailure,
    LearningCycle,
    Pattern,
    PolicyEstimate,
    RoutedAgent,
    RoutingDecision,
    RoutingEvaluation,
    TrustScore,
    WorkspaceSettings,
)
from swarm_learning_client.sender import BatchSender, SenderStats
from swarm_learning_client.workflow import Workflow, current_workflow

__all__ = [
    "AgentProfile",
    "AgentRecommendation",
    "Alert",
    "AlertPage",
    "ApiError",
    "AsyncSwarmLearningClient",
    "Backoff",
    "BatchSender",
    "CycleTimeoutError",
    "DecisionBoost",
    "DecisionRule",
    "Estimate",
    "EventFailure",
    "LearningCycle",
    "Pattern",
    "PolicyEstimate",
    "RoutedAgent",
    "RoutingDecision",
    "RoutingEvaluation",
    "SenderStats",
    "SwarmLearningClient",
    "SwarmLearningError",
    "TrackingClient",
    "TransportError",
    "TrustScore",
    "Workflow",
    "WorkspaceSettings",
    "current_workflow",
    "in_lambda",
    "new_outcome_id",
    "new_recommendation_id",
]
__version__ = "0.1.0"
