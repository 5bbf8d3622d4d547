"""A swarm with planted patterns and known truth, for the learning cycle's tests and benchmarks.

Every recommendation's approval is drawn from a known probability, set by the first planted
pattern it matches (``PLANTED``, in order), else ``OTHERWISE``:

- a **consensus of three**: in ``consensus_share`` of the workflows three agents propose the same
  action (worded differently: the canonical form must see through it); approved 95 %;
- an **expert for one type**: ``EXPERT-01``'s content recommendations; approved 92 %;
- a **failing confidence band**: stated confidence below 0.5; approved 10 %;
- a **high-confidence success**: confidence of 0.8 or more; approved 90 %;
- anything else (medium confidence, alone): approved 50 %, a coin the patterns cannot call.

Agents agreeing in a consensus state medium or high confidence. Noise the miner must not report:
a dozen interchangeable agents, five types, and content keys unrelated to the outcome.
Deterministic: everything comes from ``random.Random(seed)``.

Other patterns can be planted (``planted=``): a condition may name the agent, the type, the
confidence band, the consensus size, a content key (``has=budget``) and any registered feature
computed row by row (``Feature.of_row``). Features that depend on other recommendations (expert,
dissent) cannot be planted one recommendation at a time: they are refused.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from swarm_learning.domain.evaluated import EvaluatedRow, canonical_action, content_keys
from swarm_learning.domain.feature_registry import FEATURES, HIGH_CONFIDENCE, LOW_CONFIDENCE

TYPES = ("strategy", "content", "research", "analytics", "campaign")
EXPERT = "EXPERT-01"
AGENTS = (EXPERT, *(f"AGENT-{i:02d}" for i in range(2, 13)))
OPTIONAL_KEYS = ("channels", "budget", "audience", "deadline")
OTHERWISE = 0.5


@dataclass(frozen=True)
class PlantedPattern:
    name: str
    condition: tuple[str, ...]  # in the miner's item vocabulary
    success_probability: float


PLANTED = (
    PlantedPattern("consensus of three", ("consensus=3+",), 0.95),
    PlantedPattern("expert for one type", (f"agent={EXPERT}", "type=content"), 0.92),
    PlantedPattern("failing confidence band", ("confidence=low",), 0.10),
    PlantedPattern("high-confidence success", ("confidence=high",), 0.90),
)


@dataclass(frozen=True)
class PlantedRecommendation:
    workflow_id: str
    agent_id: str
    recommendation_type: str
    content: dict[str, Any]
    confidence_score: float
    created_at: datetime
    success_probability: float  # the truth the outcome was drawn from
    approved: bool

    def row(self) -> EvaluatedRow:
        return _row(
            self.workflow_id,
            self.agent_id,
            self.recommendation_type,
            self.content,
            self.confidence_score,
            self.created_at,
            self.approved,
        )

    def track_fields(self) -> dict[str, Any]:
        """The track request's fields this recommendation sets (the rest are the caller's)."""
        return {
            "agent_id": self.agent_id,
            "workflow_id": self.workflow_id,
            "correlation_id": self.workflow_id,
            "recommendation_type": self.recommendation_type,
            "recommendation_content": self.content,
            "confidence_score": self.confidence_score,
        }


def _row(
    workflow_id: str,
    agent: str,
    rtype: str,
    content: dict[str, Any],
    confidence: float,
    at: datetime,
    approved: bool,
) -> EvaluatedRow:
    return EvaluatedRow(
        agent_id=agent,
        recommendation_type=rtype,
        workflow_id=workflow_id,
        confidence_score=confidence,
        action_key=canonical_action(content),
        content_keys=content_keys(content),
        created_at=at.timestamp(),
        approved=approved,
    )


# Features the generator knows for each recommendation it makes (the consensus size by construction).
_KNOWN = ("agent", "type", "confidence", "consensus", FEATURES.attributes().name)


class _Truth:
    """The planted patterns: the success probability of a recommendation, from the first pattern
    whose condition its items meet."""

    def __init__(self, planted: tuple[PlantedPattern, ...]) -> None:
        self.planted = planted
        named = {item.partition("=")[0] for pattern in planted for item in pattern.condition}
        self.row_wise = [f for f in FEATURES.row_wise() if f.name in named]
        unplantable = named - set(_KNOWN) - {f.name for f in self.row_wise}
        if unplantable:
            raise ValueError(
                f"cannot plant {sorted(unplantable)}: not a registered feature computed row by row"
            )
        self.needs_keys = FEATURES.attributes().name in named

    def probability(
        self,
        workflow_id: str,
        agent: str,
        rtype: str,
        content: dict[str, Any],
        confidence: float,
        at: datetime,
        consensus: str,
    ) -> float:
        band = (
            "high" if confidence >= HIGH_CONFIDENCE else "medium" if confidence >= LOW_CONFIDENCE else "low"
        )
        items = {f"agent={agent}", f"type={rtype}", f"confidence={band}", f"consensus={consensus}"}
        if self.needs_keys:
            items.update(f"{FEATURES.attributes().name}={key}" for key in content_keys(content))
        if self.row_wise:
            row = _row(workflow_id, agent, rtype, content, confidence, at, approved=False)
            items.update(f"{f.name}={f.of_row(row)}" for f in self.row_wise if f.of_row is not None)
        for pattern in self.planted:
            if items.issuperset(pattern.condition):
                return pattern.success_probability
        return OTHERWISE


def _confidence(rng: random.Random) -> float:
    draw = rng.random()
    if draw < 0.30:
        return round(rng.uniform(0.05, 0.49), 3)
    if draw < 0.40:
        return round(rng.uniform(0.5, 0.79), 3)
    return round(rng.uniform(0.8, 0.99), 3)


def _content(rng: random.Random, action: str) -> dict[str, Any]:
    content: dict[str, Any] = {"action": action}
    for key in OPTIONAL_KEYS:
        if rng.random() < 0.4:
            content[key] = rng.choice(("a", "b", "c"))
    return content


def planted_workflows(
    count: int,
    *,
    seed: int,
    start: datetime,
    span: timedelta = timedelta(days=7),
    consensus_share: float = 0.2,
    planted: tuple[PlantedPattern, ...] = PLANTED,
) -> Iterator[list[PlantedRecommendation]]:
    """``count`` workflows spread evenly over ``span`` from ``start``, each a list of its
    recommendations (one to three agents), approved with the probability of the first of
    ``planted`` they match."""
    truth = _Truth(planted)
    rng = random.Random(seed)
    step = span / max(count, 1)
    for number in range(count):
        at = start + step * number
        workflow_id = f"wf_{seed}_{number:07d}"
        rtype = rng.choice(TYPES)
        recommendations = []
        if rng.random() < consensus_share:
            action = f"shared-{rng.randrange(50)}"
            for offset, agent in enumerate(rng.sample(AGENTS, 3)):
                # The same action, worded differently by each agent.
                content = {"Action": f" {action.upper()} "} if offset == 1 else {"action": action}
                confidence = round(rng.uniform(0.6, 0.99), 3)
                p = truth.probability(workflow_id, agent, rtype, content, confidence, at, "3+")
                recommendations.append(
                    _recommendation(rng, workflow_id, agent, rtype, content, confidence, at, p)
                )
        else:
            for offset, agent in enumerate(rng.sample(AGENTS, rng.choice((1, 2)))):
                confidence = _confidence(rng)
                content = _content(rng, f"own-{number}-{offset}")
                p = truth.probability(workflow_id, agent, rtype, content, confidence, at, "1")
                recommendations.append(
                    _recommendation(rng, workflow_id, agent, rtype, content, confidence, at, p)
                )
        yield recommendations


def _recommendation(
    rng: random.Random,
    workflow_id: str,
    agent: str,
    rtype: str,
    content: dict[str, Any],
    confidence: float,
    at: datetime,
    probability: float,
) -> PlantedRecommendation:
    return PlantedRecommendation(
        workflow_id=workflow_id,
        agent_id=agent,
        recommendation_type=rtype,
        content=content,
        confidence_score=confidence,
        created_at=at,
        success_probability=probability,
        approved=rng.random() < probability,
    )


def planted_rows(
    count: int,
    *,
    seed: int,
    start: datetime,
    span: timedelta = timedelta(days=7),
    planted: tuple[PlantedPattern, ...] = PLANTED,
) -> Iterator[EvaluatedRow]:
    """About ``count`` evaluated rows, streamed (never all in memory)."""
    produced = 0
    workflows = planted_workflows(count, seed=seed, start=start, span=span, planted=planted)
    for workflow in workflows:
        for recommendation in workflow:
            if produced >= count:
                return
            produced += 1
            yield recommendation.row()
