"""The trust services the handlers call, built once per process: the specification's TrustScorer
(``TrustScores``), routing over it and the refresh job, sharing one ``TrustScores``."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from swarm_learning.config import get_settings
from swarm_learning.dal.learner_state import get_learner_store
from swarm_learning.dal.store import get_store
from swarm_learning.services.trust.routing import Routing
from swarm_learning.services.trust.scores import TrustScores, trust_config

if TYPE_CHECKING:
    from swarm_learning.services.trust.refresh import TrustRefresh


@cache
def get_trust_scores() -> TrustScores:
    settings = get_settings()
    return TrustScores(get_store(), settings, trust_config(settings))


@cache
def get_routing() -> Routing:
    return Routing(get_trust_scores(), get_store(), learner=get_learner_store())


@cache
def get_trust_refresh() -> TrustRefresh:
    return load_trust_refresh()(get_trust_scores(), get_store())


def load_trust_refresh() -> type[TrustRefresh]:
    """The refresh job's class, imported on first use: of the API routes only the trust history
    reads it, and with it the agent alerts it raises."""
    from swarm_learning.services.trust.refresh import TrustRefresh

    return TrustRefresh
