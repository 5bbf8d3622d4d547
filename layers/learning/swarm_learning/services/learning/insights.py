"""Insight text for the Learning Cycle Result: written from the cycle's figures, and optionally
reworded by an Amazon Bedrock model (``BEDROCK_MODEL_ID``). The model only rewords: it gets the
generated sentences and must return as many; anything else — an error, a timeout, malformed or
padded output — keeps the generated text, so a cycle never depends on the model."""

from __future__ import annotations

import json
from functools import cache
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from swarm_learning.config import get_settings

_PROMPT = (
    "You edit the findings of a system that learns which AI agents to trust. Reword each sentence "
    "below for an operator: clear, concrete, at most 30 words each. Keep every number and agent "
    "name exactly; add no facts. Answer with JSON only, in the same shape: "
    '{"key_insights": [...], "recommendations_for_swarm": [...]} with the same number of items.\n\n'
)
_MAX_SENTENCE_CHARS = 400


class InsightWriter(Protocol):
    def rewrite(self, insights: list[str], advice: list[str]) -> tuple[list[str], list[str]]: ...


class GeneratedText:
    """Keeps the text the cycle generated (no model configured)."""

    def rewrite(self, insights: list[str], advice: list[str]) -> tuple[list[str], list[str]]:
        return insights, advice


class BedrockRewriter:
    def __init__(self, model_id: str, client: Any | None = None) -> None:
        self._model_id = model_id
        self._client = client or boto3.client(
            "bedrock-runtime", config=Config(retries={"mode": "standard", "max_attempts": 2}, read_timeout=30)
        )

    def rewrite(self, insights: list[str], advice: list[str]) -> tuple[list[str], list[str]]:
        if not insights and not advice:
            return insights, advice
        findings = {"key_insights": insights, "recommendations_for_swarm": advice}
        try:
            response = self._client.converse(
                modelId=self._model_id,
                messages=[{"role": "user", "content": [{"text": _PROMPT + json.dumps(findings)}]}],
                inferenceConfig={"maxTokens": 1024, "temperature": 0.2},
            )
            text = "".join(part.get("text", "") for part in response["output"]["message"]["content"])
            answer = json.loads(text[text.index("{") : text.rindex("}") + 1])
        except (BotoCoreError, ClientError, KeyError, ValueError, TypeError):
            return insights, advice
        reworded = []
        for key, original in findings.items():
            items = answer.get(key) if isinstance(answer, dict) else None
            if (
                not isinstance(items, list)
                or len(items) != len(original)
                or not all(isinstance(i, str) and 0 < len(i) <= _MAX_SENTENCE_CHARS for i in items)
            ):
                return insights, advice
            reworded.append([i.strip() for i in items])
        return reworded[0], reworded[1]


@cache
def get_insight_writer() -> InsightWriter:
    model_id = get_settings().bedrock_model_id
    return BedrockRewriter(model_id) if model_id else GeneratedText()
