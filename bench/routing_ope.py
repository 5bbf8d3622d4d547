"""Off-policy evaluation of routing on a simulator where the truth is known.

A swarm of 8 agents with hidden approval rates per recommendation type (2 types) is routed by the
service's logging router: Thompson sampling over the routing posterior (``Beta(1 + approved,
1 + misses)`` per agent and type, refreshed every 20 decisions), first-slot probabilities by the
same seeded Monte-Carlo as ``routing.decide`` (4,000 draws), and the default exploration floor
0.05. Each decision offers one of three candidate sets (all 8, the first 5, the last 5). The
outcome of the agent seated first is drawn from its hidden rates: approved ``p``, partial
``0.15 (1 - p)``, else rejected (reward 1, 1/2, 0).

For each policy the truth is known exactly: the mean over the logged decisions of
``sum_a pi(a | x) E[reward | a]``. Over 200 seeds, at 500 and 2,000 decisions (the first 500 of
each seed's 2,000), the table reports each estimator's bias, RMSE and the coverage of its 95 %
interval, and the mean effective sample size. Then the time the estimators take per 100,000
decisions (arrays -> three estimates of one policy; stored items -> arrays), and a comparison with
Vowpal Wabbit's ``--cb --eval`` (an independent IPS and DR) on one log.

    .venv/bin/python -m bench.routing_ope [--seeds 200] [--decisions 2000]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

from bench.report import machine_line, markdown_table
from swarm_learning.domain import off_policy
from swarm_learning.domain.beta import beta_quantile

AGENTS = [f"AG-{i}" for i in range(8)]
# Hidden approval rates per type: the best agent differs between types, two are close at the top.
RATES = np.array(
    [
        [0.82, 0.80, 0.74, 0.66, 0.60, 0.52, 0.45, 0.35],
        [0.50, 0.62, 0.85, 0.83, 0.58, 0.70, 0.40, 0.30],
    ]
)
PARTIAL = 0.15 * (1 - RATES)
MEAN_REWARD = RATES + 0.5 * PARTIAL
CANDIDATE_SETS = [list(range(8)), [0, 1, 2, 3, 4], [3, 4, 5, 6, 7]]
FLOOR = 0.05
REFRESH = 20  # decisions between posterior refreshes
ESTIMATORS = ("ips", "snips", "dr")
POLICIES = ("explore", "exploit", "uniform", "agent AG-0", "agent AG-7")


@dataclass
class SimulatedLog:
    log: off_policy.LoggedDecisions
    types: np.ndarray
    sets: np.ndarray


def simulate(seed: int, decisions: int) -> SimulatedLog:
    rng = np.random.default_rng(seed)
    width = len(AGENTS)
    approved = np.zeros((2, width))
    evaluated = np.zeros((2, width))
    logged = np.zeros((decisions, width))
    thompson = np.zeros((decisions, width))
    lower = np.zeros((decisions, width))
    model = np.zeros((decisions, width))
    mask = np.zeros((decisions, width), dtype=bool)
    chosen = np.zeros(decisions, dtype=np.int64)
    rewards = np.zeros(decisions)
    types = rng.integers(2, size=decisions)
    sets = rng.integers(len(CANDIDATE_SETS), size=decisions)
    for start in range(0, decisions, REFRESH):
        alpha, beta = 1 + approved, 1 + evaluated - approved
        bounds = np.vectorize(lambda a, b: beta_quantile(0.05, a, b))(alpha, beta)
        cache: dict[tuple[int, int], np.ndarray] = {}
        for i in range(start, min(start + REFRESH, decisions)):
            t, s = int(types[i]), int(sets[i])
            columns = CANDIDATE_SETS[s]
            if (t, s) not in cache:
                cache[(t, s)] = off_policy.thompson_first_slot(alpha[t, columns], beta[t, columns], rng)
            first = np.zeros(width)
            first[columns] = cache[(t, s)]
            mask[i, columns] = True
            thompson[i] = first
            logged[i] = off_policy.with_floor(first[None, :], FLOOR, mask[i][None, :])[0]
            lower[i, columns] = bounds[t, columns]
            model[i, columns] = alpha[t, columns] / (alpha[t, columns] + beta[t, columns])
            # The router's own draw: the floor's uniform choice, else Thompson's best draw.
            if rng.random() < FLOOR:
                agent = int(rng.choice(columns))
            else:
                agent = columns[int(np.argmax(rng.beta(alpha[t, columns], beta[t, columns])))]
            chosen[i] = agent
            u = rng.random()
            outcome = 1.0 if u < RATES[t, agent] else 0.5 if u < RATES[t, agent] + PARTIAL[t, agent] else 0.0
            rewards[i] = outcome
        for i in range(start, min(start + REFRESH, decisions)):
            evaluated[types[i], chosen[i]] += 1
            approved[types[i], chosen[i]] += rewards[i] == 1.0
    log = off_policy.LoggedDecisions(
        agents=[AGENTS] * decisions,  # every column is an agent; absent ones are masked out
        logged=logged,
        chosen=chosen,
        rewards=rewards,
        reward_model=model,
        lower_bound=lower,
        thompson_all=thompson,
        thompson_offered=thompson,
        offered=mask.copy(),
        preferred=np.full(decisions, -1, dtype=np.int64),
        mask=mask,
    )
    return SimulatedLog(log, types, sets)


def _agent_policy(log: off_policy.LoggedDecisions, column: int) -> np.ndarray:
    out = off_policy.uniform_policy(log)
    present = log.mask[:, column]
    out[present] = 0.0
    out[present, column] = 1.0
    return out


def targets(log: off_policy.LoggedDecisions) -> dict[str, np.ndarray]:
    return {
        "explore": off_policy.explore_policy(log),
        "exploit": off_policy.exploit_policy(log),
        "uniform": off_policy.uniform_policy(log),
        "agent AG-0": _agent_policy(log, 0),
        "agent AG-7": _agent_policy(log, 7),
    }


def prefix(sim: SimulatedLog, n: int) -> SimulatedLog:
    log = sim.log
    cut = off_policy.LoggedDecisions(
        agents=log.agents[:n],
        logged=log.logged[:n],
        chosen=log.chosen[:n],
        rewards=log.rewards[:n],
        reward_model=log.reward_model[:n],
        lower_bound=log.lower_bound[:n],
        thompson_all=log.thompson_all[:n],
        thompson_offered=log.thompson_offered[:n],
        offered=log.offered[:n],
        preferred=log.preferred[:n],
        mask=log.mask[:n],
    )
    return SimulatedLog(cut, sim.types[:n], sim.sets[:n])


def accuracy(seeds: int, sizes: tuple[int, ...]) -> tuple[str, float]:
    began = time.perf_counter()
    # results[n][policy][estimator] = list of (estimate, lower, upper, truth); ess[n][policy]
    results: dict[int, dict[str, dict[str, list[tuple[float, float, float, float]]]]] = {
        n: {p: {e: [] for e in ESTIMATORS} for p in POLICIES} for n in sizes
    }
    ess: dict[int, dict[str, list[float]]] = {n: {p: [] for p in POLICIES} for n in sizes}
    for seed in range(seeds):
        full = simulate(seed, max(sizes))
        for n in sizes:
            sim = prefix(full, n)
            expected = MEAN_REWARD[sim.types]  # per decision and agent column
            for name, target in targets(sim.log).items():
                truth = float((target * expected).sum(axis=1).mean())
                made = off_policy.evaluate(sim.log, target)
                ess[n][name].append(made.effective_sample_size)
                for estimator, e in made.estimates.items():
                    results[n][name][estimator].append((e.value, e.lower or 0.0, e.upper or 0.0, truth))
    rows = []
    for n in sizes:
        for name in POLICIES:
            for estimator in ESTIMATORS:
                a = np.array(results[n][name][estimator])
                error = a[:, 0] - a[:, 3]
                covered = (a[:, 1] <= a[:, 3]) & (a[:, 3] <= a[:, 2])
                rows.append(
                    [
                        n,
                        name,
                        estimator,
                        f"{a[:, 3].mean():.3f}",
                        f"{error.mean():+.4f}",
                        f"{np.sqrt((error**2).mean()):.4f}",
                        f"{covered.mean():.3f}",
                        f"{(a[:, 2] - a[:, 1]).mean():.3f}",
                        f"{np.mean(ess[n][name]):.0f}",
                    ]
                )
    table = markdown_table(
        [
            "decisions",
            "policy",
            "estimator",
            "truth (mean)",
            "bias",
            "RMSE",
            "coverage 95 %",
            "CI width",
            "ESS",
        ],
        rows,
    )
    return table, time.perf_counter() - began


def _stored_items(sim: SimulatedLog) -> tuple[list[dict], dict[str, str]]:
    """The simulated decisions as the decision log stores them (what the service parses)."""
    log = sim.log
    items, outcomes = [], {}
    statuses = {1.0: "approved", 0.5: "partial", 0.0: "rejected"}
    for i in range(len(log)):
        columns = np.flatnonzero(log.mask[i])
        items.append(
            {
                "decision_id": f"dec_{i}",
                "chosen": [{"agent_id": AGENTS[int(log.chosen[i])]}],
                "preferred": [],
                "candidates": [
                    {
                        "agent_id": AGENTS[j],
                        "alpha": 2.0,
                        "beta": 2.0,
                        "lower_bound": float(log.lower_bound[i, j]),
                        "offered": True,
                        "first_slot_probability": float(log.logged[i, j]),
                        "thompson_first": float(log.thompson_all[i, j]),
                        "thompson_offered": float(log.thompson_offered[i, j]),
                    }
                    for j in columns
                ],
            }
        )
        outcomes[f"dec_{i}"] = statuses[float(log.rewards[i])]
    return items, outcomes


def speed() -> str:
    sim = simulate(0, 2000)
    repeats = 50  # 100,000 decisions
    big = off_policy.LoggedDecisions(
        agents=sim.log.agents * repeats,
        logged=np.tile(sim.log.logged, (repeats, 1)),
        chosen=np.tile(sim.log.chosen, repeats),
        rewards=np.tile(sim.log.rewards, repeats),
        reward_model=np.tile(sim.log.reward_model, (repeats, 1)),
        lower_bound=np.tile(sim.log.lower_bound, (repeats, 1)),
        thompson_all=np.tile(sim.log.thompson_all, (repeats, 1)),
        thompson_offered=np.tile(sim.log.thompson_offered, (repeats, 1)),
        offered=np.tile(sim.log.offered, (repeats, 1)),
        preferred=np.tile(sim.log.preferred, repeats),
        mask=np.tile(sim.log.mask, (repeats, 1)),
    )
    rows = []
    for name, target in targets(big).items():
        times = []
        for _ in range(5):
            began = time.perf_counter()
            off_policy.evaluate(big, target)
            times.append(time.perf_counter() - began)
        rows.append([f"IPS + SNIPS + DR of `{name}` (arrays)", f"{np.median(times) * 1000:.1f} ms"])
    began = time.perf_counter()
    off_policy.against_best_agent(big)
    rows.append(
        [
            "best fixed agent (SNIPS of every agent) and the difference",
            f"{(time.perf_counter() - began) * 1000:.1f} ms",
        ]
    )
    items, outcomes = _stored_items(sim)
    items, outcomes = items * repeats, outcomes  # the same 2,000 ids: the join is a dict lookup
    began = time.perf_counter()
    off_policy.decision_log(items, outcomes)
    rows.append(["stored items -> arrays (`decision_log`)", f"{(time.perf_counter() - began) * 1000:.0f} ms"])
    return markdown_table(["per 100,000 decisions (8 candidates)", "median of 5 (ms)"], rows)


def vowpal_wabbit() -> str:
    """IPS and DR of deterministic policies by Vowpal Wabbit's ``--cb 8 --eval`` on one log."""
    try:
        import vowpalwabbit
    except ImportError:
        return "vowpalwabbit is not installed (pip install -r requirements-bench.txt)."
    sim = simulate(0, 2000)
    log = sim.log
    rows = []
    for name, target in targets(log).items():
        if not np.all(np.isin(target, (0.0, 1.0))):
            continue  # --eval scores one action per example: deterministic policies only
        action = target.argmax(axis=1)
        ours = off_policy.evaluate(log, target).estimates
        figures = {}
        for cb_type in ("ips", "dr"):
            vw = vowpalwabbit.Workspace(f"--cb {len(AGENTS)} --eval --cb_type {cb_type} --quiet")
            for i in range(len(log)):
                p = log.logged[i, log.chosen[i]]
                # cost = -reward; the context names the type and the candidate set.
                vw.learn(
                    f"{action[i] + 1} {log.chosen[i] + 1}:{-log.rewards[i]}:{p} | type{sim.types[i]} set{sim.sets[i]}"
                )
            figures[cb_type] = -vw.get_sum_loss() / vw.get_weighted_examples()
            vw.finish()
        rows.append(
            [
                name,
                f"{ours['ips'].value:.5f}",
                f"{figures['ips']:.5f}",
                f"{ours['dr'].value:.4f}",
                f"{figures['dr']:.4f}",
            ]
        )
    return markdown_table(
        [
            "policy (deterministic)",
            "IPS here",
            "IPS Vowpal Wabbit",
            "DR here (posterior mean)",
            "DR Vowpal Wabbit (its regressor)",
        ],
        rows,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--decisions", type=int, nargs="+", default=[500, 2000])
    args = parser.parse_args()
    print(machine_line(["numpy", "vowpalwabbit"] if _has_vw() else ["numpy"]))
    if args.seeds:  # --seeds 0: only the time and the comparison
        print(f"\n### Accuracy over {args.seeds} seeds\n")
        table, seconds = accuracy(args.seeds, tuple(args.decisions))
        print(table)
        print(f"\n({seconds:.0f} s)")
    print("\n### Time\n")
    print(speed())
    print("\n### Against Vowpal Wabbit (seed 0, 2,000 decisions)\n")
    print(vowpal_wabbit())
    return 0


def _has_vw() -> bool:
    try:
        import vowpalwabbit  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    raise SystemExit(main())
