"""The optional Bedrock rewording of insight text: used when well-formed, never required."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from swarm_learning.services.learning.insights import BedrockRewriter, GeneratedText

INSIGHTS = ["Identified 2 expert agents", "4 agents are strong consensus builders"]
ADVICE = ["Increase use of multi-agent consensus for critical decisions"]
MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


def _answer(text: str) -> dict:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 10, "outputTokens": 10, "totalTokens": 20},
        "metrics": {"latencyMs": 100},
    }


def _rewriter(response: dict | None = None, error: str | None = None) -> tuple[BedrockRewriter, Stubber]:
    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    stub = Stubber(client)
    if error:
        stub.add_client_error("converse", service_error_code=error, http_status_code=429)
    else:
        stub.add_response("converse", response)
    stub.activate()
    return BedrockRewriter(MODEL, client), stub


def test_without_a_model_the_generated_text_is_kept() -> None:
    assert GeneratedText().rewrite(INSIGHTS, ADVICE) == (INSIGHTS, ADVICE)


def test_a_well_formed_answer_rewords_every_sentence() -> None:
    reworded = {
        "key_insights": ["Two agents are experts.", "Four agents often agree with others."],
        "recommendations_for_swarm": ["Ask several agents before critical decisions."],
    }
    rewriter, stub = _rewriter(_answer("Here you go:\n" + json.dumps(reworded)))
    assert rewriter.rewrite(INSIGHTS, ADVICE) == (
        reworded["key_insights"],
        reworded["recommendations_for_swarm"],
    )
    stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    "text",
    [
        "not json at all",
        json.dumps({"key_insights": ["only one"], "recommendations_for_swarm": ["x"]}),  # a sentence lost
        json.dumps({"key_insights": ["a", "b"], "recommendations_for_swarm": [""]}),  # empty
        json.dumps({"key_insights": ["a", "b"], "recommendations_for_swarm": ["x" * 401]}),  # padded
        json.dumps(["a", "b"]),
    ],
)
def test_a_malformed_answer_keeps_the_generated_text(text: str) -> None:
    rewriter, _ = _rewriter(_answer(text))
    assert rewriter.rewrite(INSIGHTS, ADVICE) == (INSIGHTS, ADVICE)


def test_an_unavailable_model_keeps_the_generated_text() -> None:
    rewriter, _ = _rewriter(error="ThrottlingException")
    assert rewriter.rewrite(INSIGHTS, ADVICE) == (INSIGHTS, ADVICE)


def test_nothing_to_reword_calls_nothing() -> None:
    rewriter, stub = _rewriter(_answer("{}"))
    assert rewriter.rewrite([], []) == ([], [])
    with pytest.raises(AssertionError):
        stub.assert_no_pending_responses()  # the stubbed answer was never asked for
