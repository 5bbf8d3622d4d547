"""The workspace's buckets are read with ``BASELINE_COUNTERS`` only: the baselines must come out the
same as from every counter a bucket holds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from swarm_learning.domain.counters import add_counters, evaluation_counters, tracking_counters
from swarm_learning.domain.trust_values import BASELINE_COUNTERS, Baseline
from swarm_learning.vocabulary import ExecutionStatus, Outcome

TYPES = ("strategy", "content", "analysis")

recommendation = st.tuples(
    st.sampled_from(TYPES),
    st.sampled_from(list(ExecutionStatus)),
    st.floats(0, 1),  # confidence
    st.one_of(st.none(), st.floats(0, 60_000)),  # latency
    st.one_of(st.none(), st.tuples(st.sampled_from(list(Outcome)), st.floats(0, 100), st.floats(0, 1e5))),
)


def _buckets(recommendations: list[tuple]) -> dict[str, dict[str, float]]:
    """Per type, the counters every tracked (and maybe evaluated) recommendation adds, as the
    store's buckets hold them."""
    per_type: dict[str, list[dict[str, float]]] = {}
    for rtype, status, confidence, latency, evaluation in recommendations:
        counters = [tracking_counters(status, confidence, latency)]
        if evaluation is not None:
            outcome, quality, delay = evaluation
            counters.append(evaluation_counters(outcome, confidence, quality, delay))
        per_type.setdefault(rtype, []).extend(counters)
    return {rtype: add_counters(counters) for rtype, counters in per_type.items()}


def _projected(counters: dict[str, float]) -> dict[str, float]:
    return {name: value for name, value in counters.items() if name in BASELINE_COUNTERS}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(recommendation, min_size=1, max_size=40),
    st.dictionaries(st.sampled_from(TYPES), st.floats(0, 50)),
)
def test_the_baselines_read_only_the_projected_counters(recommendations: list[tuple], shares: dict) -> None:
    per_type = _buckets(recommendations)
    projected = {rtype: _projected(counters) for rtype, counters in per_type.items()}
    total = add_counters(per_type.values())
    assert all(set(per_type[rtype]) - set(projected[rtype]) for rtype in per_type)  # it does drop some
    for rtype in per_type:
        assert Baseline.of(projected[rtype], projected[rtype]) == Baseline.of(
            per_type[rtype], per_type[rtype]
        )
    assert Baseline.for_mix(shares, projected, _projected(total)) == Baseline.for_mix(shares, per_type, total)
