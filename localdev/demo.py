"""Seed a running server with a simulated swarm, the way an orchestrator would: through the
Python client (``clients/python``), which sends the events in batches from a background worker.

Every recommendation of every simulated workflow is tracked and most are evaluated (a few stay
pending; some evaluations compare the recommendation with alternatives). Finally the agents'
statistics are read back and set beside the simulation's hidden truth, and the server's trust
refresh runs once (its local jobs route), so the dashboard's "Trust over time" has a point without
waiting for the 6-hourly schedule.

The ids are minted here, deterministically from the seed, the workflow and the agent, with the
time of the hour the run started: rerunning the same seed against the same server within that
hour mints the same ids, so the service answers every event with its stored result and nothing
changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from tqdm import tqdm

from localdev.devkey import saved_dev_key
from localdev.swarm import SimulatedRecommendation, SimulatedWorkflow, Swarm, default_swarm
from swarm_learning_client import ApiError, EventFailure, SwarmLearningClient, TransportError
from swarm_learning_client.ids import DECISION_PREFIX, OUTCOME_PREFIX, RECOMMENDATION_PREFIX, ulid

API_PREFIX = "/api/v1/learning"
SINGLE_EVALUATION_SHARE = 0.30  # workflows whose recommendations are evaluated one by one
PENDING_SHARE = 0.05  # recommendations never evaluated
ALTERNATIVES_SHARE = 0.25  # single evaluations that compare the recommendation with alternatives
MAX_ALTERNATIVES = 3
EVALUATOR_ID = "demo-evaluator"
REQUEST_TIMEOUT_SECONDS = 30.0
SEND_TIMEOUT_SECONDS = 300.0  # for the background sender to deliver everything at the end


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
    trust_refreshed: bool = False  # the server's trust refresh ran once at the end
    new_types: int = 0  # recommendation types the workspace saw for the first time (each warned once)


class _CountingTransport(httpx.HTTPTransport):
    """Counts the HTTP requests the client sends (decisions and batches alike)."""

    def __init__(self) -> None:
        super().__init__()
        self.requests = 0
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests += 1
        return super().handle_request(request)


class _Api:
    """The Python client, with what the demo needs around it: request counting, the events the
    service refused, ids minted deterministically, and errors worded for the demo."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        workspace_id: str,
        seed: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"base_url must be an http(s) URL such as http://127.0.0.1:3000, not {base_url!r}"
            )
        self.base_url = base_url.rstrip("/")
        self.root = self.base_url + API_PREFIX
        self.transport = _CountingTransport()  # an explicit transport: no proxy for a local server
        self.refused: list[EventFailure] = []
        self.client = SwarmLearningClient(
            self.base_url,
            api_key,
            workspace_id=workspace_id,
            timeout=REQUEST_TIMEOUT_SECONDS,
            max_retries=1,
            transport=self.transport,
            on_error=self.refused.append,
        )
        self._seed = seed
        self._workspace_id = workspace_id
        self._api_key = api_key
        # Ids carry the start of this hour plus their ordinal (ms): the same seed re-run within
        # the hour mints the same ids, in the same order.
        self._anchor_ms = int(clock()) // 3600 * 3_600_000
        self._minted = 0

    @property
    def requests(self) -> int:
        return self.transport.requests

    def url(self, path: str, query: Mapping[str, Any] | None = None) -> str:
        return self.root + path + (f"?{urlencode(query)}" if query else "")

    def mint(self, prefix: str, *name: str) -> str:
        digest = hashlib.blake2b(
            ":".join((str(self._seed), self._workspace_id, *name)).encode(), digest_size=10
        )
        self._minted += 1
        at_ns = (self._anchor_ms + self._minted) * 1_000_000
        return prefix + ulid(at_ns, randomness=int.from_bytes(digest.digest(), "big"))

    def read(self, what: str, call: Any, *args: Any, missing: Any = ..., **kwargs: Any) -> Any:
        """A synchronous client call, its failure worded for the demo (``missing``: the answer
        to give for a 404)."""
        try:
            return call(*args, **kwargs)
        except TransportError as error:
            raise DemoError(
                f"cannot reach {self.base_url} ({error.__cause__ or error}); "
                "start it with `python -m localdev serve`"
            ) from error
        except ApiError as error:
            if error.status == 404 and missing is not ...:
                return missing
            raise DemoHttpError("GET", self.url(what), error.status, json.dumps(error.body)) from error

    def finish(self) -> None:
        """Wait until every queued event was answered; the first refused one is an error."""
        if not self.client.flush(timeout=SEND_TIMEOUT_SECONDS):
            raise DemoError(f"events still unsent to {self.base_url} after {SEND_TIMEOUT_SECONDS:.0f} s")
        if self.refused:
            failure = self.refused[0]
            body = json.dumps({"error": failure.error, "message": failure.message, "field": failure.field})
            raise DemoHttpError("POST", self.url("/events/batch"), failure.status or 0, body)

    def refresh_trust(self) -> bool:
        """Run the local server's trust-refresh job once (``POST /_local/jobs/trust-refresh``, which
        takes the server's development key). False when it is not a local server or the key is
        another one: the demo then says how to run it."""
        # Its own transport (closed with it; the client's stays open), explicit: no proxy for a local server.
        with httpx.Client(transport=httpx.HTTPTransport(), timeout=REQUEST_TIMEOUT_SECONDS) as http:
            try:
                response = http.post(
                    f"{self.base_url}/_local/jobs/trust-refresh",
                    json={},
                    headers={"Authorization": f"Bearer {self._api_key}"},
                )
            except httpx.HTTPError:
                return False
        return response.status_code == 200

    def close(self) -> None:
        self.client.close(timeout=SEND_TIMEOUT_SECONDS)


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
    clock: Callable[[], float] = time.time,
) -> DemoSummary:
    """Drive the server at ``base_url`` (e.g. ``http://127.0.0.1:3000``) with ``workflows``
    simulated workflows of the default swarm, print a summary table and return the counts.
    ``api_key`` must allow ``workspace_id``; by default, the local server's development key.
    ``clock`` (seconds since the epoch) dates the ids the demo mints: the server's clock."""
    if workflows < 0:
        raise ValueError("workflows must be >= 0")
    api_key = api_key or saved_dev_key()
    if not api_key:
        raise DemoError("no API key: start the server (`make run`) or set SWARM_API_KEY")
    started = time.perf_counter()
    api = _Api(base_url, api_key, workspace_id, seed, clock)
    # The swarm's types are new to a fresh workspace, on purpose: one line for them in the report,
    # not a client warning per type in the middle of the progress bar.
    new_types = _NewTypeWarnings()
    client_log = logging.getLogger("swarm_learning_client")
    client_log.addFilter(new_types)
    try:
        return _drive(api, workspace_id, workflows, seed, progress, started, new_types)
    finally:
        client_log.removeFilter(new_types)
        api.close()


class _NewTypeWarnings(logging.Filter):
    """Holds back the client's "recommendation_type ... is new to this workspace" warnings, counted."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if "is new to this workspace" in record.getMessage():
            self.count += 1
            return False
        return True


def _drive(
    api: _Api,
    workspace_id: str,
    workflows: int,
    seed: int,
    progress: bool,
    started: float,
    new_types: _NewTypeWarnings,
) -> DemoSummary:
    swarm = Swarm(default_swarm(seed=seed), seed=seed)
    plan = random.Random(f"{seed}:evaluation-plan")  # which are pending, how each is evaluated
    run = _Run(agents={agent.agent_id: _AgentTally() for agent in swarm.agents})
    # What the service held before: a re-run's evaluations are answered as stored, not counted.
    api.read("/stats", api.client.workspace_stats)
    evaluated_before = {agent.agent_id: _evaluated(api, agent.agent_id) for agent in swarm.agents}

    with tqdm(total=workflows, unit="workflow", desc="Simulating swarm", disable=not progress) as bar:
        for workflow in swarm.workflows(workspace_id, workflows):
            with api.client.workflow(workflow.workflow_id, correlation_id=workflow.correlation_id):
                # The router picks whose advice leads among the workflow's agents; the lead's
                # recommendation carries the decision id, so POST /routing/evaluate can judge
                # routing on the outcomes. The id is minted here: a rerun gets the same decision.
                api.read(
                    "/routing/select",
                    api.client.select_agents,
                    workflow.recommendation_type,
                    [recommendation.agent_id for recommendation in workflow.recommendations],
                    decision_id=api.mint(DECISION_PREFIX, workflow.workflow_id),
                )
                tracked = [
                    (recommendation, _track(api, recommendation))
                    for recommendation in workflow.recommendations
                ]
            for recommendation, _ in tracked:
                run.tracked += 1
                run.agents[recommendation.agent_id].recommendations += 1
            to_evaluate = [(rec, rid) for rec, rid in tracked if plan.random() >= PENDING_SHARE]
            run.pending += len(tracked) - len(to_evaluate)
            if to_evaluate and plan.random() < SINGLE_EVALUATION_SHARE:
                for recommendation, recommendation_id in to_evaluate:
                    others = [(rec, rid) for rec, rid in tracked if rid != recommendation_id]
                    _, compared = _evaluate_one(
                        api, plan, workspace_id, recommendation, recommendation_id, others
                    )
                    run.settled(recommendation, newly=True)
                    if compared:
                        run.offer_example(recommendation_id, has_peers=bool(others))
            elif to_evaluate:
                for recommendation, newly in _evaluate_workflow(api, workspace_id, workflow, to_evaluate):
                    run.settled(recommendation, newly=newly)
            bar.update(1)
            bar.set_postfix(tracked=run.tracked, evaluated=run.evaluated, refresh=False)
    api.finish()

    agents = tuple(
        _agent_summary(
            api,
            workspace_id,
            agent.agent_id,
            agent.agent_name,
            run.agents[agent.agent_id],
            evaluated_before[agent.agent_id],
        )
        for agent in swarm.agents
        if run.agents[agent.agent_id].recommendations
    )
    newly_evaluated = sum(agent.evaluated for agent in agents)
    workspace = api.read("/stats", api.client.workspace_stats)
    trust_refreshed = api.refresh_trust()
    summary = DemoSummary(
        workspace_id=workspace_id,
        workflows=workflows,
        tracked=run.tracked,
        evaluated=newly_evaluated,
        pending=run.pending,
        already_evaluated=run.evaluated - newly_evaluated,
        http_requests=api.requests,
        seconds=round(time.perf_counter() - started, 2),
        agents=agents,
        trust_refreshed=trust_refreshed,
        new_types=new_types.count,
    )
    print(_report(api, summary, workspace, run.example_recommendation_id))
    return summary


# ---- the calls ---------------------------------------------------------------------------------
def _track(api: _Api, recommendation: SimulatedRecommendation) -> str:
    """Queue the recommendation (in its workflow); its id is known at once."""
    request = recommendation.request
    recommendation_id = api.mint(
        RECOMMENDATION_PREFIX, request["workflow_id"], request["agent_id"], request["recommendation_type"]
    )
    return api.client.track(
        recommendation_id=recommendation_id,
        agent_id=request["agent_id"],
        agent_name=request["agent_name"],
        recommendation_type=request["recommendation_type"],
        recommendation_content=request["recommendation_content"],
        confidence_score=request["confidence_score"],
        reasoning=request.get("reasoning", ""),
        evidence=request.get("evidence"),
        execution_status=request.get("execution_status"),
        latency_ms=request.get("latency_ms"),
    )


def _evaluate_one(
    api: _Api,
    plan: random.Random,
    workspace_id: str,
    recommendation: SimulatedRecommendation,
    recommendation_id: str,
    others: Sequence[tuple[SimulatedRecommendation, str]],
) -> tuple[bool, bool]:
    """Queue the evaluation of one recommendation. Returns that it was queued, and whether it was
    compared with alternatives."""
    evaluation = recommendation.evaluation
    alternatives: list[dict[str, Any]] = []
    rank: int | None = None
    if plan.random() < ALTERNATIVES_SHARE:
        alternatives = [
            {
                "recommendation_id": other_id,
                "description": f"{other.request['agent_name']}: {other.request['reasoning']}",
                "quality_score": other.evaluation.overall_quality_score,
            }
            for other, other_id in others[:MAX_ALTERNATIVES]
        ] or [{"description": "Keep the current plan", "quality_score": round(plan.uniform(30, 75), 1)}]
        rank = 1 + sum(int(a["quality_score"] > evaluation.overall_quality_score) for a in alternatives)
    api.client.evaluate(
        recommendation_id,
        outcome_id=api.mint(OUTCOME_PREFIX, recommendation_id),
        overall_quality_score=evaluation.overall_quality_score,
        quality_scores=evaluation.quality_scores,
        evaluator_feedback=evaluation.feedback,
        evaluator_id=EVALUATOR_ID,
        alternatives=alternatives,
        comparative_rank=rank,
    )
    return True, bool(alternatives)


def _evaluate_workflow(
    api: _Api,
    workspace_id: str,
    workflow: SimulatedWorkflow,
    to_evaluate: Sequence[tuple[SimulatedRecommendation, str]],
) -> list[tuple[SimulatedRecommendation, bool]]:
    """Score the workflow's recommendations, each with its own score (the workflow's quality
    scores where it has none); returns each recommendation, queued."""
    for recommendation, recommendation_id in to_evaluate:
        evaluation = recommendation.evaluation
        api.client.evaluate(
            recommendation_id,
            outcome_id=api.mint(OUTCOME_PREFIX, recommendation_id),
            overall_quality_score=evaluation.overall_quality_score,
            quality_scores=evaluation.quality_scores or workflow.quality_scores,
            evaluator_feedback=evaluation.feedback or workflow.feedback,
            evaluator_id=EVALUATOR_ID,
        )
    return [(recommendation, True) for recommendation, _ in to_evaluate]


def _evaluated(api: _Api, agent_id: str) -> int:
    stats = api.read(f"/agents/{agent_id}/stats", api.client.agent_stats, agent_id, missing=None)
    return 0 if stats is None else int(stats["overall"]["counts"]["evaluated"])


def _agent_summary(
    api: _Api, workspace_id: str, agent_id: str, agent_name: str, tally: _AgentTally, evaluated_before: int
) -> AgentSummary:
    stats = api.read(f"/agents/{agent_id}/stats", api.client.agent_stats, agent_id)
    overall = stats["overall"]
    return AgentSummary(
        agent_id=agent_id,
        agent_name=agent_name,
        recommendations=tally.recommendations,
        evaluated=overall["counts"]["evaluated"] - evaluated_before,
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
        *(
            [
                f"{summary.new_types} recommendation types were new to the workspace: the service tracked them "
                "and answered each first track with a warning (a typo would show up the same way)."
            ]
            if summary.new_types
            else []
        ),
        (
            "Trust refreshed once: the dashboard's trust history has today's point (the job runs every 6 hours)."
            if summary.trust_refreshed
            else "Trust history fills in at the next trust refresh (every 6 hours); run it now with "
            "`python -m localdev job trust-refresh`."
        ),
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
