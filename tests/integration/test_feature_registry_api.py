"""A learning feature added through the registry alone (issue 24): one ``Feature`` entry, computed
from a field the store already keeps, is planted in a swarm, mined, validated, published by
``GET /patterns`` and turned into a decision-rule condition, through the API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from localdev.planted import PLANTED, PlantedPattern
from swarm_learning.domain.feature_registry import FEATURES, YES_NO, Feature
from tests.helpers.api import Api
from tests.helpers.learning import PREFIX, WS, get, trigger
from tests.helpers.seeding import seed

pytestmark = pytest.mark.slow  # seeds about 350 evaluated recommendations

DETAILED = Feature(
    "detailed",
    "detailed content",
    "the content carries three or more top-level keys",
    condition="detailed_content",
    values=YES_NO,
    of_row=lambda row: YES_NO[len(row.content_keys) >= 3],
)
# Consensus first, as by default; then high confidence succeeds when the content is detailed.
WITH_DETAIL = (
    PLANTED[0],
    PlantedPattern("detailed high confidence", ("confidence=high", "detailed=yes"), 0.99),
    PlantedPattern("terse high confidence", ("confidence=high", "detailed=no"), 0.5),
    *PLANTED[1:],
)
SOURCE = ("confidence=high", "detailed=yes")


@pytest.fixture(scope="module")
def learned(embedded_aws: Any) -> Iterator[tuple[Api, dict[str, Any]]]:
    from localdev import runtime

    runtime.empty_aws(embedded_aws)
    with FEATURES.extended(DETAILED):
        api = Api(embedded_aws)
        evaluated = seed(200, planted=WITH_DETAIL)
        status, accepted = trigger(api)
        assert status == 202, accepted
        assert embedded_aws.deliver_events() == 1
        status, iteration = get(api, f"/learning-cycles/{accepted['iteration_id']}")
        assert iteration["status"] == "succeeded", iteration
        assert iteration["result"]["samples_analyzed"] == evaluated
        yield api, iteration["result"]


def test_the_feature_is_mined_and_published(learned: tuple[Api, dict[str, Any]]) -> None:
    api, result = learned
    status, page = get(api, "/patterns", category="high_confidence")
    assert status == 200
    found = {tuple(p["condition"]): p for p in page["items"]}
    assert SOURCE in found, sorted(found)
    pattern = found[SOURCE]
    assert pattern["success_rate"] > 0.95
    assert pattern["confidence_level"] >= 0.7
    assert "detailed=yes" in pattern["description"]
    # Validated out of sample like every feature: the held-out rows were judged.
    assert result["validation_judged"] > 0
    assert result["iteration_accuracy"] is not None


def test_the_feature_is_revalidated_by_the_pattern_refresh(learned: tuple[Api, dict[str, Any]]) -> None:
    api, _ = learned
    api.functions.run_job("pattern-refresh")
    _, page = get(api, "/patterns", category="high_confidence")
    refreshed = {tuple(p["condition"]): p for p in page["items"]}
    assert refreshed[SOURCE]["last_validated_at"] is not None


def test_the_feature_becomes_a_rule_condition(learned: tuple[Api, dict[str, Any]]) -> None:
    api, _ = learned
    rule_id = "fast_track_high_confidence:" + "&".join(SOURCE)

    def suggested(context: dict[str, Any]) -> dict[str, Any]:
        status, body = api.call(
            "POST", f"{PREFIX}/decision-rules/suggest", body={"workspace_id": WS, "context": context}
        )
        assert status == 200, body
        return {rule["rule_id"]: rule for rule in body["items"]}

    rule = suggested({"detailed_content": "yes"})[rule_id]
    assert rule["conditions"] == {"detailed_content": "yes"}
    assert rule["source"] == list(SOURCE)
    assert rule_id not in suggested({"detailed_content": "no"})
