"""Synthetic evaluated rows, streamed from a seeded generator (never a list of all rows)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from swarm_learning.domain.evaluated import EvaluatedRow
from swarm_learning.domain.patterns import MiningConfig

if TYPE_CHECKING:
    pass


DEFAULT_SIZES = (10_000, 100_000, 1_000_000)


SEED = 20_250_601


MIN_SUPPORT = MiningConfig().min_support  # the miner's default, in rows


BEST_OF_SMALL = 3  # runs per measurement at sizes <= SMALL_SIZE (best kept); 1 above


SMALL_SIZE = 100_000


SYNTHETIC_START = datetime(2025, 6, 1, tzinfo=UTC)


SYNTHETIC_SPAN_SECONDS = 7 * 86_400.0


SYNTHETIC_AGENTS = 200  # drawn with Zipf weights (1/rank): a few busy agents, a long tail


SYNTHETIC_TYPES = ("strategy", "content", "research", "analytics", "campaign")


SYNTHETIC_CONTENT_KEYS = (
    "action",
    "channels",
    "budget",
    "audience",
    "deadline",
    "tone",
    "region",
    "format",
    "language",
    "priority",
)


WORKFLOW_SIZE = 3  # rows per workflow


CONSENSUS_SHARE = 0.2  # workflows whose rows all propose one action


EXPERT_AGENTS = 2  # AGENT-000 and AGENT-001 are experts on "content"


OWN_ACTIONS = 4_096  # pool of action keys of rows proposing their own action


SHARED_ACTIONS = 64


KEY_SETS = 128  # pool of content-key tuples


CHUNK = 4_096  # rows drawn per batch of rng.choices


JITTER_SECONDS = 3_600.0  # rows arrive out of time order, as from the store's shards


class BenchmarkError(RuntimeError):
    """The benchmark could not measure what it claims to (an unexpected answer)."""


def synthetic_rows(count: int, *, seed: int = SEED) -> Iterator[EvaluatedRow]:
    """``count`` evaluated rows over 7 days, streamed, from pools drawn once (agents, action keys,
    content-key tuples) so each row costs a few draws. Agents are drawn with Zipf weights, so the
    long tail puts items and pairs on both sides of the miner's minimum support at every size.
    Workflows of three rows; in a fifth of them the three propose one action (consensus, approved
    95 %); the two busiest agents are experts on one type (92 %); otherwise approval follows the
    confidence band (low 15 %, medium 50 %, high 85 %)."""
    rng = random.Random(seed)
    agents = tuple(f"AGENT-{i:03d}" for i in range(SYNTHETIC_AGENTS))
    own_actions = tuple(f"{rng.getrandbits(64):016x}" for _ in range(OWN_ACTIONS))
    shared_actions = tuple(f"{rng.getrandbits(64):016x}" for _ in range(SHARED_ACTIONS))
    optional = SYNTHETIC_CONTENT_KEYS[1:]
    key_sets = tuple(
        ("action", *sorted(rng.sample(optional, rng.randrange(len(optional) // 2 + 1))))
        for _ in range(KEY_SETS)
    )
    jitter = tuple(rng.uniform(0.0, JITTER_SECONDS) for _ in range(CHUNK))
    agent_weights = list(itertools.accumulate(1.0 / rank for rank in range(1, SYNTHETIC_AGENTS + 1)))
    start = SYNTHETIC_START.timestamp()
    step = SYNTHETIC_SPAN_SECONDS / max(count, 1)
    draw = rng.random
    workflow_id, rtype, consensus, shared = "", "", False, ""
    for base in range(0, count, CHUNK):
        size = min(CHUNK, count - base)
        agent_codes = rng.choices(range(SYNTHETIC_AGENTS), cum_weights=agent_weights, k=size)
        keys = rng.choices(key_sets, k=size)
        for j in range(size):
            i = base + j
            workflow, member = divmod(i, WORKFLOW_SIZE)
            if member == 0:
                workflow_id = f"wf_{workflow:07d}"
                rtype = SYNTHETIC_TYPES[int(draw() * len(SYNTHETIC_TYPES))]
                consensus = draw() < CONSENSUS_SHARE
                shared = shared_actions[workflow % SHARED_ACTIONS]
            agent = agent_codes[j]
            if consensus:
                confidence = 0.6 + 0.39 * draw()
                action, p = shared, 0.95
            else:
                confidence = draw()
                action = own_actions[i % OWN_ACTIONS]
                if agent < EXPERT_AGENTS and rtype == "content":
                    p = 0.92
                elif confidence < 0.5:
                    p = 0.15
                elif confidence >= 0.8:
                    p = 0.85
                else:
                    p = 0.5
            yield EvaluatedRow(
                agents[agent],
                rtype,
                workflow_id,
                confidence,
                action,
                keys[j],
                start + i * step + jitter[j],
                draw() < p,
            )


def best_of(n: int) -> int:
    return BEST_OF_SMALL if n <= SMALL_SIZE else 1


def mib(size: float) -> str:
    return f"{size / 2**20:,.1f}"
