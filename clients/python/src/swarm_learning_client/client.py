"""The synchronous client: fire-and-forget tracking, and the decisions as typed calls."""

from __future__ import annotations

import functools
import logging
import os
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import httpx

from swarm_learning_client import _http
from swarm_learning_client._http import API_PREFIX, RETRYABLE_STATUSES, Backoff, Call, retry_after
from swarm_learning_client.errors import CycleTimeoutError, TransportError
from swarm_learning_client.ids import OUTCOME_PREFIX, RECOMMENDATION_PREFIX, ulid
from swarm_learning_client.models import (
    AgentProfile,
    AgentRecommendation,
    AlertPage,
    DecisionBoost,
    DecisionRule,
    EventFailure,
    LearningCycle,
    Pattern,
    RoutingDecision,
    RoutingEvaluation,
    TrustScore,
    WorkspaceSettings,
)
from swarm_learning_client.sender import BatchSender, SenderStats
from swarm_learning_client.workflow import Workflow, current_workflow

log = logging.getLogger("swarm_learning_client")

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def in_lambda() -> bool:
    """Running in AWS Lambda, where a frozen thread sends nothing between invocations."""
    return "AWS_LAMBDA_FUNCTION_NAME" in os.environ


class _Settings:
    """What both clients are built from (keyword arguments of their constructors)."""

    def __init__(
        self,
        base_url: str | None,
        api_key: str | None,
        workspace_id: str,
        timeout: httpx.Timeout | float,
        max_retries: int,
        backoff: Backoff | None,
    ) -> None:
        base_url = base_url or os.environ.get("SWARM_LEARNING_URL")
        api_key = api_key or os.environ.get("SWARM_API_KEY")
        if not base_url:
            raise ValueError("base_url is required (or set SWARM_LEARNING_URL)")
        if not api_key:
            raise ValueError("api_key is required (or set SWARM_API_KEY)")
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {api_key}", "User-Agent": "swarm-learning-client/0.1"}
        self.workspace_id = workspace_id
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff or Backoff()


class TrackingClient:
    """Tracking, shared by both clients: ``track`` and ``evaluate`` return at once (the ids are
    minted here) and a background worker sends the events in batches."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        workspace_id: str,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        backoff: Backoff | None = None,
        max_queue_size: int = 10_000,
        batch_size: int = 100,
        flush_interval: float = 1.0,
        max_send_retries: int = 8,
        on_drop: Callable[[dict[str, Any]], None] | None = None,
        on_error: Callable[[EventFailure], None] | None = None,
        drop_warning_interval: float = 60.0,
        shutdown_timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        """``clock``: nanoseconds since the epoch for the ids this client mints (default: the
        system clock); the service refuses ids minted far from its own clock."""
        self._settings = _Settings(base_url, api_key, workspace_id, timeout, max_retries, backoff)
        self._transport = transport
        self._clock = clock
        self.sender = BatchSender(
            self._new_http,
            workspace_id,
            max_queue_size=max_queue_size,
            batch_size=batch_size,
            flush_interval=flush_interval,
            max_retries=max_send_retries,
            backoff=self._settings.backoff,
            on_drop=on_drop,
            on_error=on_error,
            drop_warning_interval=drop_warning_interval,
            shutdown_timeout=shutdown_timeout,
        )
        self._lambda_warning_due = in_lambda()

    @property
    def workspace_id(self) -> str:
        return self._settings.workspace_id

    def _new_http(self) -> httpx.Client:
        return httpx.Client(
            base_url=self._settings.base_url,
            headers=self._settings.headers,
            timeout=self._settings.timeout,
            transport=self._transport,
        )

    # ---- tracking (fire and forget) -----------------------------------------------------------------
    def track(
        self,
        *,
        agent_id: str,
        recommendation_type: str,
        recommendation_content: Mapping[str, Any],
        confidence_score: float,
        agent_name: str | None = None,
        reasoning: str = "",
        evidence: Mapping[str, Any] | None = None,
        workflow_id: str | None = None,
        correlation_id: str | None = None,
        decision: RoutingDecision | None = None,
        execution_status: str | None = None,
        latency_ms: float | None = None,
        recommendation_id: str | None = None,
    ) -> str:
        """Queue a recommendation and return its id at once. Inside ``workflow(...)`` the workflow's
        id, correlation id and routing decision are filled in. With a ``decision``, the
        recommendation carries its id and the probability it gave this agent."""
        if self._lambda_warning_due:
            self._lambda_warning_due = False
            log.info("AWS Lambda detected: wrap the handler with client.flush_on_return so events are sent")
        rid = recommendation_id or RECOMMENDATION_PREFIX + ulid(self._clock() if self._clock else None)
        event: dict[str, Any] = {
            "type": "track",
            "recommendation_id": rid,
            "agent_id": agent_id,
            "recommendation_type": recommendation_type,
            "recommendation_content": recommendation_content,
            "confidence_score": confidence_score,
            "reasoning": reasoning,
        }
        if agent_name is not None:  # left out, the service keeps the name it knows
            event["agent_name"] = agent_name
        if evidence:
            event["evidence"] = evidence
        if execution_status is not None:
            event["execution_status"] = execution_status
        if latency_ms is not None:
            event["latency_ms"] = latency_ms
        workflow = current_workflow()
        if workflow is not None and workflow.client is self:
            workflow_id = workflow_id or workflow.workflow_id
            correlation_id = correlation_id or workflow.correlation_id
            decision = decision or workflow.decision
            workflow.tracked.append(rid)
        if workflow_id is not None:
            event["workflow_id"] = workflow_id
        if correlation_id is not None:
            event["correlation_id"] = correlation_id
        if decision is not None:
            probability = decision.probability(agent_id)
            if probability is not None:  # the decision chose this agent
                event["decision_id"] = decision.decision_id
                event["selection_probability"] = probability
        self.sender.enqueue(event)
        return rid

    def evaluate(
        self,
        recommendation_id: str,
        *,
        overall_quality_score: float,
        quality_scores: Mapping[str, float] | None = None,
        evaluator_feedback: str = "",
        outcome: str | None = None,
        evaluator_id: str | None = None,
        alternatives: Sequence[Mapping[str, Any]] | None = None,
        comparative_rank: int | None = None,
        outcome_id: str | None = None,
    ) -> str:
        """Queue the evaluation of a recommendation (tracked earlier, by this or any client) and
        return its outcome id at once. It is sent after the events queued before it.
        ``alternatives``: ``{"recommendation_id"?, "description", "quality_score"?}`` it was
        compared with; ``comparative_rank``: 1 when it beat them all."""
        oid = outcome_id or OUTCOME_PREFIX + ulid(self._clock() if self._clock else None)
        event: dict[str, Any] = {
            "type": "evaluate",
            "recommendation_id": recommendation_id,
            "outcome_id": oid,
            "overall_quality_score": overall_quality_score,
            "quality_scores": dict(quality_scores or {}),
            "evaluator_feedback": evaluator_feedback,
        }
        if outcome is not None:
            event["outcome"] = outcome
        if evaluator_id is not None:
            event["evaluator_id"] = evaluator_id
        if alternatives:
            event["alternatives"] = [dict(a) for a in alternatives]
        if comparative_rank is not None:
            event["comparative_rank"] = comparative_rank
        self.sender.enqueue(event)
        return oid

    def workflow(self, workflow_id: str, *, correlation_id: str | None = None) -> Workflow:
        """``with client.workflow("move_123") as wf:`` route, ``wf.track(...)`` each agent's
        recommendation, then ``wf.evaluate(...)`` the whole workflow."""
        return Workflow(self, workflow_id, correlation_id)

    def tracked(
        self, *, agent_id: str, recommendation_type: str, agent_name: str | None = None
    ) -> Callable[[F], F]:
        """Decorate an agent function returning an ``AgentRecommendation``: each call is tracked
        (with its latency, and the workflow it runs in) and the result carries its
        ``recommendation_id``."""

        def decorate(function: F) -> F:
            @functools.wraps(function)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                result = function(*args, **kwargs)
                if not isinstance(result, AgentRecommendation):
                    raise TypeError(f"{function.__name__} must return an AgentRecommendation to be tracked")
                result.recommendation_id = self.track(
                    agent_id=agent_id,
                    agent_name=agent_name,
                    recommendation_type=recommendation_type,
                    recommendation_content=result.recommendation_content,
                    confidence_score=result.confidence_score,
                    reasoning=result.reasoning,
                    evidence=result.evidence,
                    latency_ms=(time.perf_counter() - started) * 1000,
                    recommendation_id=result.recommendation_id,
                )
                return result

            return wrapper  # type: ignore[return-value]

        return decorate

    def flush_on_return(self, handler: F) -> F:
        """For AWS Lambda: send every queued event before the handler returns (a frozen
        environment would otherwise hold them until its next invocation, or lose them)."""

        @functools.wraps(handler)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self._lambda_warning_due = False
            try:
                return handler(*args, **kwargs)
            finally:
                if not self.flush(timeout=self.sender.shutdown_timeout):
                    log.warning("swarm learning events still unsent when the handler returned")

        return wrapper  # type: ignore[return-value]

    def flush(self, timeout: float | None = None) -> bool:
        """Send everything tracked so far; True when all of it was settled within ``timeout``."""
        return self.sender.flush(timeout)

    def stats(self) -> SenderStats:
        return self.sender.stats()


class SwarmLearningClient(TrackingClient):
    """One workspace's client.

    ``track`` and ``evaluate`` return at once (the ids are minted here) and a background worker
    sends the events in batches; the decision calls (``select_agents``, ``trust``...) are
    synchronous and typed. Close it (or use it as a context manager) to send what is queued; an
    ``atexit`` hook does it too. In AWS Lambda, wrap the handler with ``flush_on_return``.
    """

    def __init__(self, base_url: str | None = None, api_key: str | None = None, **options: Any) -> None:
        super().__init__(base_url, api_key, **options)
        self._http = self._new_http()
        if hasattr(os, "register_at_fork"):  # a child must not share the parent's connections
            ref = weakref.ref(self)
            os.register_at_fork(after_in_child=lambda: _renew_http(ref))

    def close(self, timeout: float | None = None) -> bool:
        """Send what is queued, stop the worker, close the connections."""
        flushed = self.sender.close(timeout)
        self._http.close()
        return flushed

    def __enter__(self) -> SwarmLearningClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ---- decisions (synchronous, typed) -------------------------------------------------------------
    def select_agents(
        self,
        recommendation_type: str,
        candidates: Sequence[str],
        k: int = 1,
        mode: str = "explore",
        *,
        correlation_id: str | None = None,
        apply_rules: bool = True,
        exploration_floor: float | None = None,
        decision_id: str | None = None,
    ) -> RoutingDecision:
        """Choose ``k`` agents by Thompson sampling over their trust (``mode="exploit"``: the
        best lower bounds). Each choice comes with the probability the policy picks it."""
        workflow = current_workflow()
        if correlation_id is None and workflow is not None:
            correlation_id = workflow.correlation_id
        call = _http.select_agents(
            self.workspace_id,
            recommendation_type,
            candidates,
            k,
            mode,
            correlation_id,
            apply_rules,
            exploration_floor,
            decision_id,
        )
        decision = self._send(call)
        if workflow is not None and workflow.client is self:
            workflow.decision = decision
        return decision

    def evaluate_routing(
        self,
        policies: Sequence[Mapping[str, Any] | str] | None = None,
        *,
        recommendation_type: str | None = None,
        lookback_days: int | None = None,
        estimators: Sequence[str] | None = None,
    ) -> RoutingEvaluation:
        """Is routing helping? Off-policy estimates, from the logged decisions, of what each policy
        would have achieved: ``{"policy": "explore"|"exploit", "apply_rules"?: bool}``,
        ``"uniform"`` or ``{"policy": "agent", "agent_id": "X"}`` (a bare string names a policy)."""
        return self._send(
            _http.evaluate_routing(
                self.workspace_id, policies, recommendation_type, lookback_days, estimators
            )
        )

    def decision_boost(self, agent_id: str, recommendation_type: str) -> DecisionBoost:
        return self._send(_http.decision_boost(self.workspace_id, agent_id, recommendation_type))

    def trust(self, agent_id: str) -> TrustScore:
        return self._send(_http.trust(self.workspace_id, agent_id))

    def trusted_agents(self, min_trust: float = 0.5) -> list[TrustScore]:
        """The agents whose ``overall_trust_score`` is at least ``min_trust``."""
        return self._send(_http.trusted_agents(self.workspace_id, min_trust))

    def suggest_rules(self, context: Mapping[str, Any]) -> list[DecisionRule]:
        return self._send(_http.suggest_rules(self.workspace_id, context))

    def trigger_learning_cycle(
        self, *, lookback_days: int | None = None, min_pattern_confidence: float | None = None
    ) -> LearningCycle:
        return self._send(
            _http.trigger_learning_cycle(self.workspace_id, lookback_days, min_pattern_confidence)
        )

    def learning_cycle(self, iteration_id: str) -> LearningCycle:
        return self._send(_http.learning_cycle(self.workspace_id, iteration_id))

    def wait_for_cycle(
        self, cycle: LearningCycle | str, *, timeout: float = 300.0, poll_interval: float = 2.0
    ) -> LearningCycle:
        """Poll until the cycle finished (succeeded, failed or skipped); ``CycleTimeoutError``
        when it has not after ``timeout`` seconds."""
        iteration_id = cycle if isinstance(cycle, str) else cycle.iteration_id
        deadline = time.monotonic() + timeout
        while True:
            current = self.learning_cycle(iteration_id)
            if current.finished:
                return current
            if time.monotonic() + poll_interval > deadline:
                raise CycleTimeoutError(
                    f"learning cycle {iteration_id} still {current.status} after {timeout} s"
                )
            time.sleep(poll_interval)

    def patterns(self, category: str | None = None, *, min_confidence: float | None = None) -> list[Pattern]:
        return self._send(_http.patterns(self.workspace_id, category, min_confidence))

    def agent_profile(self, agent_id: str) -> AgentProfile:
        return self._send(_http.agent_profile(self.workspace_id, agent_id))

    def alerts(
        self,
        *,
        kind: str | None = None,
        agent_id: str | None = None,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> AlertPage:
        """``GET /alerts``: what changed (agents declined or recovered, trust crossing min_trust,
        cycles below target or failing, routing underperforming), newest first, one page."""
        return self._send(_http.alerts(self.workspace_id, kind, agent_id, limit, next_token))

    def agent_stats(self, agent_id: str, *, days: int | None = None) -> dict[str, Any]:
        """``GET /agents/{agent_id}/stats``: counts, approval rate, quality, calibration (JSON)."""
        return self._send(_http.agent_stats(self.workspace_id, agent_id, days))

    def workspace_stats(self, *, days: int | None = None) -> dict[str, Any]:
        """``GET /stats``: the workspace's totals (JSON)."""
        return self._send(_http.workspace_stats(self.workspace_id, days))

    def workspace_settings(self) -> WorkspaceSettings:
        """``GET /workspace-settings``: allowed types, default type, trust threshold (null: unset)."""
        return self._send(_http.workspace_settings(self.workspace_id))

    def set_workspace_settings(
        self,
        *,
        allowed_recommendation_types: Sequence[str] | None = None,
        default_recommendation_type: str | None = None,
        min_trust: float | None = None,
    ) -> WorkspaceSettings:
        """``PUT /workspace-settings``: replaces every setting (one left out is unset). With
        ``allowed_recommendation_types``, tracking refuses other types (422)."""
        return self._send(
            _http.put_workspace_settings(
                self.workspace_id, allowed_recommendation_types, default_recommendation_type, min_trust
            )
        )

    def _send(self, call: Call[T]) -> T:
        attempts = self._settings.max_retries + 1 if call.retry else 1
        for attempt in range(attempts):
            try:
                response = self._http.request(
                    call.method, API_PREFIX + call.path, params=dict(call.params), json=call.json
                )
            except httpx.TransportError as error:
                if attempt == attempts - 1:
                    raise TransportError(f"{call.method} {call.path}: {error}") from error
                time.sleep(self._settings.backoff.delay(attempt))
                continue
            if response.status_code in RETRYABLE_STATUSES and attempt < attempts - 1:
                time.sleep(self._settings.backoff.delay(attempt, retry_after(response)))
                continue
            return call.read(_http.read_json(response))
        raise AssertionError("unreachable")  # pragma: no cover


def _renew_http(ref: weakref.ref[SwarmLearningClient]) -> None:
    client = ref()
    if client is not None:
        client._http = client._new_http()
