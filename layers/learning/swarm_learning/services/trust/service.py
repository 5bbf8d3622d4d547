"""The specification's TrustScorer and the trust side of LearningIntegration, over ``LearningStore``."""

from __future__ import annotations

from functools import cache

from swarm_learning.config import get_settings
from swarm_learning.dal.learner_state import get_learner_store
from swarm_learning.dal.store import get_store
from swarm_learning.services.trust.refresh import TrustRefresh
from swarm_learning.services.trust.routing import Routing
from swarm_learning.services.trust.scores import trust_config

# A manual update moves a dimension by at most the learning rate; all of them together by at most
# this much, so adjustments can correct a score but never replace the evidence.


class TrustService(Routing, TrustRefresh):
    """The specification's TrustScorer with routing and the refresh job: what the trust handlers call."""


@cache
def get_trust_service() -> TrustService:
    settings = get_settings()
    return TrustService(get_store(), settings, trust_config(settings), learner=get_learner_store())
