"""Which decision rules concern a decision (pure, numpy-free: the API reads rules without loading
the learning cycle's column maths)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def rule_applies(conditions: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    """Whether a rule with ``conditions`` concerns a decision described by ``context``: the
    recommendation type (``recommendation_type`` or the seed's ``task_type``) must agree when both
    name one; a rule without a type applies to every decision."""
    wanted_type = conditions.get("recommendation_type")
    context_type = context.get("recommendation_type", context.get("task_type"))
    return wanted_type is None or context_type is None or wanted_type == context_type
