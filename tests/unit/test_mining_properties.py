"""Laws of the column-wise mining, checked against row-by-row counting on random swarms."""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from swarm_learning.domain import features as ft
from swarm_learning.domain import patterns as pt
from swarm_learning.domain.evaluated import EvaluatedRow

_rows = st.lists(
    st.builds(
        EvaluatedRow,
        agent_id=st.sampled_from(["A", "B", "C"]),
        recommendation_type=st.sampled_from(["strategy", "content"]),
        workflow_id=st.one_of(st.none(), st.sampled_from(["w1", "w2", "w3"])),
        confidence_score=st.floats(0, 1),
        action_key=st.sampled_from(["x", "y"]),
        content_keys=st.sampled_from([(), ("budget",), ("budget", "channels"), ("channels",)]),
        created_at=st.floats(0, 1e6),
        approved=st.booleans(),
    ),
    min_size=1,
    max_size=60,
)


def _row_items(table: ft.FeatureTable, i: int) -> set[str]:
    items = {f"{slot.name}={slot.labels[int(slot.codes[i])]}" for slot in table.slots()}
    items |= {f"has={label}" for k, label in enumerate(table.content_labels) if table.content[i, k]}
    return items


@settings(max_examples=60, deadline=None)
@given(_rows, st.integers(1, 5))
def test_itemset_counts_equal_row_by_row_counts(rows: list[EvaluatedRow], min_support: int) -> None:
    table = ft.build(rows)
    support: Counter[frozenset[str]] = Counter()
    wins: Counter[frozenset[str]] = Counter()
    for i in range(len(table)):
        items = sorted(_row_items(table, i))
        for size in (1, 2):
            for itemset in combinations(items, size):
                support[frozenset(itemset)] += 1
                wins[frozenset(itemset)] += bool(table.approved[i])
    expected = {s: n for s, n in support.items() if n >= min_support}
    found = pt.frequent_itemsets(table, min_support)
    assert found.as_dict() == expected
    for condition, won in zip(found.conditions, found.wins, strict=True):
        assert won == wins[frozenset(condition)]


@settings(max_examples=60, deadline=None)
@given(_rows)
def test_consensus_dissent_and_expertise_match_their_definitions(rows: list[EvaluatedRow]) -> None:
    table = ft.build(rows)
    ordered = sorted(rows, key=lambda r: r.created_at)  # build() orders stably by time
    agents_per_action: dict[tuple[str, str], set[str]] = defaultdict(set)
    agents_per_workflow: dict[str, set[str]] = defaultdict(set)
    for row in ordered:
        if row.workflow_id is not None:
            agents_per_action[(row.workflow_id, row.action_key)].add(row.agent_id)
            agents_per_workflow[row.workflow_id].add(row.agent_id)
    seen: Counter[str] = Counter()
    approved: Counter[str] = Counter()
    for i, row in enumerate(ordered):
        expected = len(agents_per_action[(row.workflow_id, row.action_key)]) if row.workflow_id else 1
        assert table.consensus[i] == expected
        # alone against the others: other agents took part, none proposed its action
        others = len(agents_per_workflow[row.workflow_id]) > 1 if row.workflow_id else False
        assert table.dissent[i] == (expected == 1 and others)
        n = seen[row.agent_id]
        assert table.expert[i] == (n >= ft.EXPERT_MIN_EVALUATIONS and approved[row.agent_id] > 0.75 * n)
        seen[row.agent_id] += 1
        approved[row.agent_id] += row.approved


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1), max_size=40), st.floats(0.001, 0.5))
def test_benjamini_hochberg_rejects_the_largest_passing_prefix(p_values: list[float], level: float) -> None:
    rejected = pt.benjamini_hochberg(p_values, level)
    m = len(p_values)
    ranked = sorted(p_values)
    passing = [k for k in range(1, m + 1) if ranked[k - 1] <= level * k / m]
    cutoff = ranked[passing[-1] - 1] if passing else -1.0
    assert rejected.tolist() == [p <= cutoff for p in p_values]
    # a looser level never rejects less
    assert (pt.benjamini_hochberg(p_values, min(level * 2, 1.0)) >= rejected).all()


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 200), st.integers(1, 200), st.data())
def test_the_proportion_test_is_antisymmetric_in_the_outcome(n: int, rest: int, data: st.DataObject) -> None:
    wins = data.draw(st.integers(0, n))
    rest_wins = data.draw(st.integers(0, rest))
    total, total_wins = n + rest, wins + rest_wins
    z = float(pt.proportion_z(wins, n, total_wins, total))
    flipped = float(pt.proportion_z(n - wins, n, total - total_wins, total))
    assert abs(z + flipped) < 1e-9
    if wins * rest == rest_wins * n:  # equal rates: no evidence either way
        assert z == 0
    assert 0 <= float(pt.upper_tail(z)) <= 1
