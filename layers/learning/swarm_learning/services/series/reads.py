"""Time series for charts: the workspace's and each agent's days from the statistics buckets, each
agent's trust from the refresh snapshots, and routing choices from the logged decisions.

Every series covers a window of whole days ending today (UTC) and lists every day of it, zeros
included, so a chart's x axis is the window and not just the days something happened.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any

from pydantic import Field
from ulid import ULID

from swarm_learning.clock import Clock, utcnow
from swarm_learning.config import Settings, get_settings
from swarm_learning.dal.items import Bucket
from swarm_learning.dal.store import LearningStore, get_store
from swarm_learning.domain.counters import add_counters
from swarm_learning.ids import DECISION_PREFIX
from swarm_learning.models.common import _Response
from swarm_learning.models.trust import RoutingDecision
from swarm_learning.parallel import AGENT_READS, map_all

MAX_SERIES_DAYS = 180
DEFAULT_SERIES_DAYS = 30
MAX_AGENTS_PAGE = 100
DEFAULT_AGENTS_PAGE = 50
# A routing series counts at most this many decisions; beyond it the answer says it is partial.
MAX_ROUTING_DECISIONS_COUNTED = 20_000
_TRUST_POINT_FIELDS = (
    "computed_at",
    "overall_trust_score",
    "overall_trust_lower_bound",
    "overall_trust_upper_bound",
    "evidence",
)


# The counters a day point is made of (a bucket holds ~20; the series read only these).
DAY_POINT_COUNTERS = ("tracked", "evaluated", "approved", "partial", "rejected", "quality_sum")


class DayPoint(_Response):
    day: date
    tracked: int
    evaluated: int
    approved: int
    partial: int
    rejected: int
    approval_rate: float | None = Field(
        description="(approved + partial/2) / evaluated; null without evaluations."
    )
    avg_quality_score: float | None


class WorkspaceSeries(_Response):
    workspace_id: str
    first_day: date
    last_day: date
    days: list[DayPoint] = Field(description="Every day of the window, oldest first.")


class AgentSeries(_Response):
    agent_id: str
    agent_name: str
    days: list[DayPoint] = Field(description="Every day of the window, oldest first.")


class AgentSeriesPage(_Response):
    workspace_id: str
    first_day: date
    last_day: date
    items: list[AgentSeries] = Field(description="Agents in agent_id order.")
    next_token: str | None


class TrustPoint(_Response):
    day: date
    computed_at: datetime = Field(description="The day's last trust-refresh run.")
    overall_trust_score: float
    overall_trust_lower_bound: float
    overall_trust_upper_bound: float | None
    evaluated: int


class AgentTrustSeries(_Response):
    agent_id: str
    agent_name: str
    points: list[TrustPoint] = Field(description="One per day with a snapshot, oldest first.")


class TrustSeriesPage(_Response):
    workspace_id: str
    first_day: date
    last_day: date
    items: list[AgentTrustSeries] = Field(description="Agents in agent_id order.")
    next_token: str | None


class AgentChoices(_Response):
    agent_id: str
    chosen: list[int] = Field(description="Times chosen on each day of `days`.")
    total: int


class RoutingSeries(_Response):
    workspace_id: str
    days: list[date] = Field(description="Every day of the window, oldest first.")
    decisions: list[int] = Field(description="Decisions made on each day.")
    items: list[AgentChoices] = Field(description="Agents ever chosen in the window, most chosen first.")
    complete: bool = Field(
        description=f"False when the window holds more than {MAX_ROUTING_DECISIONS_COUNTED} decisions "
        "and only the oldest were counted."
    )


class LoggedDecision(RoutingDecision):
    correlation_id: str | None = None


class RoutingDecisionPage(_Response):
    workspace_id: str
    items: list[LoggedDecision] = Field(description="Newest first.")
    count: int
    next_token: str | None


def day_point(day: date, counters: dict[str, float]) -> DayPoint:
    def count(name: str) -> int:
        return round(counters.get(name, 0.0))

    evaluated, approved, partial = count("evaluated"), count("approved"), count("partial")
    return DayPoint(
        day=day,
        tracked=count("tracked"),
        evaluated=evaluated,
        approved=approved,
        partial=partial,
        rejected=count("rejected"),
        approval_rate=(approved + 0.5 * partial) / evaluated if evaluated else None,
        avg_quality_score=counters.get("quality_sum", 0.0) / evaluated if evaluated else None,
    )


def daily_points(buckets: Iterable[Bucket], days: list[date]) -> list[DayPoint]:
    """One point per day of ``days``, summing the buckets of each day (all types or per type, as
    given: pass one scope only, or the days are counted twice)."""
    by_day: dict[date, list[dict[str, float]]] = {}
    for bucket in buckets:
        by_day.setdefault(bucket.day, []).append(bucket.counters)
    return [day_point(day, add_counters(by_day.get(day, []))) for day in days]


class SeriesService:
    def __init__(self, store: LearningStore, settings: Settings, clock: Clock = utcnow) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock

    def _window(self, days: int) -> list[date]:
        today = self._clock().astimezone(UTC).date()
        return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]

    def workspace(self, workspace_id: str, *, days: int) -> WorkspaceSeries:
        window = self._window(days)
        # Workspace buckets are per type only: summing them per day counts each outcome once.
        buckets = self._store.workspace_buckets(
            workspace_id, first_day=window[0], last_day=window[-1], counters=DAY_POINT_COUNTERS
        )
        return WorkspaceSeries(
            workspace_id=workspace_id,
            first_day=window[0],
            last_day=window[-1],
            days=daily_points(buckets, window),
        )

    def agents(self, workspace_id: str, *, days: int, limit: int, next_token: str | None) -> AgentSeriesPage:
        window = self._window(days)
        page = self._store.agents_page(workspace_id, limit=limit, next_token=next_token)

        def series(entry: dict[str, Any]) -> AgentSeries:
            buckets = self._store.agent_scope_buckets(
                workspace_id,
                entry["agent_id"],
                None,
                first_day=window[0],
                last_day=window[-1],
                counters=DAY_POINT_COUNTERS,
            )
            return AgentSeries(
                agent_id=entry["agent_id"],
                agent_name=entry.get("agent_name") or entry["agent_id"],
                days=daily_points(buckets, window),
            )

        return AgentSeriesPage(
            workspace_id=workspace_id,
            first_day=window[0],
            last_day=window[-1],
            items=self._each(series, page.items),
            next_token=page.next_token,
        )

    def trust(self, workspace_id: str, *, days: int, limit: int, next_token: str | None) -> TrustSeriesPage:
        window = self._window(days)
        since = datetime.combine(window[0], time.min, tzinfo=UTC)
        until = datetime.combine(window[-1], time.max, tzinfo=UTC)
        page = self._store.agents_page(workspace_id, limit=limit, next_token=next_token)

        def series(entry: dict[str, Any]) -> AgentTrustSeries:
            snapshots = self._store.trust_snapshots(
                workspace_id, entry["agent_id"], since=since, until=until, fields=_TRUST_POINT_FIELDS
            )
            last_of_day: dict[date, dict[str, Any]] = {}
            for snapshot in snapshots:  # oldest first: a later run of the day replaces an earlier one
                computed_at = datetime.fromisoformat(snapshot["computed_at"])
                last_of_day[computed_at.astimezone(UTC).date()] = {**snapshot, "computed_at": computed_at}
            return AgentTrustSeries(
                agent_id=entry["agent_id"],
                agent_name=entry.get("agent_name") or entry["agent_id"],
                points=[
                    TrustPoint(
                        day=day,
                        computed_at=s["computed_at"],
                        overall_trust_score=s["overall_trust_score"],
                        overall_trust_lower_bound=s["overall_trust_lower_bound"],
                        overall_trust_upper_bound=s.get("overall_trust_upper_bound"),
                        evaluated=s["evidence"]["evaluated"],
                    )
                    for day, s in sorted(last_of_day.items())
                ],
            )

        return TrustSeriesPage(
            workspace_id=workspace_id,
            first_day=window[0],
            last_day=window[-1],
            items=self._each(series, page.items),
            next_token=page.next_token,
        )

    def routing(self, workspace_id: str, *, days: int) -> RoutingSeries:
        window = self._window(days)
        since = datetime.combine(window[0], time.min, tzinfo=UTC)
        until = datetime.combine(window[-1], time.max, tzinfo=UTC)
        choices, complete = self._store.routing_choices(
            workspace_id, since=since, until=until, max_decisions=MAX_ROUTING_DECISIONS_COUNTED
        )
        position = {day: i for i, day in enumerate(window)}
        decisions = [0] * len(window)
        chosen: dict[str, list[int]] = {}
        for decision_id, agents in choices:
            i = position[_decision_day(decision_id)]
            decisions[i] += 1
            for agent in agents:
                chosen.setdefault(agent, [0] * len(window))[i] += 1
        items = [AgentChoices(agent_id=a, chosen=c, total=sum(c)) for a, c in chosen.items()]
        items.sort(key=lambda a: (-a.total, a.agent_id))
        return RoutingSeries(
            workspace_id=workspace_id, days=window, decisions=decisions, items=items, complete=complete
        )

    def decisions(
        self, workspace_id: str, *, days: int, limit: int, next_token: str | None
    ) -> RoutingDecisionPage:
        window = self._window(days)
        page = self._store.routing_decisions(
            workspace_id,
            since=datetime.combine(window[0], time.min, tzinfo=UTC),
            until=datetime.combine(window[-1], time.max, tzinfo=UTC),
            limit=limit,
            next_token=next_token,
        )
        fields = set(LoggedDecision.model_fields)
        items = [
            LoggedDecision.model_validate({k: v for k, v in i.items() if k in fields}) for i in page.items
        ]
        return RoutingDecisionPage(
            workspace_id=workspace_id, items=items, count=len(items), next_token=page.next_token
        )

    @staticmethod
    def _each(read: Any, entries: list[dict[str, Any]]) -> list[Any]:
        return map_all(AGENT_READS, read, entries)


def _decision_day(decision_id: str) -> date:
    return ULID.from_str(decision_id.removeprefix(DECISION_PREFIX)).datetime.astimezone(UTC).date()


@cache
def get_series_service() -> SeriesService:
    return SeriesService(get_store(), get_settings())
