"""The learning features, each declared once (pure).

A feature is a fact about one evaluated recommendation that the miner may find predicts its
outcome. Its ``Feature`` entry says everything the rest of the code needs:

- its **name** and **values**: the miner's items are ``name=value`` (``confidence=high``);
- how its **column** is computed: from the stream's time-ordered columns (``Streamed``, vectorised)
  or from each evaluated row as it streams by (``of_row``, the simple way for a new feature);
- its **rule condition**: the name a decision rule's ``conditions`` use for it;
- its **line in the docs table** (``docs/learning.md``, checked by a test; ``make docs-features``
  rewrites it).

Everything else derives from ``FEATURES``: the categorical features mined (in this order, which
fixes the order of a pair's items), the feature table's columns, the rule-condition mapping, the
planted swarms of ``localdev.planted`` and the docs table. A feature computed from a field the
store already yields is one entry here. A test or a benchmark adds one for a while with
``FEATURES.extended(feature)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from swarm_learning.domain.evaluated import EvaluatedRow

HIGH_CONFIDENCE = 0.8  # the specification's high-confidence threshold
LOW_CONFIDENCE = 0.5
EXPERT_APPROVAL_RATE = 0.75  # the specification's expert: > 75 % approval
EXPERT_MIN_EVALUATIONS = 5
MAX_CONTENT_KEYS = 16  # content attributes mined: the most frequent top-level keys …
TRACKED_CONTENT_KEYS = 64  # … among the first 64 distinct keys of the stream

YES_NO = ("no", "yes")

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.integer[Any]]


@dataclass(frozen=True)
class Streamed:
    """The evaluated rows as columns in time order: what every feature is computed from."""

    created_at: npt.NDArray[np.float64]
    approved: BoolArray
    confidence: npt.NDArray[np.float32]
    agent: IntArray  # codes into ``agents``
    agents: tuple[str, ...]
    rtype: IntArray  # codes into ``types``
    types: tuple[str, ...]
    action: npt.NDArray[np.int64]  # hash of (workflow, action); 0 = no workflow
    workflow: npt.NDArray[np.int64]  # hash of the workflow; 0 = no workflow
    key_mask: npt.NDArray[np.uint64]  # bit i: the row carries ``keys[i]``
    keys: tuple[str, ...]  # content keys in order of first appearance

    def __len__(self) -> int:
        return len(self.approved)

    @cached_property
    def consensus_sizes(self) -> IntArray:
        """Distinct agents that proposed the row's action in its workflow (1 without a workflow)."""
        return _distinct_agents(self.action, self.agent)

    @cached_property
    def workflow_agents(self) -> IntArray:
        """Distinct agents that took part in the row's workflow (1 without a workflow)."""
        return _distinct_agents(self.workflow, self.agent)


@dataclass(frozen=True)
class Feature:
    """One learning feature. Categorical features give every row one of ``values`` (or, when
    ``values`` is empty, one of the data's own values: agents, types); the attribute feature
    (the one with a ``matrix``: content keys) gives every row a set of them."""

    name: str  # the item's prefix: ``name=value``
    title: str  # docs: the feature
    definition: str  # docs: what it means
    condition: str | None  # the rule condition it becomes; None: only ever acted on (agents)
    values: tuple[str, ...] = ()
    # Codes into ``values`` (or the data's values) for every row, from the time-ordered columns …
    column: Callable[[Streamed], IntArray] | None = None
    # … or the value of one evaluated row, computed as rows stream by (one of the two).
    of_row: Callable[[EvaluatedRow], str] | None = None
    data_values: Callable[[Streamed], tuple[str, ...]] | None = None  # when ``values`` is empty
    values_shown_as: str = ""  # docs: how an open-ended value is written (``<id>``)
    # The attribute feature: rows x attributes, and the attributes' names.
    matrix: Callable[[Streamed], tuple[BoolArray, tuple[str, ...]]] | None = None

    @property
    def attributes(self) -> bool:
        return self.matrix is not None

    def __post_init__(self) -> None:
        if not self.attributes and (self.column is None) == (self.of_row is None):
            raise ValueError(f"feature {self.name!r}: give exactly one of column and of_row")
        if not self.attributes and not self.values and (self.data_values is None or self.of_row):
            raise ValueError(f"feature {self.name!r}: give its values")
        if "=" in self.name or "&" in self.name:
            raise ValueError(f"feature {self.name!r}: a name cannot contain '=' or '&'")

    def codes(self, streamed: Streamed) -> IntArray:
        assert self.column is not None, "row-wise features are coded as the rows stream by"
        return self.column(streamed)

    def labels(self, streamed: Streamed) -> tuple[str, ...]:
        return self.data_values(streamed) if self.data_values is not None else self.values

    def code_of_row(self, row: EvaluatedRow) -> int:
        assert self.of_row is not None
        value = self.of_row(row)
        try:
            return self.values.index(value)
        except ValueError:
            raise ValueError(f"feature {self.name!r}: {value!r} is not one of {self.values}") from None

    def items_doc(self) -> str:
        shown = self.values_shown_as or "/".join(self.values)
        return f"`{self.name}={shown}`"


class Registry:
    """The registered features, in mining order."""

    def __init__(self, features: Sequence[Feature]) -> None:
        self._features = self._checked(tuple(features))

    @staticmethod
    def _checked(features: tuple[Feature, ...]) -> tuple[Feature, ...]:
        names = [f.name for f in features]
        conditions = [f.condition for f in features if f.condition is not None]
        if len(set(names)) != len(names) or len(set(conditions)) != len(conditions):
            raise ValueError(f"feature names and rule conditions must be unique: {names}, {conditions}")
        if sum(f.attributes for f in features) != 1:
            raise ValueError("exactly one feature is the content attributes")
        return features

    def __iter__(self) -> Iterator[Feature]:
        return iter(self._features)

    def get(self, name: str) -> Feature | None:
        return next((f for f in self._features if f.name == name), None)

    def categorical(self) -> list[Feature]:
        """The features with one value per row, in mining order."""
        return [f for f in self._features if not f.attributes]

    def row_wise(self) -> list[Feature]:
        return [f for f in self._features if f.of_row is not None]

    def attributes(self) -> Feature:
        return next(f for f in self._features if f.attributes)

    def condition_name(self, item_name: str) -> str | None:
        """The rule condition an item's feature becomes; None for a name no feature has."""
        feature = self.get(item_name)
        return feature.condition if feature is not None else None

    def condition_names(self) -> dict[str, str]:
        return {f.name: f.condition for f in self._features if f.condition is not None}

    def docs_table(self) -> str:
        lines = ["| feature | item(s) | rule condition | definition |", "|---|---|---|---|"]
        lines += [
            f"| {f.title} | {f.items_doc()} | {f'`{f.condition}`' if f.condition else '(acted on)'} "
            f"| {f.definition} |"
            for f in self._features
        ]
        return "\n".join(lines)

    @contextmanager
    def extended(self, *features: Feature) -> Iterator[Registry]:
        """The registry with ``features`` added (after the others) until the block ends."""
        before = self._features
        self._features = self._checked((*before, *features))
        try:
            yield self
        finally:
            self._features = before


# ---- how the built-in features are computed ----------------------------------------------------
CONFIDENCE_BANDS = ("low", "medium", "high")
# A recommendation tracked without a confidence (an OTLP span without swarm.confidence; NaN in the
# column) is in this band; it is a value only when such rows exist, so a workspace that always
# states a confidence mines exactly as before.
UNSTATED_CONFIDENCE = "unstated"


def _confidence_band(rows: Streamed) -> IntArray:
    thresholds = np.array([LOW_CONFIDENCE, HIGH_CONFIDENCE], dtype=np.float32)
    band = np.searchsorted(thresholds, rows.confidence, side="right").astype(np.int8)
    band[np.isnan(rows.confidence)] = len(CONFIDENCE_BANDS)
    return band


def _confidence_bands(rows: Streamed) -> tuple[str, ...]:
    unstated = bool(np.isnan(rows.confidence).any())
    return (*CONFIDENCE_BANDS, UNSTATED_CONFIDENCE) if unstated else CONFIDENCE_BANDS


def _consensus(rows: Streamed) -> IntArray:
    return (np.minimum(rows.consensus_sizes, 3) - 1).astype(np.int8)


def _dissent(rows: Streamed) -> IntArray:
    return ((rows.consensus_sizes == 1) & (rows.workflow_agents >= 2)).astype(np.int8)


def _expert(rows: Streamed) -> IntArray:
    """Whether each row's agent had > 75 % approval over its earlier rows (rows in time order)."""
    order = np.argsort(rows.agent, kind="stable")  # stable: time order kept within each agent
    agents, wins = rows.agent[order], rows.approved[order].astype(np.int64)
    position = np.arange(len(order))
    start = np.r_[True, agents[1:] != agents[:-1]] if len(order) else np.zeros(0, dtype=bool)
    first = np.maximum.accumulate(np.where(start, position, 0))
    before = position - first
    cumulative = np.cumsum(wins) - wins
    wins_before = cumulative - cumulative[first]
    expert = np.zeros(len(order), dtype=np.int8)
    expert[order] = (before >= EXPERT_MIN_EVALUATIONS) & (
        wins_before > EXPERT_APPROVAL_RATE * np.maximum(before, 1)
    )
    return expert


def _distinct_agents(group: npt.NDArray[np.int64], agent: IntArray) -> IntArray:
    """Distinct agents per group (a hash of the workflow and action, or of the workflow alone), for
    every row (1 for rows without a workflow)."""
    sizes = np.ones(len(group), dtype=np.int32)
    grouped = np.flatnonzero(group != 0)
    if not len(grouped):
        return sizes
    order = grouped[np.lexsort((agent[grouped], group[grouped]))]
    keys, agents = group[order], agent[order]
    new_key = np.r_[True, keys[1:] != keys[:-1]]
    new_agent = new_key | np.r_[True, agents[1:] != agents[:-1]]
    number = np.cumsum(new_key) - 1
    distinct = np.bincount(number, weights=new_agent).astype(np.int32)
    sizes[order] = distinct[number]
    return sizes


def content_attributes(rows: Streamed) -> tuple[BoolArray, tuple[str, ...]]:
    """Rows x the ``MAX_CONTENT_KEYS`` most frequent tracked keys (in first-seen order), and those keys."""
    tracked = rows.keys[:TRACKED_CONTENT_KEYS]
    bits = np.array([1 << i for i in range(len(tracked))], dtype=np.uint64)
    # Frequency of each tracked key over the distinct masks, weighted by how often each occurs.
    distinct, inverse, counts = np.unique(rows.key_mask, return_inverse=True, return_counts=True)
    present = (distinct[:, None] & bits[None, :]) != 0
    frequency = counts @ present if len(distinct) else np.zeros(len(tracked))
    chosen = sorted(np.argsort(-frequency, kind="stable")[:MAX_CONTENT_KEYS].tolist())
    matrix = present[:, chosen][inverse] if len(distinct) else np.zeros((0, len(chosen)), dtype=bool)
    return matrix, tuple(tracked[i] for i in chosen)


FEATURES = Registry(
    (
        Feature(
            "agent",
            "agent",
            "the recommending agent",
            condition=None,
            column=lambda rows: rows.agent,
            data_values=lambda rows: rows.agents,
            values_shown_as="<id>",
        ),
        Feature(
            "type",
            "recommendation type",
            "the recommendation's `recommendation_type`",
            condition="recommendation_type",
            column=lambda rows: rows.rtype,
            data_values=lambda rows: rows.types,
            values_shown_as="<type>",
        ),
        Feature(
            "confidence",
            "confidence band",
            f"< {LOW_CONFIDENCE}, < {HIGH_CONFIDENCE}, ≥ {HIGH_CONFIDENCE} (the specification's "
            "high-confidence threshold); `unstated` when the recommendation has no confidence",
            condition="confidence_band",
            column=_confidence_band,
            data_values=_confidence_bands,
            values_shown_as="low/medium/high/unstated",
        ),
        Feature(
            "consensus",
            "consensus size",
            "distinct agents that proposed the *same action* in the same workflow",
            condition="consensus",
            values=("1", "2", "3+"),
            column=_consensus,
        ),
        Feature(
            "expert",
            "expert",
            f"the agent's approval rate over its **earlier** evaluated recommendations was "
            f"> {EXPERT_APPROVAL_RATE * 100:.0f} % (the specification's expert), over at least "
            f"{EXPERT_MIN_EVALUATIONS}",
            condition="expert",
            values=YES_NO,
            column=_expert,
        ),
        Feature(
            "dissent",
            "dissent",
            "consensus' mirror: other agents took part in the workflow and none proposed this "
            "recommendation's action (alone against the others)",
            condition="dissent",
            values=YES_NO,
            column=_dissent,
        ),
        Feature(
            "has",
            "content attributes",
            f"which of the {MAX_CONTENT_KEYS} most frequent top-level content keys the recommendation "
            "carries",
            condition="content_key",
            values_shown_as="<key>",
            matrix=content_attributes,
        ),
    )
)
