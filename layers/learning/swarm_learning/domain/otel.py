"""OpenTelemetry GenAI spans and evaluation results as tracks and evaluations (pure; docs/otlp.md).

The receiver decodes OTLP into the plain records below; this module decides what they mean: which
spans are agent runs (GenAI ``invoke_agent``, OpenInference ``AGENT``, the OpenAI Agents SDK's
``agent: <name>``), the tokens their model calls used, and how a ``gen_ai.evaluation.result``
becomes an outcome. It follows the GenAI semantic conventions v0.1.0 (``semantic-conventions-genai``,
on semconv 1.45.0) and accepts the older spellings listed in ``LEGACY`` names.

Every id is derived from the trace: a recommendation's from its span (trace id + span id, with the
span's start as the ULID's time, so the time indexes stay ordered), an outcome's from the evaluated
span, the evaluation's name and time. A re-export therefore stores nothing twice.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ulid import ULID

from swarm_learning.ids import MAX_ID_LENGTH, OUTCOME_PREFIX, RECOMMENDATION_PREFIX
from swarm_learning.vocabulary import ExecutionStatus, Outcome

CONVENTIONS = "OpenTelemetry GenAI semantic conventions v0.1.0 (semantic-conventions-genai, semconv 1.45.0)"

# ---- attribute names ------------------------------------------------------------------------------
OPERATION = "gen_ai.operation.name"
INVOKE_AGENT = "invoke_agent"
INVOKE_WORKFLOW = "invoke_workflow"  # folded into invoke_agent in v0.1.0; still accepted
AGENT_ID = "gen_ai.agent.id"
AGENT_NAME = "gen_ai.agent.name"
WORKFLOW_NAME = "gen_ai.workflow.name"  # became gen_ai.agent.name in v0.1.0; still accepted
CONVERSATION_ID = "gen_ai.conversation.id"
OUTPUT_MESSAGES = "gen_ai.output.messages"
INPUT_TOKENS = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt")
OUTPUT_TOKENS = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens", "llm.token_count.completion")
# Pydantic AI puts its run's total on the run span; when present it is the run's usage.
AGGREGATED_INPUT_TOKENS = "gen_ai.aggregated_usage.input_tokens"
AGGREGATED_OUTPUT_TOKENS = "gen_ai.aggregated_usage.output_tokens"
PYDANTIC_AI_FINAL_RESULT = "final_result"
OPENINFERENCE_KIND = "openinference.span.kind"
OPENINFERENCE_AGENT = "AGENT"
OPENINFERENCE_OUTPUT = "output.value"
PLAIN_AGENT_NAME = "agent.name"  # OpenInference and openai-agents-opentelemetry
OPENAI_AGENTS_SPAN_PREFIX = "agent: "

EVALUATION_EVENT = "gen_ai.evaluation.result"
EVENT_NAME_ATTRIBUTE = "event.name"
EVALUATION_NAME = "gen_ai.evaluation.name"
SCORE_VALUE = "gen_ai.evaluation.score.value"
SCORE_LABEL = "gen_ai.evaluation.score.label"
EXPLANATION = "gen_ai.evaluation.explanation"

# The service's own attributes (on the span, else on its resource).
WORKSPACE = "swarm.workspace_id"
RECOMMENDATION_TYPE = "swarm.recommendation_type"
CONFIDENCE = "swarm.confidence"
SCORE_MAX = "swarm.evaluation.score.max"

# ---- vocabularies ---------------------------------------------------------------------------------
# gen_ai.evaluation.score.label, lower-cased, to an outcome; any other label leaves it to the score.
LABEL_OUTCOMES: dict[str, Outcome] = {
    **dict.fromkeys(
        ("pass", "passed", "approved", "approve", "correct", "relevant", "good", "yes", "true"),
        Outcome.APPROVED,
    ),
    **dict.fromkeys(("partial", "partially_correct", "partially_relevant", "mixed"), Outcome.PARTIAL),
    **dict.fromkeys(
        (
            "fail", "failed", "rejected", "reject", "incorrect", "not_relevant", "irrelevant", "bad",
            "no", "false",
        ),
        Outcome.REJECTED,
    ),
}  # fmt: skip
# Quality a label implies when the evaluation carries no score.
LABEL_QUALITY = {Outcome.APPROVED: 100.0, Outcome.PARTIAL: 50.0, Outcome.REJECTED: 0.0}
# Without swarm.evaluation.score.max, a score is read on the smallest of these scales that holds it.
SCORE_SCALES = (1.0, 10.0, 100.0)

MAX_CONTENT_TEXT = 16_000  # characters of an output kept when the structured form is over the limits
_NOT_ID = re.compile(r"[^A-Za-z0-9_.:\-]+")


class MappingError(ValueError):
    """A span or evaluation that cannot become a track or an evaluation; rejected alone."""


# ---- the decoded records ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SpanEvent:
    name: str
    time_unix_nano: int
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class Span:
    trace_id: str  # 32 lower-case hex digits
    span_id: str  # 16 lower-case hex digits
    parent_span_id: str | None
    name: str
    start_unix_nano: int
    end_unix_nano: int
    error: bool
    attributes: Mapping[str, Any]
    resource: Mapping[str, Any]
    events: tuple[SpanEvent, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return self.trace_id, self.span_id

    def attribute(self, name: str) -> Any:
        """The span's attribute, else its resource's."""
        value = self.attributes.get(name)
        return value if value is not None else self.resource.get(name)


@dataclass(frozen=True)
class LogRecord:
    trace_id: str | None
    span_id: str | None
    time_unix_nano: int
    event_name: str
    attributes: Mapping[str, Any]
    resource: Mapping[str, Any]


@dataclass(frozen=True)
class Evaluation:
    """A ``gen_ai.evaluation.result`` about the span ``(trace_id, span_id)``."""

    trace_id: str
    span_id: str
    time_unix_nano: int
    attributes: Mapping[str, Any]
    resource: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return self.trace_id, self.span_id


# ---- agent runs ------------------------------------------------------------------------------------
def agent_name(span: Span) -> str | None:
    """The agent's name if ``span`` is an agent run, else None (see docs/otlp.md for the rules)."""
    attributes = span.attributes
    operation = attributes.get(OPERATION)
    if operation in (INVOKE_AGENT, INVOKE_WORKFLOW):
        return _text(attributes.get(AGENT_NAME)) or _text(attributes.get(WORKFLOW_NAME)) or ""
    if attributes.get(OPENINFERENCE_KIND) == OPENINFERENCE_AGENT:
        return _text(attributes.get(PLAIN_AGENT_NAME)) or span.name
    if span.name.startswith(OPENAI_AGENTS_SPAN_PREFIX) and operation is None:
        return _text(attributes.get(PLAIN_AGENT_NAME)) or span.name.removeprefix(OPENAI_AGENTS_SPAN_PREFIX)
    return None


def is_agent_run(span: Span) -> bool:
    return agent_name(span) is not None


def span_tokens(span: Span) -> tuple[int, int] | None:
    """The model tokens one span reports itself (input, output), or None."""
    return _token_pair(span.attributes, INPUT_TOKENS, OUTPUT_TOKENS)


def run_tokens(span: Span, children: Iterable[tuple[int, int]]) -> tuple[int, int] | None:
    """An agent run's tokens: its aggregated usage when the framework reports one (Pydantic AI),
    else the sum of what its own span and its model calls report."""
    aggregated = _token_pair(span.attributes, (AGGREGATED_INPUT_TOKENS,), (AGGREGATED_OUTPUT_TOKENS,))
    if aggregated is not None:
        return aggregated
    parts = [pair for pair in (span_tokens(span), *children) if pair is not None]
    if not parts:
        return None
    return sum(p[0] for p in parts), sum(p[1] for p in parts)


def _token_pair(
    attributes: Mapping[str, Any], inputs: tuple[str, ...], outputs: tuple[str, ...]
) -> tuple[int, int] | None:
    found_in = next((v for name in inputs if _count(v := attributes.get(name)) is not None), None)
    found_out = next((v for name in outputs if _count(v := attributes.get(name)) is not None), None)
    if found_in is None and found_out is None:
        return None
    return _count(found_in) or 0, _count(found_out) or 0


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return int(value) if value >= 0 else None


def nearest_agent(span: Span, spans: Mapping[tuple[str, str], Span]) -> Span | None:
    """The agent run ``span`` belongs to among ``spans`` (itself, or its nearest agent ancestor)."""
    seen: set[str] = set()
    current: Span | None = span
    while current is not None and current.span_id not in seen:
        if is_agent_run(current):
            return current
        seen.add(current.span_id)
        parent = current.parent_span_id
        current = spans.get((current.trace_id, parent)) if parent else None
    return None


def recommendation_id(span: Span) -> str:
    """``rec_`` + a ULID with the span's start as its time and the trace and span ids as its rest."""
    return RECOMMENDATION_PREFIX + _ulid(span.start_unix_nano, span.trace_id, span.span_id)


def outcome_id(evaluation: Evaluation) -> str:
    name = _text(evaluation.attributes.get(EVALUATION_NAME)) or ""
    return OUTCOME_PREFIX + _ulid(evaluation.time_unix_nano, evaluation.trace_id, evaluation.span_id, name)


def _ulid(unix_nano: int, *parts: str) -> str:
    millis = max(unix_nano // 1_000_000, 0)
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return str(ULID.from_bytes(millis.to_bytes(6, "big") + digest[:10]))


def span_time(unix_nano: int) -> datetime:
    return datetime.fromtimestamp(unix_nano / 1e9, tz=UTC)


def identifier(value: str) -> str:
    """``value`` as an id the API accepts: runs of other characters become ``-``, at most 64."""
    cleaned = _NOT_ID.sub("-", value.strip()).lstrip("-_.:")[:MAX_ID_LENGTH]
    return cleaned.rstrip("-") or cleaned


def track_fields(
    span: Span, *, workspace_id: str, default_type: str, tokens: tuple[int, int] | None
) -> dict[str, Any]:
    """The ``POST /events/batch`` track event an agent run becomes (validated by the same model)."""
    name = agent_name(span)
    if name is None:
        raise MappingError(f"span {span.span_id} is not an agent run")
    raw_id = _text(span.attributes.get(AGENT_ID)) or name
    agent_id = identifier(raw_id) if raw_id else ""
    if not agent_id:
        raise MappingError(f"span {span.span_id}: no gen_ai.agent.id or gen_ai.agent.name")
    conversation = _text(span.attributes.get(CONVERSATION_ID))
    workflow_id = (identifier(conversation) if conversation else "") or span.trace_id
    duration_ns = span.end_unix_nano - span.start_unix_nano
    fields: dict[str, Any] = {
        "type": "track",
        "workspace_id": workspace_id,
        "recommendation_id": recommendation_id(span),
        "agent_id": agent_id,
        "correlation_id": span.trace_id,
        "workflow_id": workflow_id,
        "recommendation_type": _text(span.attribute(RECOMMENDATION_TYPE)) or default_type,
        "recommendation_content": content(span),
        "evidence": {
            "otel": {"trace_id": span.trace_id, "span_id": span.span_id, "span_name": span.name[:200]}
        },
        "execution_status": (ExecutionStatus.FAILED if span.error else ExecutionStatus.COMPLETED).value,
    }
    if name:
        fields["agent_name"] = name[:128]
    confidence = span.attribute(CONFIDENCE)
    if confidence is not None:
        fields["confidence_score"] = _number(confidence, CONFIDENCE)
    if duration_ns >= 0 and span.end_unix_nano > 0:
        fields["latency_ms"] = duration_ns / 1e6
    if tokens is not None:
        fields["input_tokens"], fields["output_tokens"] = tokens
    return fields


def content(span: Span) -> dict[str, Any]:
    """What the agent answered, when captured: ``gen_ai.output.messages``, Pydantic AI's
    ``final_result`` or OpenInference's ``output.value``; cut to the content limits."""
    for attribute, key in (
        (OUTPUT_MESSAGES, "output_messages"),
        (PYDANTIC_AI_FINAL_RESULT, "final_result"),
        (OPENINFERENCE_OUTPUT, "output"),
    ):
        value = span.attributes.get(attribute)
        if value is None:
            continue
        return bounded_content(key, _maybe_json(value))
    return {}


def bounded_content(
    key: str, value: Any, *, max_bytes: int = 32 * 1024, max_depth: int = 8
) -> dict[str, Any]:
    """``{key: value}`` if it fits the content limits, else the value as text cut to fit."""
    candidate = {key: value}
    text = json.dumps(candidate, separators=(",", ":"), ensure_ascii=False)
    if len(text.encode()) <= max_bytes and _depth(candidate) <= max_depth:
        return candidate
    flat = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    cut = flat[:MAX_CONTENT_TEXT]
    while len(json.dumps({key: cut, "truncated": True}, ensure_ascii=False).encode()) > max_bytes:
        cut = cut[: len(cut) * 3 // 4]
    return {key: cut, "truncated": True}


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# ---- evaluations -----------------------------------------------------------------------------------
def is_evaluation(event_name: str, attributes: Mapping[str, Any]) -> bool:
    return EVALUATION_EVENT in (event_name, attributes.get(EVENT_NAME_ATTRIBUTE))


def scaled_score(value: Any, scale_max: Any = None) -> float:
    """``gen_ai.evaluation.score.value`` on 0..100: divided by ``swarm.evaluation.score.max`` when
    given, else by the smallest of 1, 10, 100 that holds it, then times 100."""
    score = _number(value, SCORE_VALUE)
    if score < 0:
        raise MappingError(f"{SCORE_VALUE} must not be negative (got {score})")
    if scale_max is not None:
        top = _number(scale_max, SCORE_MAX)
        if top <= 0 or score > top:
            raise MappingError(f"{SCORE_VALUE} {score} is not within 0..{SCORE_MAX} ({top})")
    else:
        top = next((s for s in SCORE_SCALES if score <= s), 0.0)
        if not top:
            raise MappingError(f"{SCORE_VALUE} {score} is over 100; set {SCORE_MAX} to give its scale")
    return round(score / top * 100, 6)


def evaluation_fields(
    evaluation: Evaluation, *, workspace_id: str, recommendation_id: str | None
) -> dict[str, Any]:
    """The ``POST /events/batch`` evaluate event (without ``recommendation_id`` when not known yet)."""
    attributes = evaluation.attributes
    name = _text(attributes.get(EVALUATION_NAME))
    label = (_text(attributes.get(SCORE_LABEL)) or "").strip().lower().replace(" ", "_").replace("-", "_")
    outcome = LABEL_OUTCOMES.get(label)
    value = attributes.get(SCORE_VALUE)
    if value is not None:
        quality = scaled_score(value, attributes.get(SCORE_MAX))
    elif outcome is not None:
        quality = LABEL_QUALITY[outcome]
    else:
        raise MappingError(
            f"evaluation of span {evaluation.span_id}: no {SCORE_VALUE} and no known {SCORE_LABEL}"
            + (f" ({label!r})" if label else "")
        )
    fields: dict[str, Any] = {
        "type": "evaluate",
        "workspace_id": workspace_id,
        "outcome_id": outcome_id(evaluation),
        "overall_quality_score": quality,
        "evaluator_feedback": (_text(attributes.get(EXPLANATION)) or "")[:4000],
    }
    dimension = _dimension(name) if name else None
    if dimension:
        fields["quality_scores"] = {dimension: quality}
    if outcome is not None:
        fields["outcome"] = outcome.value
    if recommendation_id is not None:
        fields["recommendation_id"] = recommendation_id
    return fields


def _dimension(name: str) -> str | None:
    """An evaluation's name as a quality dimension (a slug), e.g. ``Relevance`` -> ``relevance``."""
    slug = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")[:40]
    return slug if slug[:1].isalpha() else None


# ---- values ----------------------------------------------------------------------------------------
def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text.strip() or None


def _number(value: Any, name: str) -> float:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise MappingError(f"{name} must be a number (got {value[:40]!r})") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise MappingError(f"{name} must be a finite number (got {value!r})")
    return float(value)
