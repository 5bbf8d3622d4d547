"""Configuration is validated once, at startup."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from swarm_learning.config import Settings
from swarm_learning.services.trust.scores import trust_config


def test_settings_reject_inverted_outcome_thresholds() -> None:
    base = {"RECOMMENDATIONS_TABLE": "r", "STATISTICS_TABLE": "s"}
    assert Settings.model_validate(base).outcome_approved_min == 70
    with pytest.raises(ValidationError, match="OUTCOME_PARTIAL_MIN"):
        Settings.model_validate({**base, "OUTCOME_APPROVED_MIN": "50", "OUTCOME_PARTIAL_MIN": "60"})


def test_trust_settings_parse_weights_and_reject_bad_ones() -> None:
    base = {"RECOMMENDATIONS_TABLE": "r", "STATISTICS_TABLE": "s"}
    config = trust_config(
        Settings.model_validate({**base, "TRUST_WEIGHTS": "0.5,0.2,0.1,0.2", "TRUST_HALF_LIFE_DAYS": "14"})
    )
    assert config.weights.accuracy == 0.5
    assert config.half_life_days == 14
    assert trust_config(Settings.model_validate(base)).weights.accuracy == 0.40
    with pytest.raises(ValidationError, match="TRUST_WEIGHTS"):
        Settings.model_validate({**base, "TRUST_WEIGHTS": "0.5,0.5,0.5,0.5"})
