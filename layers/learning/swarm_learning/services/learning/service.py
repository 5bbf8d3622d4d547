"""The specification's MetaLearnerAgent as the services the handlers call, built once per process:
``LearningTrigger`` queues cycles, ``CycleRunner`` runs them, ``PatternRefresh`` revalidates
patterns between cycles and ``LearnedReads`` serves what the cycles learned (patterns, agent
profiles, decision rules, should-trigger).

A cycle streams the workspace's evaluated recommendations into columns, runs the pure cycle
(``swarm_learning.domain.cycle``), writes the result as a new learner-state version and only then makes
it current (``LearnerStateStore.publish``), all under the workspace's lease. Its iteration record
says queued → running → succeeded / failed / skipped, so a retried event never runs a cycle twice.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from swarm_learning.config import get_settings
from swarm_learning.dal.learner_state import get_learner_store
from swarm_learning.dal.store import get_store
from swarm_learning.services.learning.reads import LearnedReads
from swarm_learning.services.learning.trigger import LearningTrigger

if TYPE_CHECKING:
    from swarm_learning.services.learning.pattern_refresh import PatternRefresh
    from swarm_learning.services.learning.runner import CycleRunner


@cache
def get_learning_trigger() -> LearningTrigger:
    return LearningTrigger(get_store(), get_learner_store(), get_settings())


@cache
def get_cycle_runner() -> CycleRunner:
    # The jobs' services are imported by the jobs: the learning API function, which imports this
    # module for the trigger and the reads, never runs a cycle.
    from swarm_learning.services.learning.runner import CycleRunner

    return CycleRunner(get_store(), get_learner_store(), get_settings())


@cache
def get_pattern_refresh() -> PatternRefresh:
    from swarm_learning.services.learning.pattern_refresh import PatternRefresh

    return PatternRefresh(get_store(), get_learner_store(), get_settings())


@cache
def get_learned_reads() -> LearnedReads:
    return LearnedReads(get_store(), get_learner_store(), get_settings())
