"""Trust and learning on the demo swarm, through the API: what a user sees after `make demo`.

    python -m bench.trust_demo [--workflows 300] [--seed 7] [--strict]   (from the repository root)

Runs ``make demo``'s default workload in-process: the embedded AWS (moto) and the local HTTP server
(``localdev.runtime.embedded_aws`` + ``localdev.server.serving``), a development key, then
``localdev.demo.run_demo`` with its defaults (300 workflows of the 8-agent ``default_swarm``, seed 7).
It then reads ``GET /trust-scores`` and ``GET /trust-scores?min_trust=0.7`` over HTTP and sets each
agent's trust beside the simulation's hidden truth (the mean success probability behind its evaluated
recommendations, as the demo prints it). Targets (issue 11):

- Spearman(overall_trust_score, hidden success) >= 0.9 over all agents;
- the trusted list at ``min_trust=0.7`` holds no agent below the median hidden success, and is not empty;
- no agent whose approval rate is under the workspace's is ``strong`` or ``very_strong``;
- the degrading agent (ANLY-01, ~0.8 -> ~0.2 after 40 recommendations) is ``declining``.

Then it triggers a learning cycle at the documented defaults (``POST /learning-cycles/trigger``: 7
days, ``min_pattern_confidence`` 0.7), runs it, and reports what it published: patterns per category
(``GET /patterns?category=...``), decision rules, out-of-sample accuracy and coverage with the rows
judged, and the rules a strategy routing decision applies. Targets: a pattern of every category the
demo swarm plants, decision rules, and a routing decision that names the rules it applied.

The demo's clock is the wall clock (it is a real server), so everything lands on today's buckets.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import sys
import urllib.request
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from bench.report import (
    Target,
    add_results_option,
    exit_status,
    header,
    markdown_table,
    results_file,
    targets_section,
    timed,
)
from bench.trust_quality.simulation import spearman

DEGRADING_AGENT = "ANLY-01"
MIN_TRUST = 0.7
TARGET_SPEARMAN = 0.9


CATEGORIES = ("consensus", "failure_avoidance", "expert_opinion", "high_confidence", "success_indicator")
STRATEGY_CANDIDATES = ["STRAT-01", "STRAT-02", "CAMP-01", "RSRCH-02"]


def _post(base: str, key: str, path: str, body: dict[str, Any]) -> Any:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(
        f"{base}/api/v1/learning{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with opener.open(request, timeout=600) as response:
        return json.loads(response.read())


def _learn(functions: Any, base: str, key: str, workspace: str) -> dict[str, Any]:
    """One learning cycle at the defaults, run now, and what it published."""
    accepted = _post(base, key, "/learning-cycles/trigger", {"workspace_id": workspace})
    functions.deliver_events()
    iteration = _get(base, key, f"/learning-cycles/{accepted['iteration_id']}", workspace_id=workspace)
    by_category = {
        category: _get(base, key, "/patterns", workspace_id=workspace, category=category, limit=500)["items"]
        for category in CATEGORIES
    }
    routed = _post(
        base,
        key,
        "/routing/select",
        {
            "workspace_id": workspace,
            "recommendation_type": "strategy",
            "candidates": STRATEGY_CANDIDATES,
            "k": 1,
        },
    )
    return {"iteration": iteration, "patterns": by_category, "routed": routed}


def _get(base: str, key: str, path: str, **query: Any) -> Any:
    url = f"{base}/api/v1/learning{path}?{urlencode(query)}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with opener.open(request, timeout=60) as response:
        return json.loads(response.read())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--workflows", type=int, default=None, help="default: run_demo's (make demo's)")
    parser.add_argument("--seed", type=int, default=None, help="default: run_demo's (make demo's)")
    parser.add_argument("--strict", action="store_true", help="exit with status 1 when a target fails")
    args = add_results_option(parser).parse_args(argv)

    from localdev.demo import run_demo
    from localdev.devkey import issue_dev_key
    from localdev.runtime import embedded_aws
    from localdev.server import serving

    workspace = "ws_demo"
    options = {k: v for k, v in (("workflows", args.workflows), ("seed", args.seed)) if v is not None}
    # The handlers' log lines and metric documents would bury the tables (they go to stdout).
    quiet = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}
    with embedded_aws(quiet) as functions, serving(functions, port=0, quiet=True) as server:
        key = issue_dev_key((workspace,))
        with contextlib.redirect_stdout(io.StringIO()):
            summary, demo_seconds = timed(
                lambda: run_demo(server.url, workspace_id=workspace, progress=False, api_key=key, **options)
            )
        listing, list_seconds = timed(lambda: _get(server.url, key, "/trust-scores", workspace_id=workspace))
        trusted = _get(server.url, key, "/trust-scores", workspace_id=workspace, min_trust=MIN_TRUST)
        workspace_stats = _get(server.url, key, "/stats", workspace_id=workspace)
        learned, learn_seconds = timed(lambda: _learn(functions, server.url, key, workspace))

    truth = {a.agent_id: a.true_success_rate for a in summary.agents if a.true_success_rate is not None}
    scores = {item["agent_id"]: item for item in listing["items"] if item["agent_id"] in truth}
    agents = sorted(truth, key=lambda a: -truth[a])
    workspace_rate = workspace_stats["overall"]["approval_rate"]
    median_truth = statistics.median(truth.values())
    rho = spearman([truth[a] for a in agents], [scores[a]["overall_trust_score"] for a in agents])
    trusted_ids = [item["agent_id"] for item in trusted["items"]]
    below_median_trusted = [a for a in trusted_ids if truth.get(a, 0.0) < median_truth]
    overrated = [
        a
        for a in agents
        if (scores[a]["approval_rate"] or 0.0) < workspace_rate
        and scores[a]["recommendation_strength"] in ("strong", "very_strong")
    ]
    degrading_trend = scores[DEGRADING_AGENT]["trend"] if DEGRADING_AGENT in scores else None

    def cell(item: dict[str, Any], name: str) -> str:
        value = item.get(name)
        return "—" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)

    rows = [
        [
            a,
            f"{truth[a]:.3f}",
            cell(scores[a], "approval_rate"),
            str(scores[a]["evidence"]["evaluated"]),
            *(
                cell(scores[a], name)
                for name in (
                    "accuracy_score",
                    "consistency_score",
                    "timeliness_score",
                    "reliability_score",
                    "confidence_factor",
                    "overall_trust_score",
                    "overall_trust_lower_bound",
                    "recommendation_strength",
                    "trend",
                )
            ),
            "yes" if a in trusted_ids else "",
        ]
        for a in agents
    ]
    targets: list[Target] = [
        (
            f"Spearman(overall_trust_score, hidden success) >= {TARGET_SPEARMAN}",
            f"{rho:.3f}",
            rho >= TARGET_SPEARMAN,
        ),
        (
            f"min_trust={MIN_TRUST}: no agent below the median hidden success ({median_truth:.3f}), not empty",
            f"{len(trusted_ids)} trusted, {len(below_median_trusted)} below the median",
            bool(trusted_ids) and not below_median_trusted,
        ),
        (
            f"no agent under the workspace approval rate ({workspace_rate:.3f}) is strong / very_strong",
            ", ".join(overrated) or "none",
            not overrated,
        ),
        (
            f"{DEGRADING_AGENT} (degrades after 40 recommendations) is declining",
            str(degrading_trend),
            degrading_trend == "declining",
        ),
    ]
    result = learned["iteration"]["result"] or {}
    patterns = learned["patterns"]
    routed = learned["routed"]
    learning_rows = [
        [
            category,
            str(len(patterns[category])),
            "; ".join(
                f"{' & '.join(p['condition'])} ({p['success_rate']:.0%} of {p['frequency_count']})"
                for p in patterns[category][:3]
            )
            or "—",
        ]
        for category in CATEGORIES
    ]
    missing = [c for c in CATEGORIES if not patterns[c]]
    targets += [
        ("a pattern of every category the demo swarm plants", ", ".join(missing) or "all found", not missing),
        ("decision rules", str(result.get("rules_updated")), bool(result.get("rules_updated"))),
        (
            "a strategy routing decision applies rules",
            ", ".join(routed["applied_rules"]) or "none",
            bool(routed["applied_rules"]),
        ),
    ]
    accuracy = result.get("iteration_accuracy")
    learning_summary = (
        f"### Learning cycle on the demo workspace (defaults: 7 days, min_pattern_confidence 0.7; "
        f"{learn_seconds:.1f} s through the API)\n\n"
        f"status {learned['iteration']['status']}: {result.get('samples_analyzed')} evaluated recommendations, "
        f"{result.get('patterns_discovered')} patterns, {result.get('rules_updated')} decision rules; "
        f"iteration_accuracy {'—' if accuracy is None else f'{accuracy:.3f}'} and coverage "
        f"{result.get('coverage', 0.0):.3f} out of sample ({result.get('validation_judged')} of "
        f"{result.get('validation_samples')} held-out rows judged). A strategy routing decision over "
        f"{', '.join(STRATEGY_CANDIDATES)} (k=1) chose {', '.join(c['agent_id'] for c in routed['chosen'])}, "
        f"applying {', '.join(routed['applied_rules']) or 'no rule'}.\n\n"
        + markdown_table(["category", "patterns", "strongest (approved, of)"], learning_rows)
    )
    output = "\n\n".join(
        [
            header(("moto", "boto3"), "bench.trust_demo", argv),
            f"### Trust on the demo workspace ({summary.workflows} workflows, {summary.tracked} tracked, "
            f"{summary.evaluated} evaluated; demo {demo_seconds:.0f} s, GET /trust-scores {list_seconds * 1e3:.0f} ms)",
            "Agents by hidden success (the mean success probability behind their evaluated recommendations); "
            f"workspace approval rate {workspace_rate:.3f}; trusted: in `GET /trust-scores?min_trust={MIN_TRUST}`.",
            markdown_table(
                [
                    "agent",
                    "hidden success",
                    "approval",
                    "evaluated",
                    "accuracy",
                    "consistency",
                    "timeliness",
                    "reliability",
                    "conf. factor",
                    "overall",
                    "lower bound",
                    "strength",
                    "trend",
                    "trusted",
                ],
                rows,
            ),
            learning_summary,
            targets_section(targets),
        ]
    )
    with results_file(args.save):
        print(output)
    return exit_status(args.strict, targets)


if __name__ == "__main__":
    sys.exit(main())
