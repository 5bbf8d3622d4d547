"""What both clients share about HTTP: the calls (path, query, body, how to read the answer), which
answers are worth retrying and how long to wait before the retry."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from swarm_learning_client.errors import ApiError
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

API_PREFIX = "/api/v1/learning"
# Worth another attempt: throttled, timed out, or the service (or its gateway) failed.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Only these carry a Retry-After the service (API Gateway, the local server) means.
RETRY_AFTER_STATUSES = frozenset({429, 503})

T = TypeVar("T")


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API call: built by the functions below, sent by the sync or the async client."""

    method: str
    path: str
    read: Callable[[Any], T]
    params: Mapping[str, Any] = field(default_factory=dict)
    json: Any = None
    retry: bool = True  # reads and idempotent writes; not the learning-cycle trigger
    # A list answer's fields besides ``items`` that ``read`` knowingly drops (the contract test
    # checks every field the service answers is read or named here).
    envelope: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter, at least what Retry-After asks."""

    base: float = 0.5
    cap: float = 30.0
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        jittered = self.rng.uniform(0, min(self.cap, self.base * 2**attempt))
        return max(jittered, retry_after) if retry_after is not None else jittered


def retry_after(response: httpx.Response, *, now: datetime | None = None) -> float | None:
    """Seconds the service asked to wait (Retry-After: seconds or an HTTP date), on 429/503."""
    if response.status_code not in RETRY_AFTER_STATUSES:
        return None
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def read_json(response: httpx.Response, ok: Sequence[int] = (200, 201, 202, 207)) -> Any:
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = None
    if response.status_code not in ok:
        raise ApiError(response.status_code, body)
    return body


def _p(segment: str) -> str:
    return quote(segment, safe="")


# ---- the decision calls --------------------------------------------------------------------------
def select_agents(
    workspace_id: str,
    recommendation_type: str,
    candidates: Sequence[str],
    k: int,
    mode: str,
    correlation_id: str | None,
    apply_rules: bool,
    exploration_floor: float | None = None,
    decision_id: str | None = None,
) -> Call[RoutingDecision]:
    body = {
        "workspace_id": workspace_id,
        "recommendation_type": recommendation_type,
        "candidates": list(candidates),
        "k": k,
        "mode": mode,
        "apply_rules": apply_rules,
    }
    if correlation_id:
        body["correlation_id"] = correlation_id
    if exploration_floor is not None:
        body["exploration_floor"] = exploration_floor
    if decision_id is not None:
        body["decision_id"] = decision_id
    # Without a client-minted id each call is a new decision: never sent twice. With one, a retry
    # returns the stored decision.
    return Call(
        "POST", "/routing/select", RoutingDecision.from_json, json=body, retry=decision_id is not None
    )


def evaluate_routing(
    workspace_id: str,
    policies: Sequence[Mapping[str, Any] | str] | None,
    recommendation_type: str | None,
    lookback_days: int | None,
    estimators: Sequence[str] | None,
) -> Call[RoutingEvaluation]:
    body: dict[str, Any] = {"workspace_id": workspace_id}
    if policies is not None:
        body["policies"] = [{"policy": p} if isinstance(p, str) else dict(p) for p in policies]
    if recommendation_type is not None:
        body["recommendation_type"] = recommendation_type
    if lookback_days is not None:
        body["lookback_days"] = lookback_days
    if estimators is not None:
        body["estimators"] = list(estimators)
    # Reads only: safe to retry.
    return Call("POST", "/routing/evaluate", RoutingEvaluation.from_json, json=body)


def decision_boost(workspace_id: str, agent_id: str, recommendation_type: str) -> Call[DecisionBoost]:
    return Call(
        "GET",
        f"/agents/{_p(agent_id)}/decision-boost",
        DecisionBoost.from_json,
        params={"workspace_id": workspace_id, "recommendation_type": recommendation_type},
    )


def trust(workspace_id: str, agent_id: str) -> Call[TrustScore]:
    return Call(
        "GET", f"/trust-scores/{_p(agent_id)}", TrustScore.from_json, params={"workspace_id": workspace_id}
    )


def trusted_agents(workspace_id: str, min_trust: float) -> Call[list[TrustScore]]:
    return Call(
        "GET",
        "/trust-scores",
        lambda body: [TrustScore.from_json(item) for item in body["items"]],
        params={"workspace_id": workspace_id, "min_trust": min_trust},
        envelope=frozenset({"workspace_id", "count"}),
    )


def suggest_rules(workspace_id: str, context: Mapping[str, Any]) -> Call[list[DecisionRule]]:
    return Call(
        "POST",
        "/decision-rules/suggest",
        lambda body: [DecisionRule.from_json(item) for item in body["items"]],
        json={"workspace_id": workspace_id, "context": dict(context)},
        envelope=frozenset({"workspace_id", "version", "learned_at", "context"}),
    )


def trigger_learning_cycle(
    workspace_id: str, lookback_days: int | None, min_pattern_confidence: float | None
) -> Call[LearningCycle]:
    body: dict[str, Any] = {"workspace_id": workspace_id}
    if lookback_days is not None:
        body["lookback_days"] = lookback_days
    if min_pattern_confidence is not None:
        body["min_pattern_confidence"] = min_pattern_confidence
    return Call("POST", "/learning-cycles/trigger", LearningCycle.from_json, json=body, retry=False)


def learning_cycle(workspace_id: str, iteration_id: str) -> Call[LearningCycle]:
    return Call(
        "GET",
        f"/learning-cycles/{_p(iteration_id)}",
        LearningCycle.from_json,
        params={"workspace_id": workspace_id},
    )


def patterns(workspace_id: str, category: str | None, min_confidence: float | None) -> Call[list[Pattern]]:
    params: dict[str, Any] = {"workspace_id": workspace_id}
    if category is not None:
        params["category"] = category
    if min_confidence is not None:
        params["min_confidence"] = min_confidence
    return Call(
        "GET",
        "/patterns",
        lambda body: [Pattern.from_json(p) for p in body["items"]],
        params=params,
        # The first page only (up to 100, strongest first); next_token is not followed.
        envelope=frozenset({"workspace_id", "version", "learned_at", "next_token"}),
    )


def alerts(
    workspace_id: str, kind: str | None, agent_id: str | None, limit: int | None, next_token: str | None
) -> Call[AlertPage]:
    params: dict[str, Any] = {"workspace_id": workspace_id}
    for name, value in (("kind", kind), ("agent_id", agent_id), ("limit", limit), ("next_token", next_token)):
        if value is not None:
            params[name] = value
    return Call(
        "GET",
        "/alerts",
        AlertPage.from_json,
        params=params,
        # One page: the workspace and count are left in ``raw``; next_token fetches the next.
        envelope=frozenset({"workspace_id", "count", "next_token"}),
    )


def agent_profile(workspace_id: str, agent_id: str) -> Call[AgentProfile]:
    return Call(
        "GET",
        f"/agent-profiles/{_p(agent_id)}",
        AgentProfile.from_json,
        params={"workspace_id": workspace_id},
    )


def agent_stats(workspace_id: str, agent_id: str, days: int | None) -> Call[dict[str, Any]]:
    params: dict[str, Any] = {"workspace_id": workspace_id}
    if days is not None:
        params["days"] = days
    return Call("GET", f"/agents/{_p(agent_id)}/stats", dict, params=params)


def workspace_stats(workspace_id: str, days: int | None) -> Call[dict[str, Any]]:
    params: dict[str, Any] = {"workspace_id": workspace_id}
    if days is not None:
        params["days"] = days
    return Call("GET", "/stats", dict, params=params)


def workspace_settings(workspace_id: str) -> Call[WorkspaceSettings]:
    return Call(
        "GET", "/workspace-settings", WorkspaceSettings.from_json, params={"workspace_id": workspace_id}
    )


def put_workspace_settings(
    workspace_id: str,
    allowed_recommendation_types: Sequence[str] | None,
    default_recommendation_type: str | None,
    min_trust: float | None,
) -> Call[WorkspaceSettings]:
    body: dict[str, Any] = {"workspace_id": workspace_id}
    if allowed_recommendation_types is not None:
        body["allowed_recommendation_types"] = list(allowed_recommendation_types)
    if default_recommendation_type is not None:
        body["default_recommendation_type"] = default_recommendation_type
    if min_trust is not None:
        body["min_trust"] = min_trust
    # A PUT replaces the settings as a whole: sending it twice leaves the same settings.
    return Call("PUT", "/workspace-settings", WorkspaceSettings.from_json, json=body)
