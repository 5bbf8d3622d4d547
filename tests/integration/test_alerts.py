"""Alerts end to end: a real classifier whose inputs are corrupted midway, replayed through the API
with the trust-refresh job as the stream goes; alerts raised once per change of state (also under
concurrent jobs), published on the bus and printed by the local console, and served by GET /alerts."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest

from localdev.digits import CHANGE_AT, DEGRADED, WORKFLOWS, classifier_stream
from swarm_learning import clock
from swarm_learning.dal.alerts import AlertStore
from swarm_learning.domain.alert_state import Change, RouterAgainstBestAgent
from swarm_learning.services.alerts.raiser import CLAIM_SECONDS
from swarm_learning.vocabulary import AlertKind
from tests.helpers.api import WORKSPACE, Api
from tests.helpers.ids import minted

BATCH = "/api/v1/learning/events/batch"
ALERTS = "/api/v1/learning/alerts"
REFRESH_EVERY = 25  # workflows between trust refreshes
# The bound docs/alerts.md states: AgentTrustDeclined within this many of the agent's outcomes
# after the change (refreshes every 25 workflows included).
DECLINE_BOUND = 75


def replay(api: Api, correct: dict[str, list[bool]], tick: clock.SteppingClock) -> list[tuple[int, Any]]:
    """Every workflow: each agent recommends, the evaluator scores it (batches of 12 workflows);
    the trust-refresh job every ``REFRESH_EVERY`` workflows. Returns (workflows so far, result)."""
    refreshes = []
    events: list[dict[str, Any]] = []
    seed = 0
    for workflow in range(WORKFLOWS):
        for agent, outcomes in correct.items():
            seed += 1
            recommendation_id = minted("rec_", tick.peek(), seed)
            events.append(
                {
                    "type": "track",
                    "recommendation_id": recommendation_id,
                    "agent_id": agent,
                    "agent_name": agent.title(),
                    "correlation_id": f"digit_{workflow}",
                    "workflow_id": f"digit_{workflow}",
                    "recommendation_type": "analytics",
                    "recommendation_content": {"task": "classify a digit"},
                    "confidence_score": 0.8,
                    "reasoning": "classifier prediction",
                    "evidence": {},
                }
            )
            events.append(
                {
                    "type": "evaluate",
                    "recommendation_id": recommendation_id,
                    "outcome_id": minted("out_", tick.peek(), seed),
                    "overall_quality_score": 90.0 if outcomes[workflow] else 20.0,
                    "quality_scores": {"accuracy": 90.0 if outcomes[workflow] else 20.0},
                    "evaluator_feedback": "label checked",
                }
            )
        if len(events) >= 96 or workflow == WORKFLOWS - 1:
            status, body = api.call("POST", BATCH, body={"workspace_id": WORKSPACE, "events": events})
            assert status == 207, body
            assert all(r["status"] in (200, 201) for r in body["results"]), body
            events = []
        if (workflow + 1) % REFRESH_EVERY == 0:
            tick.advance(timedelta(seconds=1))
            run_at = tick.peek().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            result = api.functions.invoke("TrustRefreshFunction", {"job": "trust_refresh", "time": run_at})
            api.functions.deliver_events()
            refreshes.append((workflow + 1, result))
    return refreshes


def alerts(api: Api, **query: Any) -> list[dict[str, Any]]:
    status, body = api.call("GET", ALERTS, query={"workspace_id": WORKSPACE, "limit": 100, **query})
    assert status == 200, body
    return body["items"]


@pytest.fixture(scope="module")
def digits() -> dict[str, list[bool]]:
    pytest.importorskip("sklearn")
    return classifier_stream()


@pytest.mark.slow
def test_a_corrupted_classifier_raises_one_decline_within_the_bound(
    api: Api,
    digits: dict[str, list[bool]],
    fixed_clock: clock.SteppingClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = np.mean(digits[DEGRADED][:CHANGE_AT])
    after = np.mean(digits[DEGRADED][CHANGE_AT:])
    assert before > 0.95
    assert after < 0.7
    replay(api, digits, fixed_clock)

    declined = alerts(api, kind="AgentTrustDeclined")
    assert [a["agent_id"] for a in declined] == [DEGRADED]  # once, and none for the stable agents
    (alert,) = declined
    assert alert["before"] > 0.9
    assert alert["after"] < 0.7
    assert alert["dashboard_path"] == f"#/agents/{DEGRADED}"
    assert alert["details"]["outcomes_before"] + alert["details"]["outcomes_after"] == alert["evidence_n"]
    # Raised at the refresh after it was seen: within DECLINE_BOUND of the agent's outcomes after the change.
    raised_at = datetime.fromisoformat(alert["raised_at"])
    refresh_times = _refresh_times(api)
    outcomes_after_change = next(n for n, at in refresh_times if at >= raised_at) - CHANGE_AT
    assert 0 < outcomes_after_change <= DECLINE_BOUND
    # The agent stays where it fell: no recovery announced while the window moves on.
    assert alerts(api, kind="AgentTrustRecovered") == []
    console = [
        line for line in capsys.readouterr().err.splitlines() if line.startswith("alert AgentTrustDeclined")
    ]
    assert console == [
        f"alert AgentTrustDeclined: workspace {WORKSPACE} agent {DEGRADED}, "
        f"{alert['before']:.3g} -> {alert['after']:.3g} (n = {alert['evidence_n']}), "
        f"/dashboard/#/agents/{DEGRADED}"
    ]


def _refresh_times(api: Api) -> list[tuple[int, datetime]]:
    """(workflows replayed, run time) of each refresh, from the trust snapshots it left."""
    status, body = api.call(
        "GET",
        f"/api/v1/learning/trust-scores/{DEGRADED}/history",
        query={"workspace_id": WORKSPACE, "limit": 100},
    )
    assert status == 200, body
    times = sorted(datetime.fromisoformat(s["computed_at"]) for s in body["items"])
    return [((i + 1) * REFRESH_EVERY, at) for i, at in enumerate(times)]


# ---- exactly once under concurrent jobs ----------------------------------------------------------
def seed_decline(api: Api, tick: clock.SteppingClock, agent: str = "DROP-01") -> None:
    """An agent at 0.95 for 150 outcomes, then at 0.3 for 60 (deterministic pattern)."""
    events: list[dict[str, Any]] = []
    outcomes = [n % 20 != 0 for n in range(150)] + [n % 10 < 3 for n in range(60)]
    for number, approved in enumerate(outcomes):
        recommendation_id = minted("rec_", tick.peek(), number)
        events += [
            {
                "type": "track",
                "recommendation_id": recommendation_id,
                "agent_id": agent,
                "agent_name": "Dropper",
                "correlation_id": f"wf_{number}",
                "recommendation_type": "analytics",
                "recommendation_content": {"n": number},
                "confidence_score": 0.7,
                "reasoning": "r",
                "evidence": {},
            },
            {
                "type": "evaluate",
                "recommendation_id": recommendation_id,
                "outcome_id": minted("out_", tick.peek(), number),
                "overall_quality_score": 90.0 if approved else 10.0,
                "quality_scores": {"accuracy": 90.0 if approved else 10.0},
                "evaluator_feedback": "checked",
            },
        ]
    for start in range(0, len(events), 100):
        status, body = api.call(
            "POST", BATCH, body={"workspace_id": WORKSPACE, "events": events[start : start + 100]}
        )
        assert status == 207, body


def refresh_event(tick: clock.SteppingClock) -> dict[str, str]:
    tick.advance(timedelta(seconds=1))
    return {"job": "trust_refresh", "time": tick.peek().strftime("%Y-%m-%dT%H:%M:%S.%fZ")}


def test_two_concurrent_refreshes_raise_and_publish_the_alert_once(
    api: Api,
    fixed_clock: clock.SteppingClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed_decline(api, fixed_clock)
    # Both jobs read the agent's trend state before either writes: the race the condition settles.
    both_read = threading.Barrier(2, timeout=30)
    original = AlertStore.state
    first_reads: set[int] = set()

    def racing_state(self: AlertStore, workspace_id: str, subject: str) -> Any:
        found = original(self, workspace_id, subject)
        me = threading.get_ident()
        if subject.startswith("trend#") and me not in first_reads and len(first_reads) < 2:
            first_reads.add(me)
            both_read.wait()
        return found

    monkeypatch.setattr(AlertStore, "state", racing_state)
    event = refresh_event(fixed_clock)
    results: list[Any] = []
    jobs = [
        threading.Thread(target=lambda: results.append(api.functions.invoke("TrustRefreshFunction", event)))
        for _ in range(2)
    ]
    for job in jobs:
        job.start()
    for job in jobs:
        job.join()
    assert len(results) == 2
    assert len(first_reads) == 2
    api.functions.deliver_events()
    assert [a["kind"] for a in alerts(api, agent_id="DROP-01")] == ["AgentTrustDeclined"]
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("alert ")]
    assert len(lines) == 1
    assert "AgentTrustDeclined" in lines[0]

    # Later refreshes, the agent still where it fell: the state holds, nothing new is raised.
    monkeypatch.setattr(AlertStore, "state", original)
    for _ in range(3):
        api.functions.invoke("TrustRefreshFunction", refresh_event(fixed_clock))
    api.functions.deliver_events()
    assert len(alerts(api, agent_id="DROP-01")) == 1
    assert not [line for line in capsys.readouterr().err.splitlines() if line.startswith("alert ")]


# ---- the feed ------------------------------------------------------------------------------------
def raise_alerts(count: int) -> list[str]:
    """``count`` alerts through the raiser (subjects of their own): declines and threshold
    crossings alternating, for agents A-0, A-1, A-2 in turn; returns their ids, oldest first."""
    from swarm_learning.services.alerts.service import get_alert_raiser

    ids = []
    for number in range(count):
        agent = f"A-{number % 3}"
        kind = AlertKind.AGENT_TRUST_THRESHOLD_CROSSED if number % 2 else AlertKind.AGENT_TRUST_DECLINED
        change = Change(kind, 0.8, 0.5, 40 + number, {"n": number})
        raised = get_alert_raiser().apply(
            WORKSPACE,
            f"feed#{number}",
            lambda _current, change=change: ({"status": "changed"}, change),
            agent_id=agent,
            dashboard_path=f"#/agents/{agent}",
        )
        assert raised is not None
        ids.append(raised.alert_id)
    return ids


def test_the_feed_pages_newest_first_and_filters_by_kind_and_agent(api: Api) -> None:
    ids = raise_alerts(7)
    status, first = api.call("GET", ALERTS, query={"workspace_id": WORKSPACE, "limit": 3})
    assert status == 200, first
    assert [a["alert_id"] for a in first["items"]] == ids[::-1][:3]
    assert first["next_token"]
    seen = [a["alert_id"] for a in first["items"]]
    token = first["next_token"]
    while token:
        status, page = api.call(
            "GET", ALERTS, query={"workspace_id": WORKSPACE, "limit": 3, "next_token": token}
        )
        assert status == 200, page
        seen += [a["alert_id"] for a in page["items"]]
        token = page["next_token"]
    assert seen == ids[::-1]

    declines = alerts(api, kind="AgentTrustDeclined")
    assert [a["alert_id"] for a in declines] == [ids[n] for n in (6, 4, 2, 0)]
    assert [a["alert_id"] for a in alerts(api, agent_id="A-1")] == [ids[4], ids[1]]
    assert [a["alert_id"] for a in alerts(api, agent_id="A-1", kind="AgentTrustDeclined")] == [ids[4]]
    item = declines[0]
    assert (item["before"], item["after"], item["evidence_n"], item["dashboard_path"]) == (
        0.8,
        0.5,
        46,
        "#/agents/A-0",
    )


def test_the_feed_refuses_bad_input_and_other_workspaces(api: Api) -> None:
    raise_alerts(1)
    status, body = api.call("GET", ALERTS, query={"workspace_id": WORKSPACE, "kind": "AgentBored"})
    assert status == 422
    assert "kind" in json.dumps(body)
    status, body = api.call("GET", ALERTS, query={"workspace_id": WORKSPACE, "limit": 0})
    assert status == 422
    assert "limit" in json.dumps(body)
    status, body = api.call("GET", ALERTS, query={"workspace_id": WORKSPACE, "next_token": "garbage"})
    assert status == 400
    assert "next_token" in json.dumps(body)
    # A token of another workspace's feed is not a way into it.
    status, other = api.call("GET", ALERTS, query={"workspace_id": "ws_other", "limit": 1})
    assert (status, other["items"]) == (200, [])
    status, body = api.call("GET", ALERTS, query={"workspace_id": "ws_not_mine"})
    assert status == 403


# ---- the learning cycle's alerts -------------------------------------------------------------------
def test_cycle_failures_and_misses_are_raised_once_per_change(
    api: Api, fixed_clock: clock.SteppingClock
) -> None:
    from swarm_learning.services.alerts.service import get_cycle_alerts

    cycles = get_cycle_alerts()
    now = fixed_clock.peek()
    missed = {"iteration_accuracy": 0.62, "coverage": 0.9, "validation_samples": 120}
    met = {"iteration_accuracy": 0.85, "coverage": 0.9, "validation_samples": 130}
    assert [a.kind for a in cycles.cycle_succeeded(WORKSPACE, "iter_1", missed, now=now)] == [
        AlertKind.LEARNING_CYCLE_BELOW_TARGET
    ]
    assert cycles.cycle_succeeded(WORKSPACE, "iter_2", missed, now=now) == []  # still below: no repeat
    assert cycles.cycle_succeeded(WORKSPACE, "iter_3", met, now=now) == []  # back on target: re-armed
    (again,) = cycles.cycle_succeeded(WORKSPACE, "iter_4", {**met, "coverage": 0.5}, now=now)
    assert (again.before, again.after, again.details["coverage_after"]) == (0.85, 0.85, 0.5)

    first = cycles.cycle_failed(WORKSPACE, "iter_5", "RuntimeError: boom", now=now)
    assert first is not None
    assert first.details["error"] == "RuntimeError: boom"
    assert cycles.cycle_failed(WORKSPACE, "iter_6", "RuntimeError: boom", now=now) is None
    kinds = [a["kind"] for a in alerts(api)]
    assert kinds == ["LearningCycleFailed", "LearningCycleBelowTarget", "LearningCycleBelowTarget"]


def test_routing_underperforming_is_raised_when_the_interval_excludes_zero(
    api: Api, fixed_clock: clock.SteppingClock
) -> None:
    from swarm_learning.services.alerts.service import get_cycle_alerts

    cycles = get_cycle_alerts()
    now = fixed_clock.peek()
    unclear = RouterAgainstBestAgent(0.70, 0.74, "STRAT-01", -0.09, 0.01, 800)
    worse = RouterAgainstBestAgent(0.66, 0.74, "STRAT-01", -0.12, -0.03, 900)
    assert cycles.routing_evaluated(WORKSPACE, unclear, now=now) is None
    alert = cycles.routing_evaluated(WORKSPACE, worse, now=now)
    assert alert is not None
    assert (alert.kind, alert.before, alert.after, alert.evidence_n) == (
        AlertKind.ROUTING_UNDERPERFORMING,
        0.74,
        0.66,
        900,
    )
    assert alert.details == {"best_agent_id": "STRAT-01", "difference_low": -0.12, "difference_high": -0.03}
    assert cycles.routing_evaluated(WORKSPACE, worse, now=now) is None
    assert [a["dashboard_path"] for a in alerts(api)] == ["#/routing"]


def test_the_cycle_function_raises_below_target_and_failed_once(
    api: Api,
    fixed_clock: clock.SteppingClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Through the learning-cycle function: a cycle on a handful of outcomes covers nothing
    (below the 0.70 coverage target); then two failing cycles raise one LearningCycleFailed."""
    seed_decline(api, fixed_clock)

    def trigger() -> None:
        status, body = api.call(
            "POST",
            "/api/v1/learning/learning-cycles/trigger",
            body={"workspace_id": WORKSPACE, "lookback_days": 7, "min_pattern_confidence": 0.7},
        )
        assert status == 202, body
        api.functions.deliver_events()  # runs the cycle, then prints the alerts it raised

    trigger()
    (missed,) = alerts(api, kind="LearningCycleBelowTarget")
    assert missed["dashboard_path"] == "#/cycles"
    assert missed["details"]["coverage_after"] < 0.7 or missed["after"] < 0.8

    from swarm_learning.services.learning.runner import CycleRunner

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("columns unavailable")

    monkeypatch.setattr(CycleRunner, "_cycle", broken)
    trigger()
    trigger()
    (failed,) = alerts(api, kind="LearningCycleFailed")
    assert failed["details"]["error"] == "RuntimeError: columns unavailable"
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("alert LearningCycle")]
    assert [line.split(":")[0] for line in lines] == [
        "alert LearningCycleBelowTarget",
        "alert LearningCycleFailed",
    ]


def test_a_router_comparison_reads_as_the_alerts_figures() -> None:
    """The adapter from the off-policy evaluation's router-against-best-agent comparison."""
    from dataclasses import dataclass

    from swarm_learning.services.alerts.cycles import from_router_comparison

    @dataclass
    class Comparison:
        decisions: int
        router: float | None
        best_agent_id: str | None
        best_agent: float | None
        lower: float | None
        upper: float | None

    reading = from_router_comparison(Comparison(700, 0.61, "ANLY-02", 0.7, -0.14, -0.04))
    assert reading == RouterAgainstBestAgent(0.61, 0.7, "ANLY-02", -0.14, -0.04, 700)
    assert from_router_comparison(Comparison(1, None, None, None, None, None)) is None


def test_an_alert_the_bus_refused_is_published_at_the_next_refresh(
    api: Api,
    fixed_clock: clock.SteppingClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from swarm_learning.services.alerts.service import get_alert_raiser

    seed_decline(api, fixed_clock)
    raiser = get_alert_raiser()
    real = raiser.events
    refusing = type(
        "Refusing",
        (),
        {
            "put_events": lambda self, **_: {
                "FailedEntryCount": 1,
                "Entries": [{"ErrorCode": "InternalFailure"}],
            }
        },
    )()
    monkeypatch.setattr(raiser, "_events", refusing)
    api.functions.invoke("TrustRefreshFunction", refresh_event(fixed_clock))
    api.functions.deliver_events()
    (stored,) = alerts(api, agent_id="DROP-01")  # the state moved and the alert is kept...
    assert not [
        line for line in capsys.readouterr().err.splitlines() if line.startswith("alert ")
    ]  # ...unsent

    monkeypatch.setattr(raiser, "_events", real)
    api.functions.invoke("TrustRefreshFunction", refresh_event(fixed_clock))  # within the claim: not yet
    api.functions.deliver_events()
    assert not [line for line in capsys.readouterr().err.splitlines() if line.startswith("alert ")]
    fixed_clock.advance(timedelta(seconds=CLAIM_SECONDS))
    api.functions.invoke("TrustRefreshFunction", refresh_event(fixed_clock))
    api.functions.deliver_events()
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("alert ")]
    assert len(lines) == 1
    assert "AgentTrustDeclined" in lines[0]
    assert alerts(api, agent_id="DROP-01") == [stored]  # sent once, raised once
    api.functions.invoke("TrustRefreshFunction", refresh_event(fixed_clock))
    api.functions.deliver_events()
    assert not [line for line in capsys.readouterr().err.splitlines() if line.startswith("alert ")]


def test_the_threshold_is_the_workspaces_min_trust_when_it_set_one(api: Api) -> None:
    from swarm_learning.services.alerts.service import get_agent_alerts

    assert get_agent_alerts().min_trust(WORKSPACE) == 0.7  # ALERT_MIN_TRUST
    status, body = api.call(
        "PUT", "/api/v1/learning/workspace-settings", body={"workspace_id": WORKSPACE, "min_trust": 0.55}
    )
    assert status == 200, body
    assert get_agent_alerts().min_trust(WORKSPACE) == 0.55
    assert get_agent_alerts().min_trust("ws_other") == 0.7
