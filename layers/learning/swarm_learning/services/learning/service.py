"""The specification's MetaLearnerAgent as a service: triggers and runs learning cycles, refreshes patterns,
and serves what the cycles learned (patterns, agent profiles, decision rules, should-trigger).

A cycle streams the workspace's evaluated recommendations into columns, runs the pure cycle
(``swarm_learning.learning``), writes the result as a new learner-state version and only then makes
it current (``LearnerStateStore.publish``), all under the workspace's lease. Its iteration record
says queued → running → succeeded / failed / skipped, so a retried event never runs a cycle twice.
"""

from __future__ import annotations

from functools import cache

from swarm_learning.config import get_settings
from swarm_learning.dal.learner_state import get_learner_store
from swarm_learning.dal.store import get_store
from swarm_learning.services.learning.pattern_refresh import PatternRefresh
from swarm_learning.services.learning.reads import LearnedReads
from swarm_learning.services.learning.runner import CycleRunner
from swarm_learning.services.learning.trigger import LearningTrigger


class MetaLearner(LearningTrigger, CycleRunner, PatternRefresh, LearnedReads):
    """The specification's MetaLearnerAgent: triggers, runs and refreshes cycles, and serves their results."""


@cache
def get_meta_learner() -> MetaLearner:
    settings = get_settings()
    return MetaLearner(get_store(), get_learner_store(), settings)
