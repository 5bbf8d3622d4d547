"""Features of evaluated recommendations, built column-wise from a stream (pure).

The learning cycle reads tens of thousands to millions of evaluated recommendations, so they are
never held as objects: ``FeatureBuilder`` interns each row into a few compact arrays as it streams
by, and ``FeatureBuilder.build`` computes every registered feature's column with numpy. What the
features are (confidence band, consensus size, dissent, expert, content attributes …) and how each
is computed is declared once, in ``swarm_learning.domain.feature_registry``.

"Same action" is the canonical form of ``recommendation_content`` defined in
``swarm_learning.evaluated``; the tracker stores its key with the recommendation, so the cycle never
re-parses content.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from swarm_learning.domain.evaluated import EvaluatedRow
from swarm_learning.domain.feature_registry import (
    EXPERT_APPROVAL_RATE,
    EXPERT_MIN_EVALUATIONS,
    FEATURES,
    HIGH_CONFIDENCE,
    LOW_CONFIDENCE,
    MAX_CONTENT_KEYS,
    TRACKED_CONTENT_KEYS,
    BoolArray,
    IntArray,
    Streamed,
)

__all__ = [
    "EXPERT_APPROVAL_RATE",
    "EXPERT_MIN_EVALUATIONS",
    "HIGH_CONFIDENCE",
    "LOW_CONFIDENCE",
    "MAX_CONTENT_KEYS",
    "FeatureBuilder",
    "FeatureTable",
    "Slot",
    "build",
    "confidence_band",
]


def confidence_band(confidence: float) -> str:
    if confidence >= HIGH_CONFIDENCE:
        return "high"
    if confidence >= LOW_CONFIDENCE:
        return "medium"
    return "low"


@dataclass(frozen=True)
class Slot:
    """A categorical feature: one value per row, as codes into ``labels``."""

    name: str
    codes: IntArray
    labels: tuple[str, ...]

    def items(self) -> list[str]:
        return [f"{self.name}={label}" for label in self.labels]


@dataclass(frozen=True)
class FeatureTable:
    """Per-row features in time order, as columns. ``codes[name]`` holds every categorical
    feature's codes into ``labels[name]`` (``table.<name>`` reads them too: ``table.dissent``);
    ``consensus`` is the consensus *size* (profiles count on it), ``content`` the attribute matrix."""

    created_at: npt.NDArray[np.float64]
    approved: BoolArray
    partial: BoolArray  # kept for approval_rate (partial counts half); mining reads ``approved``
    confidence: npt.NDArray[np.float32]
    agent: IntArray
    agents: tuple[str, ...]
    rtype: IntArray
    types: tuple[str, ...]
    consensus: IntArray  # distinct agents proposing the same action in the workflow
    codes: dict[str, IntArray]
    labels: dict[str, tuple[str, ...]]
    content: BoolArray  # rows x len(content_labels)
    content_labels: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.approved)

    def __getattr__(self, name: str) -> IntArray:
        # Only called when normal lookup fails: a feature's codes by its name.
        codes = self.__dict__.get("codes")
        if codes is None or name not in codes:
            raise AttributeError(name)
        found: IntArray = codes[name]
        return found

    def slots(self) -> list[Slot]:
        """The categorical features mined, in the registry's order (content attributes are the
        binary ``has=`` items)."""
        return [Slot(name, codes, self.labels[name]) for name, codes in self.codes.items()]

    def item_mask(self, item: str) -> BoolArray:
        """Rows carrying ``item`` ("name=value"); an item of an unknown feature or value matches no
        row (a stored pattern may name a feature no longer registered)."""
        name, _, value = item.partition("=")
        if name == FEATURES.attributes().name:
            if value not in self.content_labels:
                return np.zeros(len(self), dtype=bool)
            return self.content[:, self.content_labels.index(value)]
        if name in self.codes:
            labels = self.labels[name]
            if value not in labels:
                return np.zeros(len(self), dtype=bool)
            return np.asarray(self.codes[name] == labels.index(value))
        return np.zeros(len(self), dtype=bool)

    def mask(self, condition: Iterable[str]) -> BoolArray:
        result = np.ones(len(self), dtype=bool)
        for item in condition:
            result &= self.item_mask(item)
        return result

    def rows(self, start: int, stop: int) -> FeatureTable:
        """Rows ``start:stop`` (views, no copy)."""
        window = slice(start, stop)
        changed: dict[str, Any] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, np.ndarray):
                changed[field.name] = value[window]
            elif field.name == "codes":
                changed[field.name] = {name: codes[window] for name, codes in value.items()}
        return replace(self, **changed)


class _Interner(dict[str, int]):
    def code(self, value: str) -> int:
        found = self.get(value)
        if found is None:
            found = self[value] = len(self)
        return found


class FeatureBuilder:
    """Collects a stream of rows into compact columns (about 40 bytes a row, plus a byte a row for
    each feature computed row by row)."""

    def __init__(self) -> None:
        self._agents = _Interner()
        self._types = _Interner()
        self._keys = _Interner()
        self._key_sets: dict[tuple[str, ...], int] = {}
        self._agent = array("i")
        self._type = array("i")
        self._confidence = array("f")
        self._created = array("d")
        self._approved = array("b")
        self._partial = array("b")
        self._action = array("q")  # hash of (workflow, action); 0 = no workflow
        self._workflow = array("q")  # hash of the workflow; 0 = no workflow
        self._key_mask = array("Q")
        self._row_wise = [(feature, array("b")) for feature in FEATURES.row_wise()]

    def __len__(self) -> int:
        return len(self._approved)

    def add(self, row: EvaluatedRow) -> None:
        self._agent.append(self._agents.code(row.agent_id))
        self._type.append(self._types.code(row.recommendation_type))
        self._confidence.append(math.nan if row.confidence_score is None else row.confidence_score)
        self._created.append(row.created_at)
        self._approved.append(row.approved)
        self._partial.append(row.partial)
        # Python's hash is stable within the process, which is all the grouping below needs.
        self._action.append(hash((row.workflow_id, row.action_key)) | 1 if row.workflow_id else 0)
        self._workflow.append(hash(row.workflow_id) | 1 if row.workflow_id else 0)
        mask = self._key_sets.get(row.content_keys)
        if mask is None:
            mask = 0
            for key in row.content_keys:
                code = self._keys.code(key)
                if code < TRACKED_CONTENT_KEYS:
                    mask |= 1 << code
            self._key_sets[row.content_keys] = mask
        self._key_mask.append(mask)
        if self._row_wise:  # none by default: the hot loop stays as lean as before the registry
            for feature, codes in self._row_wise:
                codes.append(feature.code_of_row(row))

    def extend(self, rows: Iterable[EvaluatedRow]) -> FeatureBuilder:
        for row in rows:
            self.add(row)
        return self

    def build(self) -> FeatureTable:
        order = np.argsort(np.frombuffer(self._created, dtype=np.float64), kind="stable")
        streamed = Streamed(
            created_at=np.frombuffer(self._created, dtype=np.float64)[order],
            approved=np.frombuffer(self._approved, dtype=np.int8)[order].astype(bool),
            confidence=np.frombuffer(self._confidence, dtype=np.float32)[order],
            agent=np.frombuffer(self._agent, dtype=np.int32)[order],
            agents=tuple(self._agents),
            rtype=np.frombuffer(self._type, dtype=np.int32)[order],
            types=tuple(self._types),
            action=np.frombuffer(self._action, dtype=np.int64)[order],
            workflow=np.frombuffer(self._workflow, dtype=np.int64)[order],
            key_mask=np.frombuffer(self._key_mask, dtype=np.uint64)[order],
            keys=tuple(self._keys),
        )
        row_wise = {
            feature.name: np.frombuffer(codes, dtype=np.int8)[order] for feature, codes in self._row_wise
        }
        codes, labels = {}, {}
        for feature in FEATURES.categorical():
            codes[feature.name] = row_wise[feature.name] if feature.of_row else feature.codes(streamed)
            labels[feature.name] = feature.labels(streamed)
        attributes = FEATURES.attributes()
        assert attributes.matrix is not None
        content, content_labels = attributes.matrix(streamed)
        return FeatureTable(
            created_at=streamed.created_at,
            approved=streamed.approved,
            partial=np.frombuffer(self._partial, dtype=np.int8)[order].astype(bool),
            confidence=streamed.confidence,
            agent=streamed.agent,
            agents=streamed.agents,
            rtype=streamed.rtype,
            types=streamed.types,
            consensus=streamed.consensus_sizes,
            codes=codes,
            labels=labels,
            content=content,
            content_labels=content_labels,
        )


def build(rows: Iterable[EvaluatedRow]) -> FeatureTable:
    return FeatureBuilder().extend(rows).build()
