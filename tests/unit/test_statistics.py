"""The profile trend's word: the trust trend's test applied to an agent's later and earlier halves."""

from __future__ import annotations

import pytest

from swarm_learning.domain.statistics import halves_trend
from swarm_learning.vocabulary import Trend


@pytest.mark.parametrize(
    ("evaluated", "rate", "slope", "expected"),
    [
        (400, 0.5, 0.30, Trend.IMPROVING),  # z = 0.30 / 0.05 = 6
        (400, 0.5, -0.30, Trend.DECLINING),
        (400, 0.5, 0.12, Trend.STABLE),  # z = 2.4 < 3: could be noise
        (40_000, 0.5, 0.04, Trend.STABLE),  # significant but under the minimum difference
        (1, 1.0, 0.0, Trend.STABLE),  # no earlier half
        (400, 1.0, 0.0, Trend.STABLE),  # every outcome approved: no spread, no change
    ],
)
def test_halves_trend(evaluated: int, rate: float, slope: float, expected: Trend) -> None:
    assert halves_trend(evaluated, rate, slope, min_difference=0.05, z_threshold=3.0) == expected
