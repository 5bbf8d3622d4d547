"""The asyncio client: the same decision calls, awaitable; tracking is the same non-blocking
``track``/``evaluate`` (the background sender is a thread, so the event loop never waits)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import httpx

from swarm_learning_client import _http
from swarm_learning_client._http import API_PREFIX, RETRYABLE_STATUSES, Call, retry_after
from swarm_learning_client.client import TrackingClient
from swarm_learning_client.errors import CycleTimeoutError, TransportError
from swarm_learning_client.models import (
    AgentProfile,
    AlertPage,
    DecisionBoost,
    DecisionRule,
    LearningCycle,
    Pattern,
    RoutingDecision,
    RoutingEvaluation,
    TrustScore,
    WorkspaceSettings,
)
from swarm_learning_client.workflow import current_workflow

T = TypeVar("T")


class AsyncSwarmLearningClient(TrackingClient):
    """``async with AsyncSwarmLearningClient(url, key, workspace_id=...) as client:``"""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        async_transport: httpx.AsyncBaseTransport | None = None,
        **options: Any,
    ) -> None:
        super().__init__(base_url, api_key, **options)
        self._async_http = httpx.AsyncClient(
            base_url=self._settings.base_url,
            headers=self._settings.headers,
            timeout=self._settings.timeout,
            transport=async_transport,
        )

    async def aflush(self, timeout: float | None = None) -> bool:
        """``flush`` without blocking the event loop."""
        return await asyncio.to_thread(self.sender.flush, timeout)

    async def aclose(self, timeout: float | None = None) -> bool:
        flushed = await asyncio.to_thread(self.sender.close, timeout)
        await self._async_http.aclose()
        return flushed

    async def __aenter__(self) -> AsyncSwarmLearningClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    # ---- decisions ----------------------------------------------------------------------------------
    async def select_agents(
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
        decision = await self._send(call)
        if workflow is not None and workflow.client is self:
            workflow.decision = decision
        return decision

    async def evaluate_routing(
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
        return await self._send(
            _http.evaluate_routing(
                self.workspace_id, policies, recommendation_type, lookback_days, estimators
            )
        )

    async def decision_boost(self, agent_id: str, recommendation_type: str) -> DecisionBoost:
        return await self._send(_http.decision_boost(self.workspace_id, agent_id, recommendation_type))

    async def trust(self, agent_id: str) -> TrustScore:
        return await self._send(_http.trust(self.workspace_id, agent_id))

    async def trusted_agents(self, min_trust: float = 0.5) -> list[TrustScore]:
        return await self._send(_http.trusted_agents(self.workspace_id, min_trust))

    async def suggest_rules(self, context: Mapping[str, Any]) -> list[DecisionRule]:
        return await self._send(_http.suggest_rules(self.workspace_id, context))

    async def trigger_learning_cycle(
        self, *, lookback_days: int | None = None, min_pattern_confidence: float | None = None
    ) -> LearningCycle:
        call = _http.trigger_learning_cycle(self.workspace_id, lookback_days, min_pattern_confidence)
        return await self._send(call)

    async def learning_cycle(self, iteration_id: str) -> LearningCycle:
        return await self._send(_http.learning_cycle(self.workspace_id, iteration_id))

    async def wait_for_cycle(
        self, cycle: LearningCycle | str, *, timeout: float = 300.0, poll_interval: float = 2.0
    ) -> LearningCycle:
        iteration_id = cycle if isinstance(cycle, str) else cycle.iteration_id
        deadline = time.monotonic() + timeout
        while True:
            current = await self.learning_cycle(iteration_id)
            if current.finished:
                return current
            if time.monotonic() + poll_interval > deadline:
                raise CycleTimeoutError(
                    f"learning cycle {iteration_id} still {current.status} after {timeout} s"
                )
            await asyncio.sleep(poll_interval)

    async def patterns(
        self, category: str | None = None, *, min_confidence: float | None = None
    ) -> list[Pattern]:
        return await self._send(_http.patterns(self.workspace_id, category, min_confidence))

    async def agent_profile(self, agent_id: str) -> AgentProfile:
        return await self._send(_http.agent_profile(self.workspace_id, agent_id))

    async def alerts(
        self,
        *,
        kind: str | None = None,
        agent_id: str | None = None,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> AlertPage:
        return await self._send(_http.alerts(self.workspace_id, kind, agent_id, limit, next_token))

    async def agent_stats(self, agent_id: str, *, days: int | None = None) -> dict[str, Any]:
        return await self._send(_http.agent_stats(self.workspace_id, agent_id, days))

    async def workspace_stats(self, *, days: int | None = None) -> dict[str, Any]:
        return await self._send(_http.workspace_stats(self.workspace_id, days))

    async def workspace_settings(self) -> WorkspaceSettings:
        return await self._send(_http.workspace_settings(self.workspace_id))

    async def set_workspace_settings(
        self,
        *,
        allowed_recommendation_types: Sequence[str] | None = None,
        default_recommendation_type: str | None = None,
        min_trust: float | None = None,
    ) -> WorkspaceSettings:
        return await self._send(
            _http.put_workspace_settings(
                self.workspace_id, allowed_recommendation_types, default_recommendation_type, min_trust
            )
        )

    async def _send(self, call: Call[T]) -> T:
        attempts = self._settings.max_retries + 1 if call.retry else 1
        for attempt in range(attempts):
            try:
                response = await self._async_http.request(
                    call.method, API_PREFIX + call.path, params=dict(call.params), json=call.json
                )
            except httpx.TransportError as error:
                if attempt == attempts - 1:
                    raise TransportError(f"{call.method} {call.path}: {error}") from error
                await asyncio.sleep(self._settings.backoff.delay(attempt))
                continue
            if response.status_code in RETRYABLE_STATUSES and attempt < attempts - 1:
                await asyncio.sleep(self._settings.backoff.delay(attempt, retry_after(response)))
                continue
            return call.read(_http.read_json(response))
        raise AssertionError("unreachable")  # pragma: no cover
