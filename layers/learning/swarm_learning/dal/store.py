"""The learning store: recommendations, outcomes, statistics and routing decisions, one client."""

from __future__ import annotations

from functools import cache

from swarm_learning.config import get_settings
from swarm_learning.dal.decisions import RoutingDecisionLog
from swarm_learning.dal.expiry import ExpiryScans
from swarm_learning.dal.recommendations import RecommendationReads
from swarm_learning.dal.span_links import SpanLinks
from swarm_learning.dal.statistics import StatisticsStore
from swarm_learning.dal.writes import EventWrites


class LearningStore(
    EventWrites, RecommendationReads, StatisticsStore, ExpiryScans, RoutingDecisionLog, SpanLinks
):
    """Reads and writes of recommendations, outcomes and statistics for the domain services."""


@cache
def get_store() -> LearningStore:
    """One store (and one boto3 client) per process, created on first use, not at import."""
    return LearningStore(get_settings())
