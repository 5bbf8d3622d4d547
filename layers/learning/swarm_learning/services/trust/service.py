"""The trust services the handlers call, built once per process: the specification's TrustScorer
(``TrustScores``), routing over it and the refresh job, sharing one ``TrustScores``."""

from __future__ import annotations

from functools import cache

from swarm_learning.config import get_settings
from swarm_learning.dal.learner_state import get_learner_store
from swarm_learning.dal.store import get_store
from swarm_learning.services.trust.refresh import TrustRefresh
from swarm_learning.services.trust.routing import Routing
from swarm_learning.services.trust.scores import TrustScores, trust_config


@cache
def get_trust_scores() -> TrustScores:
    settings = get_settings()
    return TrustScores(get_store(), settings, trust_config(settings))


@cache
def get_routing() -> Routing:
    return Routing(get_trust_scores(), get_store(), learner=get_learner_store())


@cache
def get_trust_refresh() -> TrustRefresh:
    return TrustRefresh(get_trust_scores(), get_store())
