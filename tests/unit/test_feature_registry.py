"""The feature registry: every feature declared once, the rest derived from it (issue 24)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from localdev.feature_docs import LEARNING_DOC, with_features_table
from localdev.planted import PLANTED, PlantedPattern, planted_workflows
from swarm_learning.domain import cycle
from swarm_learning.domain import features as ft
from swarm_learning.domain.evaluated import EvaluatedRow
from swarm_learning.domain.feature_registry import FEATURES, YES_NO, Feature
from swarm_learning.domain.patterns import Pattern
from swarm_learning.vocabulary import PatternCategory, Strength
from tests.helpers.mining import planted_table, row

START = datetime(2026, 11, 1, tzinfo=UTC)
# A feature computed row by row from a field the store already yields.
DETAILED = Feature(
    "detailed",
    "detailed content",
    "the content carries three or more top-level keys",
    condition="detailed_content",
    values=YES_NO,
    of_row=lambda r: YES_NO[len(r.content_keys) >= 3],
)


def _pattern(*condition: str, category: PatternCategory = PatternCategory.FAILURE_AVOIDANCE) -> Pattern:
    return Pattern(condition, category, 0.1, 40, 0.99, 0.2, Strength.STRONG)


def test_the_docs_table_is_the_registry_s() -> None:
    text = LEARNING_DOC.read_text()
    assert with_features_table(text) == text, "run `make docs-features`"


def test_the_mined_slots_and_rule_conditions_come_from_the_registry() -> None:
    table = planted_table(seed=3, n=300)
    assert [slot.name for slot in table.slots()] == [f.name for f in FEATURES.categorical()]
    assert FEATURES.condition_names() == {
        "type": "recommendation_type",
        "confidence": "confidence_band",
        "consensus": "consensus",
        "expert": "expert",
        "dissent": "dissent",
        "has": "content_key",
    }


def test_an_item_the_rules_do_not_know_never_crashes_a_cycle() -> None:
    patterns = [
        _pattern("agent=A", "evidence=yes"),  # a feature no longer (or never) registered
        _pattern("agent=B", "malformed"),
        _pattern("agent=C", "confidence=low"),
    ]
    table = planted_table(seed=3, n=300)
    made = cycle.rules(patterns, table)
    # No rule can state the unknown item: dropping it would turn "avoid A when …" into "avoid A".
    assert [rule.rule_id for rule in made] == ["avoid_agents:agent=C&confidence=low"]
    # The cycle's validation and the pattern refresh read such an item as matching no row.
    assert not table.mask(("evidence=yes",)).any()


def test_a_registered_feature_without_a_rule_condition_never_crashes_a_cycle() -> None:
    silent = Feature(
        "silent", "silent", "no rule condition", condition=None, values=YES_NO, of_row=lambda r: "yes"
    )
    with FEATURES.extended(silent):
        rows = list(planted_workflows(400, seed=5, start=START))
        table = ft.build(r.row() for workflow in rows for r in workflow)
        result = cycle.run_cycle("ws", table, iteration_id="it", started_at=START)
        assert result.samples_analyzed == len(table)
        assert all("silent" not in rule.conditions for rule in result.rules)
        assert cycle.rules([_pattern("agent=A", "silent=yes")], table) == []


def test_a_row_wise_feature_is_built_sliced_and_matched() -> None:
    rows = [
        row(i, "A", i % 2 == 0, content={"a": 1, "b": 2, "c": i} if i % 3 else {"a": i}) for i in range(9)
    ]
    with FEATURES.extended(DETAILED):
        table = ft.build(rows)
        assert table.codes["detailed"].tolist() == [0, 1, 1, 0, 1, 1, 0, 1, 1]
        assert table.detailed.tolist() == table.codes["detailed"].tolist()
        assert table.mask(("detailed=yes",)).sum() == 6
        assert table.rows(3, 6).codes["detailed"].tolist() == [0, 1, 1]
        assert FEATURES.condition_name("detailed") == "detailed_content"
        assert "| detailed content | `detailed=no/yes` | `detailed_content` |" in FEATURES.docs_table()
    assert FEATURES.get("detailed") is None  # registered for the block only
    assert "detailed" not in ft.build(rows).codes


def test_a_row_wise_feature_names_only_its_values() -> None:
    wrong = Feature("wrong", "wrong", "", condition="wrong", values=YES_NO, of_row=lambda r: "maybe")
    with FEATURES.extended(wrong), pytest.raises(ValueError, match="maybe"):
        ft.build([row(0, "A", True)])


def test_the_registry_refuses_duplicates_and_incomplete_features() -> None:
    with pytest.raises(ValueError, match="unique"), FEATURES.extended(DETAILED, DETAILED):
        pass
    with pytest.raises(ValueError, match="exactly one of column and of_row"):
        Feature("x", "x", "", condition="x", values=YES_NO)
    with pytest.raises(ValueError, match="values"):
        Feature("x", "x", "", condition="x", of_row=lambda r: "a")


def test_a_planted_swarm_plants_a_registered_feature() -> None:
    planted = (PlantedPattern("detailed fails", ("detailed=yes",), 0.0), *PLANTED)
    with FEATURES.extended(DETAILED):
        recommendations = [r for w in planted_workflows(300, seed=2, start=START, planted=planted) for r in w]
    detailed = [r for r in recommendations if DETAILED.of_row and DETAILED.of_row(r.row()) == "yes"]
    assert detailed
    assert all(r.success_probability == 0.0 and not r.approved for r in detailed)


def test_the_default_planted_swarm_is_unchanged() -> None:
    """The truths the planted patterns set, as the generator wrote them by hand before."""
    for workflow in planted_workflows(300, seed=4, start=START):
        for r in workflow:
            if len(workflow) == 3 and len({r.row().action_key for r in workflow}) == 1:
                expected = 0.95
            elif r.agent_id == "EXPERT-01" and r.recommendation_type == "content":
                expected = 0.92
            elif r.confidence_score < 0.5:
                expected = 0.10
            elif r.confidence_score >= 0.8:
                expected = 0.90
            else:
                expected = 0.5
            assert r.success_probability == expected


def test_features_that_depend_on_other_recommendations_cannot_be_planted() -> None:
    with pytest.raises(ValueError, match="expert"):
        next(planted_workflows(1, seed=1, start=START, planted=(PlantedPattern("x", ("expert=yes",), 0.9),)))


def test_a_row_is_coded_by_the_feature() -> None:
    base = EvaluatedRow("A", "strategy", "w1", 0.9, "k", ("action", "budget", "channels"), 0.0, True)
    assert DETAILED.code_of_row(base) == 1
    assert DETAILED.code_of_row(base._replace(content_keys=("action",))) == 0
