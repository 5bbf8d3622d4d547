"""Acceptance replay of off-policy evaluation through the API: does ``POST /routing/evaluate``, from a
log made by the router, predict what other policies really achieve on the same tasks?

One stream of tasks (one recommendation type, five candidate agents of hidden quality) is replayed
through the real handlers on the embedded AWS (moto), each task's outcome drawn once per agent so
every policy meets the same luck (common random numbers):

1. **log**: ``ws_ope_log`` routes every task with ``POST /routing/select`` (explore mode, the
   default floor 0.05), tracks the first-seated agent's recommendation with the decision id and
   evaluates it (approved: score 90; partial: 55; rejected: 15);
2. ``POST /routing/evaluate`` on that log: explore, exploit, uniform, and agent ``AG-3``;
3. **realized**: each policy runs for real on a fresh workspace over the same tasks: explore and
   exploit through ``POST /routing/select`` (floor 0: the pure policies the estimates are of),
   uniform by a seeded uniform choice, the agent by always asking it; then its approval rate
   (approved 1, partial 1/2) is set beside the interval the log gave.

Target: the realized rate inside the reported 95 % interval (SNIPS) for at least 3 of the 4.

    .venv/bin/python -m bench.routing_acceptance [--tasks 600] [--seed 11]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bench.report import machine_line, markdown_table, verdict
from swarm_learning.clock import SteppingClock, install, utcnow
from swarm_learning_client.ids import DECISION_PREFIX, ulid

PREFIX = "/api/v1/learning"
TYPE = "strategy"
# Hidden approval rates; the best agent is not the first by id, so a cold exploit run (ties go to
# the smallest id) does not start on it by luck.
APPROVAL = {"AG-0": 0.55, "AG-1": 0.85, "AG-2": 0.40, "AG-3": 0.78, "AG-4": 0.70}
PARTIAL = 0.10
AGENT = "AG-3"
WORKSPACES = ("ws_ope_log", "ws_ope_explore", "ws_ope_exploit", "ws_ope_uniform", "ws_ope_agent")
SCORES = {"approved": 90.0, "partial": 55.0, "rejected": 15.0}
REWARD = {"approved": 1.0, "partial": 0.5, "rejected": 0.0}


@dataclass(frozen=True)
class Row:
    policy: str
    estimate: float
    lower: float
    upper: float
    realized: float
    effective_sample_size: float

    @property
    def inside(self) -> bool:
        return self.lower <= self.realized <= self.upper


def outcomes(tasks: int, seed: int) -> list[dict[str, str]]:
    """Each task's outcome for every agent, drawn once."""
    rng = random.Random(seed)
    table = []
    for _ in range(tasks):
        u = rng.random()
        table.append(
            {
                agent: "approved" if u < p else "partial" if u < p + PARTIAL else "rejected"
                for agent, p in APPROVAL.items()
            }
        )
    return table


Call = Callable[[str, str, dict[str, Any]], tuple[int, Any]]


def _play(
    call: Call, workspace: str, drawn: list[dict[str, str]], choose: Callable[[int], tuple[str, str | None]]
) -> float:
    """Ask ``choose`` for each task's agent (and decision id), track and evaluate its recommendation."""
    total = 0.0
    for task, by_agent in enumerate(drawn):
        agent, decision_id = choose(task)
        body: dict[str, Any] = {
            "workspace_id": workspace,
            "agent_id": agent,
            "agent_name": agent,
            "recommendation_type": TYPE,
            "recommendation_content": {"task": task},
            "confidence_score": 0.7,
            "workflow_id": f"task_{task}",
        }
        if decision_id is not None:
            body["decision_id"] = decision_id
        status, tracked = call("POST", "/recommendations/track", body)
        assert status == 201, tracked
        status, evaluated = call(
            "POST",
            "/outcomes/evaluate",
            {
                "workspace_id": workspace,
                "recommendation_id": tracked["recommendation_id"],
                "overall_quality_score": SCORES[by_agent[agent]],
            },
        )
        assert status == 200, evaluated
        total += REWARD[by_agent[agent]]
    return total / len(drawn)


def _router(
    call: Call, workspace: str, mode: str, floor: float | None
) -> Callable[[int], tuple[str, str | None]]:
    def choose(task: int) -> tuple[str, str | None]:
        # Minted here from the workspace and the task, dated by the bench's fixed clock: the
        # router's draws (seeded by the decision id) are the same on every run.
        digest = hashlib.blake2b(f"{workspace}:{task}".encode(), digest_size=10).digest()
        minted = ulid(int(utcnow().timestamp() * 1e9), randomness=int.from_bytes(digest, "big"))
        body: dict[str, Any] = {
            "workspace_id": workspace,
            "recommendation_type": TYPE,
            "candidates": list(APPROVAL),
            "mode": mode,
            "decision_id": DECISION_PREFIX + minted,
        }
        if floor is not None:
            body["exploration_floor"] = floor
        status, decision = call("POST", "/routing/select", body)
        assert status == 200, decision
        return decision["chosen"][0]["agent_id"], decision["decision_id"]

    return choose


def replay(call: Call, tasks: int, seed: int) -> tuple[list[Row], dict[str, Any]]:
    drawn = outcomes(tasks, seed)
    log, explore, exploit, uniform, agent = WORKSPACES
    logged = _play(call, log, drawn, _router(call, log, "explore", None))
    status, answer = call(
        "POST",
        "/routing/evaluate",
        {
            "workspace_id": log,
            "policies": [
                {"policy": "explore"},
                {"policy": "exploit"},
                {"policy": "uniform"},
                {"policy": "agent", "agent_id": AGENT},
            ],
        },
    )
    assert status == 200, answer
    assert abs(answer["logged"]["value"] - logged) < 1e-6, (answer["logged"], logged)
    rng = random.Random(seed + 1)
    realized = {
        "explore": _play(call, explore, drawn, _router(call, explore, "explore", 0.0)),
        "exploit": _play(call, exploit, drawn, _router(call, exploit, "exploit", 0.0)),
        "uniform": _play(call, uniform, drawn, lambda _: (rng.choice(list(APPROVAL)), None)),
        f"agent {AGENT}": _play(call, agent, drawn, lambda _: (AGENT, None)),
    }
    rows = []
    for policy, name in zip(answer["policies"], realized, strict=True):
        snips = policy["estimates"]["snips"]
        rows.append(
            Row(
                name,
                snips["value"],
                snips["lower"],
                snips["upper"],
                realized[name],
                policy["effective_sample_size"],
            )
        )
    return rows, answer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=600)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    from localdev import runtime
    from swarm_learning.services.keys.service import KeyRequest, get_key_service

    print(machine_line(["numpy", "moto"]))
    began = time.perf_counter()
    # A fixed, stepping clock: the ids (and so the router's seeded draws) are the same on every run.
    install(SteppingClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC)))
    with runtime.embedded_aws() as functions:
        key = get_key_service().issue(KeyRequest(name="bench", workspaces=list(WORKSPACES))).api_key

        def call(method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
            response = functions.gateway.request(
                method,
                PREFIX + path,
                query={},
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
                body=json.dumps(body),
            )
            return response["statusCode"], json.loads(response["body"]) if response["body"] else None

        with contextlib.redirect_stdout(io.StringIO()):  # the handlers' structured logs and metrics
            rows, answer = replay(call, args.tasks, args.seed)
    print(
        f"\n{args.tasks} tasks, seed {args.seed}; log: {answer['decisions']} decisions, skipped "
        f"{answer['skipped']}, logged approval {answer['logged']['value']:.3f} "
        f"({time.perf_counter() - began:.0f} s)\n"
    )
    print(
        markdown_table(
            [
                "policy",
                "SNIPS estimate from the log",
                "95 % interval",
                "ESS",
                "realized on a fresh workspace",
                "inside",
            ],
            [
                [
                    r.policy,
                    f"{r.estimate:.3f}",
                    f"{r.lower:.3f} to {r.upper:.3f}",
                    f"{r.effective_sample_size:.0f}",
                    f"{r.realized:.3f}",
                    "yes" if r.inside else "no",
                ]
                for r in rows
            ],
        )
    )
    inside = sum(r.inside for r in rows)
    print(f"\n{inside} of {len(rows)} inside; target >= 3: {verdict(inside >= 3)}")
    return 0 if inside >= 3 else 1


if __name__ == "__main__":
    raise SystemExit(main())
