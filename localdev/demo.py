"""Seed a running server with a simulated swarm, over HTTP, the way an orchestrator would.

Every recommendation of every simulated workflow is tracked (with an ``Idempotency-Key``, so
resending one is safe); most workflows are then scored as a whole by
``POST /outcomes/evaluate-workflow`` with a per-recommendation override, the others one
recommendation at a time by ``POST /outcomes/evaluate``; a few recommendations stay pending.
Finally the agents' statistics are read back and set beside the simulation's hidden truth.

Rerunning the same seed against the same server changes nothing: the tracking calls replay
(while their idempotency records live) and the evaluations find their recommendations settled.
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from tqdm import tqdm

from localdev.devkey import saved_dev_key
from localdev.swarm import SimulatedRecommendation, SimulatedWorkflow, Swarm, default_swarm

API_PREFIX = "/api/v1/learning"
SINGLE_EVALUATION_SHARE = 0.30  # workflows whose recommendations are evaluated one by one
PENDING_SHARE = 0.05  # recommendations never evaluated
ALTERNATIVES_SHARE = 0.25  # single evaluations that compare the recommendation with alternatives
MAX_ALTERNATIVES = 3
EVALUATOR_ID = "demo-evaluator"
REQUEST_TIMEOUT_SECONDS = 30.0
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class DemoError(RuntimeError):
    """The demo could not go on (server unreachable, or an answer it did not expect)."""


class DemoHttpError(DemoError):
    """The server answered with a status the demo did not expect."""

    def __init__(self, method: str, url: str, status: int, body: str) -> None:
        super().__init__(f"{method} {url} -> HTTP {status}: {body[:2000]}")
        self.method = method
        self.url = url
        self.status = status
        self.body = body


@dataclass(frozen=True)
class AgentSummary:
    """One agent: what the simulation knows (hidden) beside what the service measured."""

    agent_id: str
    agent_name: str
    recommendations: int
    evaluated: int
    true_success_rate: float | None  # hidden: mean success probability behind the evaluated ones
    observed_tracked: int
    observed_evaluated: int
    approval_rate: float | None  # (approved + partial / 2) / evaluated
    strict_approval_rate: float | None  # approved / evaluated
    avg_quality_score: float | None
    avg_confidence: float | None


@dataclass(frozen=True)
class DemoSummary:
    workspace_id: str
    workflows: int
    tracked: int
    evaluated: int
    pending: int  # left unevaluated on purpose
    already_evaluated: int  # found settled (a rerun of the same seed)
    http_requests: int
    seconds: float
    agents: tuple[AgentSummary, ...] = field(default_factory=tuple)


class _Api:
    """A small JSON client over urllib that counts its requests."""

    def __init__(self, base_url: str, api_key: str, timeout: float = REQUEST_TIMEOUT_SECONDS) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"base_url must be an http(s) URL such as http://127.0.0.1:3000, not {base_url!r}"
            )
        self.base_url = base_url.rstrip("/")
        self.root = self.base_url + API_PREFIX
        self.timeout = timeout
        self.api_key = api_key
        self.requests = 0
        # A local server is reached directly, whatever proxy the environment configures.
        handlers = [urllib.request.ProxyHandler({})] if parts.hostname in _LOOPBACK_HOSTS else []
        self._opener = urllib.request.build_opener(*handlers)

    def url(self, path: str, query: Mapping[str, Any] | None = None) -> str:
        return self.root + path + (f"?{urlencode(query)}" if query else "")

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: Sequence[int] = (200,),
    ) -> tuple[int, Any]:
        url = self.url(path, query)
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - scheme checked
        request.add_header("Accept", "application/json")
        request.add_header("Authorization", f"Bearer {self.api_key}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        self.requests += 1
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise DemoError(
                f"cannot reach {self.base_url} ({reason}); start it with `python -m localdev serve`"
            ) from error
        text = raw.decode("utf-8", errors="replace")
        if status not in expect:
            raise DemoHttpError(method, url, status, text)
        try:
            return status, json.loads(text) if text else None
        except json.JSONDecodeError as error:
            raise DemoHttpError(method, url, status, f"(not JSON) {text}") from error


@dataclass
class _AgentTally:
    recommendations: int = 0
    evaluated: int = 0
    hidden_probability_sum: float = 0.0


@dataclass
class _Run:
    """What the demo did, as it goes."""

    tracked: int = 0
    evaluated: int = 0
    pending: int = 0
    already_evaluated: int = 0
    agents: dict[str, _AgentTally] = field(default_factory=dict)
    example_recommendation_id: str | None = None  # evaluated against alternatives
    example_has_peers: bool = False  # ... that were other agents' recommendations

    def offer_example(self, recommendation_id: str, *, has_peers: bool) -> None:
        if self.example_recommendation_id is None or (has_peers and not self.example_has_peers):
            self.example_recommendation_id, self.example_has_peers = recommendation_id, has_peers

    def settled(self, recommendation: SimulatedRecommendation, *, newly: bool) -> None:
        if not newly:
            self.already_evaluated += 1
            return
        self.evaluated += 1
        tally = self.agents[recommendation.agent_id]
        tally.evaluated += 1
        tally.hidden_probability_sum += recommendation.truth.success_probability


def run_demo(
    base_url: str,
    *,
    workspace_id: str = "ws_demo",
    workflows: int = 300,
    seed: int = 7,
    progress: bool = True,
    api_key: str | None = None,
) -> DemoSummary:
    """Drive the server at ``base_url`` (e.g. ``http://127.0.0.1:3000``) with ``workflows``
    simulated workflows of the default swarm, print a summary table and return the counts.
    ``api_key`` must allow ``workspace_id``; by default, the local server's development key."""
    if workflows < 0:
        raise ValueError("workflows must be >= 0")
    api_key = api_key or saved_dev_key()
    if not api_key:
        raise DemoError("no API key: start the server (`make run`) or set SWARM_API_KEY")
    started = time.perf_counter()
    api = _Api(base_url, api_key)
    swarm = Swarm(default_swarm(seed=seed), seed=seed)
    plan = random.Random(f"{seed}:evaluation-plan")  # which are pending, how each is evaluated
    run = _Run(agents={agent.agent_id: _AgentTally() for agent in swarm.agents})

    with tqdm(total=workflows, unit="workflow", desc="Simulating swarm", disable=not progress) as bar:
        for workflow in swarm.workflows(workspace_id, workflows):
            tracked = [
                (recommendation, _track(api, recommendation)) for recommendation in workflow.recommendations
            ]
            for recommendation, _ in tracked:
                run.tracked += 1
                run.agents[recommendation.agent_id].recommendations += 1
            to_evaluate = [(rec, rid) for rec, rid in tracked if plan.random() >= PENDING_SHARE]
            run.pending += len(tracked) - len(to_evaluate)
            if to_evaluate and plan.random() < SINGLE_EVALUATION_SHARE:
                for recommendation, recommendation_id in to_evaluate:
                    others = [(rec, rid) for rec, rid in tracked if rid != recommendation_id]
                    newly, compared = _evaluate_one(
                        api, plan, workspace_id, recommendation, recommendation_id, others
                    )
                    run.settled(recommendation, newly=newly)
                    if compared:
                        run.offer_example(recommendation_id, has_peers=bool(others))
            elif to_evaluate:
                for recommendation, newly in _evaluate_workflow(api, workspace_id, workflow, to_evaluate):
                    run.settled(recommendation, newly=newly)
            bar.update(1)
            bar.set_postfix(tracked=run.tracked, evaluated=run.evaluated, refresh=False)

    agents = tuple(
        _agent_summary(api, workspace_id, agent.agent_id, agent.agent_name, run.agents[agent.agent_id])
        for agent in swarm.agents
        if run.agents[agent.agent_id].recommendations
    )
    _, workspace = api.call("GET", "/stats", query={"workspace_id": workspace_id})
    summary = DemoSummary(
        workspace_id=workspace_id,
        workflows=workflows,
        tracked=run.tracked,
        evaluated=run.evaluated,
        pending=run.pending,
        already_evaluated=run.already_evaluated,
        http_requests=api.requests,
        seconds=round(time.perf_counter() - started, 2),
        agents=agents,
    )
    print(_report(api, summary, workspace, run.example_recommendation_id))
    return summary


# ---- the calls ---------------------------------------------------------------------------------
def _track(api: _Api, recommendation: SimulatedRecommendation) -> str:
    request = recommendation.request
    _, body = api.call(
        "POST",
        "/recommendations/track",
        body=request,
        headers={
            "Idempotency-Key": f"{request['workflow_id']}:{request['agent_id']}",
            "X-Correlation-Id": request["correlation_id"],
        },
        expect=(201,),
    )
    return str(body["recommendation_id"])


def _evaluate_one(
    api: _Api,
    plan: random.Random,
    workspace_id: str,
    recommendation: SimulatedRecommendation,
    recommendation_id: str,
    others: Sequence[tuple[SimulatedRecommendation, str]],
) -> tuple[bool, bool]:
    """Evaluate one recommendation. Returns whether this call settled it (False: it had been
    evaluated already) and whether it was compared with alternatives."""
    evaluation = recommendation.evaluation
    body: dict[str, Any] = {
        "workspace_id": workspace_id,
        "recommendation_id": recommendation_id,
        "quality_scores": evaluation.quality_scores,
        "overall_quality_score": evaluation.overall_quality_score,
        "evaluator_feedback": evaluation.feedback,
        "evaluator_id": EVALUATOR_ID,
    }
    compared = plan.random() < ALTERNATIVES_SHARE
    if compared:
        alternatives: list[dict[str, Any]] = [
            {
                "recommendation_id": other_id,
                "description": f"{other.request['agent_name']}: {other.request['reasoning']}",
                "quality_score": other.evaluation.overall_quality_score,
            }
            for other, other_id in others[:MAX_ALTERNATIVES]
        ] or [{"description": "Keep the current plan", "quality_score": round(plan.uniform(30, 75), 1)}]
        body["alternatives"] = alternatives
        body["comparative_rank"] = 1 + sum(
            a["quality_score"] > evaluation.overall_quality_score for a in alternatives
        )
    status, answer = api.call(
        "POST",
        "/outcomes/evaluate",
        body=body,
        headers={"X-Correlation-Id": recommendation.request["correlation_id"]},
        expect=(200, 409),
    )
    if status == 409 and answer.get("error") != "already_evaluated":
        raise DemoHttpError("POST", api.url("/outcomes/evaluate"), status, json.dumps(answer))
    return status == 200, compared


def _evaluate_workflow(
    api: _Api,
    workspace_id: str,
    workflow: SimulatedWorkflow,
    to_evaluate: Sequence[tuple[SimulatedRecommendation, str]],
) -> list[tuple[SimulatedRecommendation, bool]]:
    """Score the workflow as a whole, each recommendation with its own score as an override;
    returns each recommendation with whether this call settled it."""
    body = {
        "workspace_id": workspace_id,
        "workflow_id": workflow.workflow_id,
        "recommendations": [rid for _, rid in to_evaluate],
        "quality_scores": workflow.quality_scores,
        "overall_quality_score": workflow.overall_quality_score,
        "feedback": workflow.feedback,
        "evaluator_id": EVALUATOR_ID,
        "overrides": {
            rid: {
                "overall_quality_score": rec.evaluation.overall_quality_score,
                "quality_scores": rec.evaluation.quality_scores,
                "evaluator_feedback": rec.evaluation.feedback,
            }
            for rec, rid in to_evaluate
        },
    }
    _, answer = api.call(
        "POST",
        "/outcomes/evaluate-workflow",
        body=body,
        headers={"X-Correlation-Id": workflow.correlation_id},
    )
    results = {item["recommendation_id"]: item for item in answer["results"]}
    settled = []
    for recommendation, recommendation_id in to_evaluate:
        status = results.get(recommendation_id, {}).get("status")
        if status not in ("evaluated", "already_evaluated"):
            raise DemoHttpError("POST", api.url("/outcomes/evaluate-workflow"), 200, json.dumps(answer))
        settled.append((recommendation, status == "evaluated"))
    return settled


def _agent_summary(
    api: _Api, workspace_id: str, agent_id: str, agent_name: str, tally: _AgentTally
) -> AgentSummary:
    _, stats = api.call("GET", f"/agents/{agent_id}/stats", query={"workspace_id": workspace_id})
    overall = stats["overall"]
    return AgentSummary(
        agent_id=agent_id,
        agent_name=agent_name,
        recommendations=tally.recommendations,
        evaluated=tally.evaluated,
        true_success_rate=tally.hidden_probability_sum / tally.evaluated if tally.evaluated else None,
        observed_tracked=overall["counts"]["tracked"],
        observed_evaluated=overall["counts"]["evaluated"],
        approval_rate=overall["approval_rate"],
        strict_approval_rate=overall["strict_approval_rate"],
        avg_quality_score=overall["avg_quality_score"],
        avg_confidence=overall["avg_confidence"],
    )


# ---- the report --------------------------------------------------------------------------------
def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _quality(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _report(api: _Api, summary: DemoSummary, workspace: Mapping[str, Any], example_id: str | None) -> str:
    header = ("agent", "name", "recs", "true success", "approved", "approval", "quality", "confidence")
    rows = [
        (
            agent.agent_id,
            agent.agent_name,
            str(agent.recommendations),
            _rate(agent.true_success_rate),
            _rate(agent.strict_approval_rate),
            _rate(agent.approval_rate),
            _quality(agent.avg_quality_score),
            _rate(agent.avg_confidence),
        )
        for agent in summary.agents
    ]
    overall = workspace["overall"]
    counts = overall["counts"]
    hidden = [a.true_success_rate * a.evaluated for a in summary.agents if a.true_success_rate is not None]
    rows.append(
        (
            "workspace",
            f"{workspace['agents']} agents",
            str(counts["tracked"]),
            _rate(sum(hidden) / summary.evaluated if summary.evaluated else None),
            _rate(overall["strict_approval_rate"]),
            _rate(overall["approval_rate"]),
            _quality(overall["avg_quality_score"]),
            _rate(overall["avg_confidence"]),
        )
    )
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = [
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        return "  " + "  ".join(cells)

    lines = [
        "",
        f"Seeded workspace '{summary.workspace_id}': {summary.workflows} workflows, {summary.tracked} "
        f"recommendations tracked, {summary.evaluated} evaluated, {summary.pending} left pending"
        + (f", {summary.already_evaluated} already evaluated" if summary.already_evaluated else "")
        + f" ({summary.http_requests} HTTP requests in {summary.seconds:.1f} s)",
        "",
        line(header),
        line(["-" * width for width in widths]),
        *(line(row) for row in rows[:-1]),
        line(["-" * width for width in widths]),
        line(rows[-1]),
        "",
        "  true success: mean hidden success probability of the evaluated recommendations; approved: approved / evaluated;",
        "  approval: (approved + partial / 2) / evaluated; quality and confidence: averages over evaluated.",
        f"  Workspace totals (GET /stats): {counts['tracked']} tracked, {counts['evaluated']} evaluated, "
        f"{counts['pending']} pending, {counts['failed_executions']} failed and "
        f"{counts['timed_out_executions']} timed-out executions.",
        "",
        "Try next (SWARM_API_KEY: the key `serve` printed, also in .localdev/<port>/api-key):",
        *(
            f"  curl -s -H \"Authorization: Bearer $SWARM_API_KEY\" '{url}'"
            for url in _next_urls(api, summary, example_id)
        ),
        "",
    ]
    return "\n".join(lines)


def _next_urls(api: _Api, summary: DemoSummary, example_id: str | None) -> list[str]:
    query = {"workspace_id": summary.workspace_id}
    urls = []
    if example_id is not None:  # a recommendation with its outcome and the alternatives it beat or lost to
        urls.append(api.url(f"/recommendations/{example_id}", query))
    rated = [a for a in summary.agents if a.approval_rate is not None]
    if rated:
        weakest = min(rated, key=lambda a: a.approval_rate or 0.0)
        urls.append(
            api.url(f"/recommendations/agent/{weakest.agent_id}", {**query, "status": "rejected", "limit": 5})
        )
    if len(urls) < 2 and summary.agents:
        urls.append(api.url(f"/agents/{summary.agents[0].agent_id}/stats", query))
    if len(urls) < 2:
        urls.append(api.url("/stats", query))
    return urls[:2]
