"""Which decision rules concern a decision (pure, numpy-free: the API and routing read rules
without loading the learning cycle's column maths).

A rule's ``conditions`` name features of the decision by their rule-condition names
(``recommendation_type``, ``confidence_band``, ``consensus`` …: each feature declares its own in
``swarm_learning.domain.feature_registry``). A context that states a feature must agree with the
rule on it; a feature the context leaves out does not exclude the rule (the specification's
``task_type`` is read as ``recommendation_type``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def rule_applies(conditions: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    for name, wanted in conditions.items():
        stated = context.get(name)
        if name == "recommendation_type" and stated is None:
            stated = context.get("task_type")
        if stated is not None and str(stated) != str(wanted):
            return False
    return True


def unconditional_for_type(conditions: Mapping[str, Any], recommendation_type: str) -> bool:
    """Whether a rule holds for every decision of ``recommendation_type`` (no other condition),
    the only rules routing may act on, since it knows nothing else of the decision."""
    return (
        set(conditions) <= {"recommendation_type"}
        and conditions.get("recommendation_type", recommendation_type) == recommendation_type
    )
