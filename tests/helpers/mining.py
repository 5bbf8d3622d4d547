"""Evaluated rows for the pattern miner and the learning maths: hand-written or a planted swarm."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from swarm_learning.domain import evaluated as ev
from swarm_learning.domain import features as ft

START = datetime(2026, 11, 1, tzinfo=UTC)


def row(
    i: int,
    agent: str,
    approved: bool,
    *,
    workflow: str | None = None,
    confidence: float = 0.6,
    content: dict | None = None,
    rtype: str = "strategy",
) -> ev.EvaluatedRow:
    content = content or {"action": f"a{i}"}
    return ev.EvaluatedRow(
        agent_id=agent,
        recommendation_type=rtype,
        workflow_id=workflow,
        confidence_score=confidence,
        action_key=ev.canonical_action(content),
        content_keys=ev.content_keys(content),
        created_at=(START + timedelta(minutes=i)).timestamp(),
        approved=approved,
    )


def planted_table(seed: int, n: int = 3000) -> ft.FeatureTable:
    """A swarm with three planted patterns and a 50 % baseline otherwise."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        agent = rng.choice(["A", "B", "C", "D", "E", "F"])
        rtype = rng.choice(["strategy", "content"])
        confidence = rng.random()
        workflow, content, p = f"w{i}", {"action": f"x{i}"}, 0.5
        if rng.random() < 0.15:  # consensus of three agrees on one action: succeeds 95 %
            content, p = {"action": "shared"}, 0.95
            for j, other in enumerate(("G", "H")):
                rows.append(
                    row(10 * i + j + 1, other, rng.random() < 0.95, workflow=workflow, content=content)
                )
        elif agent == "A" and rtype == "content":  # one agent is the expert of one type
            p = 0.92
        elif confidence < ft.LOW_CONFIDENCE:  # a confidence band that fails
            p = 0.15
        rows.append(
            row(
                10 * i,
                agent,
                rng.random() < p,
                workflow=workflow,
                confidence=confidence,
                content=content,
                rtype=rtype,
            )
        )
    rng.shuffle(rows)  # the store yields shards interleaved; the builder restores time order
    return ft.build(rows)
