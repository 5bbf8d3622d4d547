"""What the learning cycle reads of one evaluated recommendation, and the canonical action.

Kept free of numpy: the tracker imports it on the request path to store each recommendation's
action key, and the store to yield rows.

"Same action" is a canonical form of ``recommendation_content``: keys sorted and lower-cased,
strings trimmed, lower-cased and with whitespace collapsed, lists of scalars treated as sets,
floats rounded to 4 significant digits, and bookkeeping keys (ids, timestamps, confidence,
reasoning) left out — two agents proposing ``{"Channels": ["LinkedIn", "email"]}`` and
``{"channels": ["email", "linkedin"], "request_id": "x"}`` propose the same action.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, NamedTuple

IGNORED_CONTENT_KEYS = frozenset(
    {"id", "request_id", "timestamp", "created_at", "confidence", "confidence_score", "reasoning", "notes"}
)


class EvaluatedRow(NamedTuple):
    """One evaluated recommendation as the cycle reads it (what storage yields)."""

    agent_id: str
    recommendation_type: str
    workflow_id: str | None
    confidence_score: float | None  # None: the agent stated none
    action_key: str
    content_keys: tuple[str, ...]
    created_at: float  # epoch seconds
    approved: bool
    partial: bool = False  # neither approved nor rejected: half a success in approval_rate


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


def content_keys(content: Mapping[str, Any]) -> tuple[str, ...]:
    """The canonical content's top-level keys (the content attributes mined)."""
    return tuple(canonical_content(content))
