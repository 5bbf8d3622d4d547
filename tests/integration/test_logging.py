"""What the functions log: bounded lines about the request, never its feedback text, evidence,
reasoning or content, nor the caller's key; also when a handler fails unexpectedly."""

from __future__ import annotations

import pytest

from swarm_learning.services.tracking import tracker as tracking
from tests.helpers.api import WORKSPACE, Api

FEEDBACK = "FEEDBACK-4f1c-the-evaluator-said-something-private"
EVIDENCE = "EVIDENCE-8d2e-customer-record"
REASONING = "REASONING-91ab-internal-chain-of-thought"
CONTENT = "CONTENT-77aa-proprietary-plan"
MARKERS = (FEEDBACK, EVIDENCE, REASONING, CONTENT)
MAX_LINE_CHARS = 2_000


def _logged(capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> list[str]:
    # The functions' Powertools logger (the service name); botocore's own DEBUG logging is off in Lambda.
    ours = [r for r in caplog.records if r.name == "learning-local"]
    return capfd.readouterr().out.splitlines() + [r.getMessage() + str(r.__dict__) for r in ours]


def test_feedback_evidence_and_keys_stay_out_of_the_logs(
    api: Api, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="learning-local")
    tracked = api.track(
        evidence={"note": EVIDENCE}, reasoning=REASONING, recommendation_content={"plan": CONTENT}
    )
    status, _ = api.evaluate(tracked["recommendation_id"], evaluator_feedback=FEEDBACK)
    assert status == 200
    status, _ = api.call(
        "POST",
        "/api/v1/learning/outcomes/evaluate-workflow",
        body={
            "workspace_id": WORKSPACE,
            "workflow_id": "move_123",
            "overall_quality_score": 50,
            "feedback": FEEDBACK,
        },
    )
    assert status == 200
    lines = _logged(capfd, caplog)
    assert any("recommendation tracked" in line for line in lines)
    secret = api.api_key.split("_", 2)[2]
    for line in lines:
        assert len(line) <= MAX_LINE_CHARS or '"_aws"' in line  # EMF metric blobs aside
        for marker in (*MARKERS, secret):
            assert marker not in line


def test_an_unexpected_failure_logs_the_error_not_the_request(
    api: Api,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("storage exploded")

    monkeypatch.setattr(tracking.RecommendationTracker, "track", broken)
    status, body = api.call(
        "POST",
        "/api/v1/learning/recommendations/track",
        body={
            "workspace_id": WORKSPACE,
            "agent_id": "STRAT-01",
            "agent_name": "MoveArchitect",
            "recommendation_type": "strategy",
            "recommendation_content": {"plan": CONTENT},
            "confidence_score": 0.5,
            "reasoning": REASONING,
            "evidence": {"note": EVIDENCE},
        },
    )
    assert (status, body["error"]) == (500, "internal_error")
    lines = _logged(capfd, caplog)
    assert any("unhandled error" in line and "storage exploded" in line for line in lines)
    for line in lines:
        for marker in MARKERS:
            assert marker not in line
