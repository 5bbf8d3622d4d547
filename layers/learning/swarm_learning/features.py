"""Features of evaluated recommendations for pattern mining (pure; streams rows in time order).

"Same action" is a canonical form of ``recommendation_content``: keys sorted and lower-cased,
strings trimmed, lower-cased and with whitespace collapsed, lists of scalars treated as sets,
floats rounded to 4 significant digits, and bookkeeping keys (ids, timestamps, confidence,
reasoning) left out — two agents proposing ``{"Channels": ["LinkedIn", "email"]}`` and
``{"channels": ["email", "linkedin"], "request_id": "x"}`` propose the same action.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from swarm_learning.vocabulary import Outcome

IGNORED_CONTENT_KEYS = frozenset(
    {"id", "request_id", "timestamp", "created_at", "confidence", "confidence_score", "reasoning", "notes"}
)
HIGH_CONFIDENCE = 0.8  # the seed's high-confidence threshold
LOW_CONFIDENCE = 0.5
EXPERT_APPROVAL_RATE = 0.75  # the seed's expert: > 75 % approval
EXPERT_MIN_EVALUATIONS = 5


@dataclass(frozen=True)
class EvaluatedRecommendation:
    recommendation_id: str
    agent_id: str
    recommendation_type: str
    workflow_id: str | None
    confidence_score: float
    recommendation_content: Mapping[str, Any]
    created_at: datetime
    outcome: Outcome


@dataclass(frozen=True)
class Features:
    recommendation_id: str
    created_at: datetime
    approved: bool
    agent_id: str
    recommendation_type: str
    confidence_band: str  # low / medium / high
    consensus_size: int  # distinct agents proposing the same action in the workflow (1 = alone)
    expert: bool  # the agent's approval rate on earlier evaluations was > 75 %
    content_keys: tuple[str, ...]  # top-level keys of the canonical content

    def items(self) -> list[str]:
        """The feature as items ("name=value") for mining."""
        found = [
            f"agent={self.agent_id}",
            f"type={self.recommendation_type}",
            f"confidence={self.confidence_band}",
            f"consensus={min(self.consensus_size, 3)}{'+' if self.consensus_size >= 3 else ''}",
            f"expert={'yes' if self.expert else 'no'}",
            f"agent_type={self.agent_id}@{self.recommendation_type}",
        ]
        found.extend(f"has={key}" for key in self.content_keys)
        return found


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            str(k).strip().lower(): _canonical(v)
            for k, v in sorted(value.items(), key=lambda kv: str(kv[0]).lower())
            if str(k).strip().lower() not in IGNORED_CONTENT_KEYS
        }
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        if all(not isinstance(v, (dict, list)) for v in items):
            return sorted(set(items), key=lambda v: (type(v).__name__, str(v)))
        return items
    if isinstance(value, str):
        return " ".join(value.lower().split())
    if isinstance(value, float):
        return float(f"{value:.4g}")
    return value


def canonical_content(content: Mapping[str, Any]) -> dict[str, Any]:
    return _canonical(content)


def canonical_action(content: Mapping[str, Any]) -> str:
    """A short, stable key of the content's canonical form."""
    text = json.dumps(canonical_content(content), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def confidence_band(confidence: float) -> str:
    if confidence >= HIGH_CONFIDENCE:
        return "high"
    if confidence >= LOW_CONFIDENCE:
        return "medium"
    return "low"


def extract(rows: Iterable[EvaluatedRecommendation]) -> Iterator[Features]:
    """Features of each row, in time order. ``rows`` must come in ``created_at`` order (recommendation
    ids are time-sortable ULIDs). Consensus needs each workflow whole, so the rows' actions are
    indexed first (one small tuple per row); expertise is "as of" each row, from earlier outcomes."""
    ordered = list(rows)
    agents_per_action: dict[tuple[str, str], set[str]] = defaultdict(set)
    actions = []
    for row in ordered:
        action = canonical_action(row.recommendation_content)
        actions.append(action)
        if row.workflow_id is not None:
            agents_per_action[(row.workflow_id, action)].add(row.agent_id)

    evaluated: dict[str, int] = defaultdict(int)
    approved: dict[str, int] = defaultdict(int)
    for row, action in zip(ordered, actions, strict=True):
        n = evaluated[row.agent_id]
        expert = n >= EXPERT_MIN_EVALUATIONS and approved[row.agent_id] / n > EXPERT_APPROVAL_RATE
        consensus = len(agents_per_action[(row.workflow_id, action)]) if row.workflow_id is not None else 1
        success = row.outcome is Outcome.APPROVED
        yield Features(
            recommendation_id=row.recommendation_id,
            created_at=row.created_at,
            approved=success,
            agent_id=row.agent_id,
            recommendation_type=row.recommendation_type,
            confidence_band=confidence_band(row.confidence_score),
            consensus_size=max(consensus, 1),
            expert=expert,
            content_keys=tuple(sorted(canonical_content(row.recommendation_content))),
        )
        evaluated[row.agent_id] += 1
        approved[row.agent_id] += success
