"""Trust that separates agents, through the API (HTTP event -> handler -> DynamoDB -> response):
dimensions judged against the workspace, a strength and a min_trust a user can act on, a trend
over the order of outcomes, and a decision boost that agrees with trust. Every recommendation is
tracked and evaluated on an injected clock that ticks one second per call (never the wall clock),
so the order of outcomes is the order of the calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from localdev.swarm import Swarm, default_swarm
from swarm_learning.models.evaluation import EvaluateOutcomeRequest
from swarm_learning.models.tracking import TrackRecommendationRequest
from swarm_learning.services.tracking.reads import get_tracked_reads
from swarm_learning.services.tracking.tracker import get_tracker
from swarm_learning.services.trust.service import get_routing, get_trust_scores
from tests.helpers.api import WORKSPACE, Api

pytestmark = pytest.mark.slow  # each test tracks and evaluates 100-200 recommendations

TRUST = "/api/v1/learning/trust-scores"
START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


class TickingClock:
    """Each reading is one second after the previous one, from a fixed start."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def clock(api: Api, monkeypatch: pytest.MonkeyPatch) -> TickingClock:
    ticking = TickingClock(START)
    for service in (get_tracker(), get_tracked_reads(), get_trust_scores(), get_routing()):
        monkeypatch.setattr(service, "_clock", ticking)
    return ticking


def _record(
    api: Api,
    agent: str,
    outcomes: str,
    *,
    rtype: str = "strategy",
    latency_ms: float = 1_000.0,
    failed_every: int = 0,
    confidence: float = 0.7,
) -> None:
    """Track and evaluate one recommendation per letter of ``outcomes``, in order: ``A`` approved
    (quality 90), ``R`` rejected (15); every ``failed_every``-th execution failed."""
    for number, letter in enumerate(outcomes, start=1):
        status = "failed" if failed_every and number % failed_every == 0 else "completed"
        rid = api.track(
            agent_id=agent,
            agent_name=f"Agent {agent}",
            recommendation_type=rtype,
            workflow_id=f"wf_{agent}_{number}",
            latency_ms=latency_ms,
            execution_status=status,
            confidence_score=confidence,
        )["recommendation_id"]
        assert api.evaluate(rid, overall_quality_score=90 if letter == "A" else 15)[0] == 200


def _listing(api: Api, **query: Any) -> dict[str, dict[str, Any]]:
    status, body = api.call("GET", TRUST, query={"workspace_id": WORKSPACE, **query})
    assert status == 200, body
    return {item["agent_id"]: item for item in body["items"]}


def test_trust_spreads_with_quality_and_min_trust_keeps_the_good_agents(
    api: Api, clock: TickingClock
) -> None:
    _record(api, "GOOD", "AAAAAAAAAR" * 4)  # 90 % approved
    _record(api, "FAIR", "AAARR" * 8)  # 60 %
    _record(api, "POOR", "ARRRR" * 8)  # 20 %
    scores = _listing(api)
    good, fair, poor = scores["GOOD"], scores["FAIR"], scores["POOR"]
    assert good["overall_trust_score"] > fair["overall_trust_score"] > poor["overall_trust_score"]
    # Latency, failures and calibration are alike for all three: those dimensions follow accuracy
    # instead of pinning everyone to one value, so the overall spread is the accuracy spread.
    for agent in (good, fair, poor):
        assert agent["timeliness_factor"] == pytest.approx(1.0)
        assert agent["reliability_factor"] == pytest.approx(1.0)
        assert agent["timeliness_score"] == pytest.approx(agent["accuracy_score"])
    spread = good["overall_trust_score"] - poor["overall_trust_score"]
    assert spread >= 0.75 * (good["accuracy_score"] - poor["accuracy_score"])  # was ~0.4x
    assert good["overall_trust_score"] >= 0.7
    trusted = _listing(api, min_trust=0.7)
    assert set(trusted) == {"GOOD"}


def test_no_agent_below_the_workspace_approval_rate_is_strong(api: Api, clock: TickingClock) -> None:
    _record(api, "BEST", "A" * 40)
    _record(api, "ALSO-BEST", "A" * 40)
    _record(api, "OK", "AAAAAAAARR" * 4)  # 80 %: good, but under this workspace's 93 %
    scores = _listing(api)
    workspace_rate = scores["OK"]["workspace_approval_rate"]
    assert scores["OK"]["approval_rate"] < workspace_rate
    assert scores["OK"]["overall_trust_score"] >= 0.6  # strong by the score alone...
    assert scores["OK"]["recommendation_strength"] == "moderate"  # ...but not against its peers
    assert scores["BEST"]["recommendation_strength"] in {"strong", "very_strong"}
    for agent in scores.values():
        if agent["approval_rate"] < agent["workspace_approval_rate"]:
            assert agent["recommendation_strength"] not in {"strong", "very_strong"}


def test_slow_and_failing_agents_lose_timeliness_and_reliability_against_the_workspace(
    api: Api, clock: TickingClock
) -> None:
    _record(api, "QUICK", "AAAR" * 10, latency_ms=1_000)
    _record(api, "SLOW", "AAAR" * 10, latency_ms=8_000)
    _record(api, "SHAKY", "AAAR" * 10, latency_ms=1_000, failed_every=4)
    scores = _listing(api)
    quick, slow, shaky = scores["QUICK"], scores["SLOW"], scores["SHAKY"]
    assert slow["timeliness_score"] < quick["timeliness_score"] <= quick["accuracy_score"] + 1e-9
    assert shaky["reliability_score"] < quick["reliability_score"]
    assert slow["overall_trust_score"] < quick["overall_trust_score"]
    assert shaky["overall_trust_score"] < quick["overall_trust_score"]


def test_a_degrading_agent_reads_declining_from_the_order_of_its_outcomes(
    api: Api, clock: TickingClock
) -> None:
    # Everything happens within one day: the day windows cannot see the drop, the order can.
    _record(api, "DRIFTER", "AAAAR" * 10 + "ARRRR" * 10)
    _record(api, "STEADY", "AAAR" * 25)
    scores = _listing(api)
    drifter, steady = scores["DRIFTER"], scores["STEADY"]
    assert drifter["trend"] == "declining"
    assert drifter["trend_basis"] == "outcomes"
    assert drifter["recent_success_rate"] < drifter["baseline_success_rate"]
    assert drifter["trend_recent_outcomes"] + drifter["trend_baseline_outcomes"] == 100
    assert steady["trend"] == "stable"
    single = api.call("GET", f"{TRUST}/DRIFTER", query={"workspace_id": WORKSPACE})[1]
    assert single["trend"] == "declining"


def test_an_improving_agent_reads_improving(api: Api, clock: TickingClock) -> None:
    _record(api, "LEARNER", "ARRRR" * 10 + "AAAAR" * 10)
    assert _listing(api)["LEARNER"]["trend"] == "improving"


def test_decision_boost_agrees_with_the_trust_for_the_type(api: Api, clock: TickingClock) -> None:
    _record(api, "TOP", "AAAAAAAAAR" * 3)
    _record(api, "MID", "AAAAAAARRR" * 3)
    _record(api, "LOW", "AAARRRRRRR" * 3)

    def boost(agent: str) -> float:
        status, body = api.call(
            "GET",
            f"/api/v1/learning/agents/{agent}/decision-boost",
            query={"workspace_id": WORKSPACE, "recommendation_type": "strategy"},
        )
        assert status == 200, body
        return float(body["decision_boost"])

    scores = _listing(api)
    trust = {
        agent: scores[agent]["by_type"]["strategy"]["overall_trust_score"] for agent in ("TOP", "MID", "LOW")
    }
    boosts = {agent: boost(agent) for agent in trust}
    assert sorted(trust, key=trust.__getitem__) == sorted(boosts, key=boosts.__getitem__)
    # Direction: above 1 for the agent above its workspace (57 of 90 approved), below for the one
    # under it.
    assert boosts["TOP"] > 1.0 > boosts["LOW"]
    assert boost("NOBODY") == 1.0


def test_the_demo_swarms_degrading_agent_reads_declining_at_the_demos_size(
    api: Api, clock: TickingClock
) -> None:
    # make demo's default run (300 workflows, seed 7), every recommendation evaluated in order:
    # ANLY-01 regresses after its 40th recommendation; STRAT-01 holds steady.
    tracker = get_tracker()
    followed = {"ANLY-01", "STRAT-01"}
    for workflow in Swarm(default_swarm(seed=7), seed=7).workflows(WORKSPACE, 300):
        for simulated in workflow.recommendations:
            if simulated.agent_id not in followed:
                continue
            tracked = tracker.track(TrackRecommendationRequest.model_validate(simulated.request))
            tracker.evaluate(
                EvaluateOutcomeRequest(
                    workspace_id=WORKSPACE,
                    recommendation_id=tracked.recommendation_id,
                    overall_quality_score=simulated.evaluation.overall_quality_score,
                )
            )
    scores = _listing(api)
    degrading = scores["ANLY-01"]
    assert degrading["trend"] == "declining"
    assert degrading["trend_basis"] == "outcomes"
    assert degrading["recent_success_rate"] < degrading["baseline_success_rate"] - 0.2
    assert scores["STRAT-01"]["trend"] == "stable"
