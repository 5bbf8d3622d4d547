"""``with client.workflow("move_123") as wf:``: the recommendations of one workflow, tracked with
its ids and the routing decision that chose their agents, then evaluated together."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

from swarm_learning_client.models import RoutingDecision

if TYPE_CHECKING:
    from swarm_learning_client.client import TrackingClient

_current: ContextVar[Workflow | None] = ContextVar("swarm_learning_workflow", default=None)


def current_workflow() -> Workflow | None:
    """The workflow the calling code runs in (threads and asyncio tasks each see their own)."""
    return _current.get()


class Workflow:
    def __init__(self, client: TrackingClient, workflow_id: str, correlation_id: str | None) -> None:
        self.client = client
        self.workflow_id = workflow_id
        self.correlation_id = correlation_id or workflow_id
        self.decision: RoutingDecision | None = None  # the latest select_agents in this workflow
        self.tracked: list[str] = []
        self._token: Token[Workflow | None] | None = None

    def __enter__(self) -> Workflow:
        self._token = _current.set(self)
        return self

    def __exit__(self, *_: object) -> None:
        if self._token is not None:
            _current.reset(self._token)
            self._token = None

    async def __aenter__(self) -> Workflow:
        return self.__enter__()

    async def __aexit__(self, *exc: object) -> None:
        self.__exit__(*exc)

    def route(
        self, recommendation_type: str, candidates: list[str], k: int = 1, mode: str = "explore"
    ) -> Any:
        """``select_agents`` for this workflow (awaitable with the async client); the
        recommendations tracked next in it carry the decision's id and probabilities."""
        select = self.client.select_agents  # type: ignore[attr-defined]
        result = select(recommendation_type, candidates, k, mode, correlation_id=self.correlation_id)
        if isinstance(result, RoutingDecision):
            self.decision = result
            return result

        async def remember() -> RoutingDecision:
            self.decision = await result
            return self.decision

        return remember()

    def track(self, **fields: Any) -> str:
        """``client.track`` with this workflow's ids (and routing decision) filled in."""
        token = _current.set(self)
        try:
            return self.client.track(**fields)
        finally:
            _current.reset(token)

    def evaluate(
        self,
        *,
        overall_quality_score: float,
        feedback: str = "",
        quality_scores: Mapping[str, float] | None = None,
        outcome: str | None = None,
        overrides: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> list[str]:
        """Evaluate every recommendation tracked in this workflow with the workflow's score (or a
        per-recommendation override: ``{recommendation_id: {"overall_quality_score": ...}}``, with
        the keyword arguments of ``client.evaluate``).
        Returns the outcome ids; the evaluations are sent after the tracks, in order."""
        outcome_ids = []
        for recommendation_id in self.tracked:
            scoring: dict[str, Any] = {
                "overall_quality_score": overall_quality_score,
                "evaluator_feedback": feedback,
                "quality_scores": quality_scores,
                "outcome": outcome,
                **dict((overrides or {}).get(recommendation_id, {})),
            }
            outcome_ids.append(self.client.evaluate(recommendation_id, **scoring))
        return outcome_ids
