"""Configuration is validated once, at startup."""

from __future__ import annotations

import pytest


def test_settings_reject_inverted_outcome_thresholds() -> None:
    from pydantic import ValidationError

    from swarm_learning.config import Settings

    base = {"RECOMMENDATIONS_TABLE": "r", "STATISTICS_TABLE": "s"}
    assert Settings.model_validate(base).outcome_approved_min == 70
    with pytest.raises(ValidationError, match="OUTCOME_PARTIAL_MIN"):
        Settings.model_validate({**base, "OUTCOME_APPROVED_MIN": "50", "OUTCOME_PARTIAL_MIN": "60"})
