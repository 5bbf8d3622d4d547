"""Features of evaluated recommendations, built column-wise from a stream (pure).

The learning cycle reads tens of thousands to millions of evaluated recommendations, so they are
never held as objects: ``FeatureBuilder`` interns each row into a few compact arrays as it streams
by, and ``FeatureBuilder.build`` derives the per-row features with numpy:

- **confidence band**: low (< 0.5), medium, high (>= 0.8, the specification's high-confidence threshold);
- **consensus size**: how many distinct agents proposed the same action in the same workflow
  (1 = alone; no workflow = alone);
- **dissent**: the agent stood alone against the others of its workflow (other agents took part,
  and none of them proposed its action): consensus' mirror, since right answers tend to
  coincide and wrong ones to scatter;
- **expert**: the agent's approval rate on its *earlier* evaluated recommendations was > 75 %
  (the specification's expert), over at least ``EXPERT_MIN_EVALUATIONS`` of them;
- **content attributes**: which of the workspace's most frequent top-level content keys the
  recommendation carries.

"Same action" is the canonical form of ``recommendation_content`` defined in
``swarm_learning.evaluated``; the tracker stores its key with the recommendation, so the cycle never
re-parses content.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from swarm_learning.domain.evaluated import EvaluatedRow

HIGH_CONFIDENCE = 0.8  # the specification's high-confidence threshold
LOW_CONFIDENCE = 0.5
EXPERT_APPROVAL_RATE = 0.75  # the specification's expert: > 75 % approval
EXPERT_MIN_EVALUATIONS = 5
MAX_CONTENT_KEYS = 16  # content attributes mined: the most frequent top-level keys …
_TRACKED_CONTENT_KEYS = 64  # … among the first 64 distinct keys of the stream

CONFIDENCE_BANDS = ("low", "medium", "high")
# Recommendations tracked without a confidence (OTLP spans without swarm.confidence) get this band;
# it is a feature only when such rows exist, so a workspace that always states one mines as before.
UNSTATED_CONFIDENCE = "unstated"
CONSENSUS_LABELS = ("1", "2", "3+")
EXPERT_LABELS = ("no", "yes")
DISSENT_LABELS = ("no", "yes")

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.integer[Any]]


def confidence_band(confidence: float) -> str:
    if confidence >= HIGH_CONFIDENCE:
        return "high"
    if confidence >= LOW_CONFIDENCE:
        return "medium"
    return "low"


# ---- the stream ------------------------------------------------------------------------------
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
    """Per-row features in time order, as columns."""

    created_at: npt.NDArray[np.float64]
    approved: BoolArray
    confidence: npt.NDArray[np.float32]
    agent: IntArray
    agents: tuple[str, ...]
    rtype: IntArray
    types: tuple[str, ...]
    band: IntArray  # index into CONFIDENCE_BANDS
    consensus: IntArray  # distinct agents proposing the same action in the workflow
    dissent: BoolArray  # alone against the other agents of its workflow
    expert: BoolArray
    content: BoolArray  # rows x len(content_labels)
    content_labels: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.approved)

    def confidence_bands(self) -> tuple[str, ...]:
        unstated = len(CONFIDENCE_BANDS)
        return (
            (*CONFIDENCE_BANDS, UNSTATED_CONFIDENCE)
            if bool((self.band == unstated).any())
            else CONFIDENCE_BANDS
        )

    def slots(self) -> list[Slot]:
        """The categorical features mined (content attributes are the binary ``has=`` items)."""
        return [
            Slot("agent", self.agent, self.agents),
            Slot("type", self.rtype, self.types),
            Slot("confidence", self.band, self.confidence_bands()),
            Slot("consensus", np.minimum(self.consensus, 3) - 1, CONSENSUS_LABELS),
            Slot("expert", self.expert.astype(np.int8), EXPERT_LABELS),
            Slot("dissent", self.dissent.astype(np.int8), DISSENT_LABELS),
        ]

    def item_mask(self, item: str) -> BoolArray:
        """Rows carrying ``item`` ("name=value"); an item of an unknown value matches no row."""
        name, _, value = item.partition("=")
        if name == "has":
            if value not in self.content_labels:
                return np.zeros(len(self), dtype=bool)
            return self.content[:, self.content_labels.index(value)]
        for slot in self.slots():
            if slot.name == name:
                if value not in slot.labels:
                    return np.zeros(len(self), dtype=bool)
                return np.asarray(slot.codes == slot.labels.index(value))
        raise ValueError(f"unknown feature in item {item!r}")

    def mask(self, condition: Iterable[str]) -> BoolArray:
        result = np.ones(len(self), dtype=bool)
        for item in condition:
            result &= self.item_mask(item)
        return result

    def rows(self, start: int, stop: int) -> FeatureTable:
        """Rows ``start:stop`` (views, no copy)."""
        return FeatureTable(
            created_at=self.created_at[start:stop],
            approved=self.approved[start:stop],
            confidence=self.confidence[start:stop],
            agent=self.agent[start:stop],
            agents=self.agents,
            rtype=self.rtype[start:stop],
            types=self.types,
            band=self.band[start:stop],
            consensus=self.consensus[start:stop],
            dissent=self.dissent[start:stop],
            expert=self.expert[start:stop],
            content=self.content[start:stop],
            content_labels=self.content_labels,
        )


class _Interner(dict[str, int]):
    def code(self, value: str) -> int:
        found = self.get(value)
        if found is None:
            found = self[value] = len(self)
        return found


class FeatureBuilder:
    """Collects a stream of rows into compact columns (about 40 bytes a row)."""

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
        self._action = array("q")  # hash of (workflow, action); 0 = no workflow
        self._workflow = array("q")  # hash of the workflow; 0 = no workflow
        self._key_mask = array("Q")

    def __len__(self) -> int:
        return len(self._approved)

    def add(self, row: EvaluatedRow) -> None:
        self._agent.append(self._agents.code(row.agent_id))
        self._type.append(self._types.code(row.recommendation_type))
        self._confidence.append(math.nan if row.confidence_score is None else row.confidence_score)
        self._created.append(row.created_at)
        self._approved.append(row.approved)
        # Python's hash is stable within the process, which is all the grouping below needs.
        self._action.append(hash((row.workflow_id, row.action_key)) | 1 if row.workflow_id else 0)
        self._workflow.append(hash(row.workflow_id) | 1 if row.workflow_id else 0)
        mask = self._key_sets.get(row.content_keys)
        if mask is None:
            mask = 0
            for key in row.content_keys:
                code = self._keys.code(key)
                if code < _TRACKED_CONTENT_KEYS:
                    mask |= 1 << code
            self._key_sets[row.content_keys] = mask
        self._key_mask.append(mask)

    def extend(self, rows: Iterable[EvaluatedRow]) -> FeatureBuilder:
        for row in rows:
            self.add(row)
        return self

    def build(self) -> FeatureTable:
        order = np.argsort(np.frombuffer(self._created, dtype=np.float64), kind="stable")
        agent = np.frombuffer(self._agent, dtype=np.int32)[order]
        approved = np.frombuffer(self._approved, dtype=np.int8)[order].astype(bool)
        action = np.frombuffer(self._action, dtype=np.int64)[order]
        consensus = _consensus_sizes(action, agent)
        participants = _consensus_sizes(np.frombuffer(self._workflow, dtype=np.int64)[order], agent)
        return FeatureTable(
            created_at=np.frombuffer(self._created, dtype=np.float64)[order],
            approved=approved,
            confidence=np.frombuffer(self._confidence, dtype=np.float32)[order],
            agent=agent,
            agents=tuple(self._agents),
            rtype=np.frombuffer(self._type, dtype=np.int32)[order],
            types=tuple(self._types),
            band=_bands(np.frombuffer(self._confidence, dtype=np.float32)[order]),
            consensus=consensus,
            dissent=(consensus == 1) & (participants >= 2),
            expert=_expert_as_of(agent, approved),
            **_content_columns(np.frombuffer(self._key_mask, dtype=np.uint64)[order], tuple(self._keys)),
        )


def _bands(confidence: npt.NDArray[np.float32]) -> npt.NDArray[np.int8]:
    band = np.searchsorted(
        np.array([LOW_CONFIDENCE, HIGH_CONFIDENCE], dtype=np.float32), confidence, side="right"
    ).astype(np.int8)
    band[np.isnan(confidence)] = len(CONFIDENCE_BANDS)  # UNSTATED_CONFIDENCE
    return band


def build(rows: Iterable[EvaluatedRow]) -> FeatureTable:
    return FeatureBuilder().extend(rows).build()


def _consensus_sizes(action: npt.NDArray[np.int64], agent: IntArray) -> IntArray:
    """Distinct agents per group (a hash of the workflow and action, or of the workflow alone), for
    every row (1 for rows without a workflow)."""
    sizes = np.ones(len(action), dtype=np.int32)
    grouped = np.flatnonzero(action != 0)
    if not len(grouped):
        return sizes
    order = grouped[np.lexsort((agent[grouped], action[grouped]))]
    keys, agents = action[order], agent[order]
    new_key = np.r_[True, keys[1:] != keys[:-1]]
    new_agent = new_key | np.r_[True, agents[1:] != agents[:-1]]
    group = np.cumsum(new_key) - 1
    distinct = np.bincount(group, weights=new_agent).astype(np.int32)
    sizes[order] = distinct[group]
    return sizes


def _expert_as_of(agent: IntArray, approved: BoolArray) -> BoolArray:
    """Whether each row's agent had > 75 % approval over its earlier rows (rows in time order)."""
    order = np.argsort(agent, kind="stable")  # stable: time order kept within each agent
    agents, wins = agent[order], approved[order].astype(np.int64)
    position = np.arange(len(order))
    start = np.r_[True, agents[1:] != agents[:-1]] if len(order) else np.zeros(0, dtype=bool)
    first = np.maximum.accumulate(np.where(start, position, 0))
    before = position - first
    cumulative = np.cumsum(wins) - wins
    wins_before = cumulative - cumulative[first]
    expert = np.zeros(len(order), dtype=bool)
    expert[order] = (before >= EXPERT_MIN_EVALUATIONS) & (
        wins_before > EXPERT_APPROVAL_RATE * np.maximum(before, 1)
    )
    return expert


def _content_columns(masks: npt.NDArray[np.uint64], keys: tuple[str, ...]) -> dict[str, Any]:
    tracked = keys[:_TRACKED_CONTENT_KEYS]
    bits = np.array([1 << i for i in range(len(tracked))], dtype=np.uint64)
    # Frequency of each tracked key over the distinct masks, weighted by how often each occurs.
    distinct, inverse, counts = np.unique(masks, return_inverse=True, return_counts=True)
    present = (distinct[:, None] & bits[None, :]) != 0
    frequency = counts @ present if len(distinct) else np.zeros(len(tracked))
    chosen = sorted(np.argsort(-frequency, kind="stable")[:MAX_CONTENT_KEYS].tolist())
    return {
        "content": present[:, chosen][inverse] if len(distinct) else np.zeros((0, len(chosen)), dtype=bool),
        "content_labels": tuple(tracked[i] for i in chosen),
    }
