"""Drift: how many outcomes after a drop until the trend reads ``declining``, and false alarms on stable agents; the demo's trend."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from bench.report import markdown_table, percentile
from bench.trust_quality.routing import DEMO_SWARM_AGENTS
from bench.trust_quality.simulation import WORKSPACE, Buckets, day_of, recommendation_counters
from localdev import swarm
from localdev.swarm import (
    AgentProfile,
    Drift,
    Swarm,
)
from swarm_learning.domain import trust
from swarm_learning.domain.trust_values import DayCounters, TrustConfig
from swarm_learning.vocabulary import (
    Trend,
)

# 3. drift
DRIFT_PER_DAY = 20


DRIFT_PRE_DAYS = 28  # fills the trend's recent + baseline windows (7 + 21 days) before the drop


DRIFT_POST_DAYS = 20


DRIFT_BEFORE, DRIFT_AFTER = 0.8, 0.4


DRIFT_SEEDS = tuple(range(1, 201))


TARGET_DETECTION_OUTCOMES = 100


TARGET_FALSE_ALARM_RATE = 0.05


@dataclass(frozen=True)
class TrendReader:
    """How a trend is read: ``both`` is the service (the day windows where they can judge, else the
    order of outcomes, as ``trust.score`` does); ``days`` and ``outcomes`` read one test alone."""

    config: TrustConfig
    tests: str = "both"  # "both", "days" or "outcomes"


DRIFT_CONFIGS: dict[str, TrendReader] = {
    "default (day windows, else the order of outcomes)": TrendReader(TrustConfig()),
    "day windows only (the previous trend)": TrendReader(TrustConfig(), "days"),
    "order of outcomes only": TrendReader(TrustConfig(), "outcomes"),
    "both, trend_z=3.29": TrendReader(TrustConfig(trend_z=3.29)),
    "both, outcome_trend_z=3.5": TrendReader(TrustConfig(outcome_trend_z=3.5)),
    "both, outcome_trend_z=4.5": TrendReader(TrustConfig(outcome_trend_z=4.5)),
    "both, outcome_trend_min_segment=30": TrendReader(TrustConfig(outcome_trend_min_segment=30)),
    # What catching weaker drops at the demo's size would cost on stable agents.
    "order of outcomes only, outcome_trend_z=2.75": TrendReader(
        TrustConfig(outcome_trend_z=2.75), "outcomes"
    ),
    "order of outcomes only, outcome_trend_z=2.5, no confirmation": TrendReader(
        TrustConfig(outcome_trend_z=2.5, outcome_trend_confirm_lag=0), "outcomes"
    ),
}


def drift_agent(drifting: bool, probability: float = DRIFT_BEFORE) -> AgentProfile:
    return AgentProfile(
        "DRIFT-01" if drifting else "STABLE-01",
        "Drifter" if drifting else "Steady",
        {"analytics": probability},
        confidence_noise=0.05,
        mean_latency_ms=2_000,
        drift=Drift(DRIFT_PRE_DAYS * DRIFT_PER_DAY, {"analytics": DRIFT_AFTER}) if drifting else None,
    )


def trend_of(
    days: Sequence[DayCounters], outcomes: Sequence[float], today: date, reader: TrendReader, *, exact: bool
) -> Trend:
    """The trend as ``reader`` reads it. ``outcomes``: approvals (1/0), newest first. ``exact``
    calls ``trust.score`` itself and checks that the shortcut (``trust._trend`` where
    ``trust.day_windows_can_judge``, else ``trust.outcome_trend``: where ``score`` takes its trend
    from) agrees; otherwise only the shortcut runs (``score`` spends most of its time on the two
    Beta quantiles)."""
    by_days = trust._trend(days, today, reader.config)[0]
    by_order = trust.outcome_trend(outcomes, reader.config).trend
    service = by_days if trust.day_windows_can_judge(days, today, reader.config) else by_order
    trend = {"days": by_days, "outcomes": by_order}.get(reader.tests, service)
    if exact:
        reported = trust.score(days, today, reader.config, recent_outcomes=outcomes).trend
        if reported is not trend:
            raise RuntimeError(f"trust.score reports {reported}, the shortcut {trend}: the shortcut is wrong")
    return trend


def daily_trends(
    agent: AgentProfile,
    seed: int,
    readers: Sequence[TrendReader],
    first_day: int,
    *,
    exact: bool,
    until_declining: bool,
) -> list[list[Trend]]:
    """The agent alone, 20 recommendations a day; per reader, its trend at the end of each day from
    ``first_day`` on (the first reader through ``trust.score`` when ``exact``). With
    ``until_declining``, a reader's checks stop at its first "declining"."""
    days = DRIFT_PRE_DAYS + DRIFT_POST_DAYS
    buckets = Buckets()
    approvals: list[float] = []
    trends: list[list[Trend]] = [[] for _ in readers]
    pending = list(range(len(readers)))
    for number, workflow in enumerate(Swarm([agent], seed=seed).workflows(WORKSPACE, days * DRIFT_PER_DAY)):
        day = number // DRIFT_PER_DAY
        for recommendation in workflow.recommendations:
            counters = recommendation_counters(recommendation)
            buckets.add(day, counters)
            approvals.append(counters.get("approved", 0.0))
        if (number + 1) % DRIFT_PER_DAY or day < first_day:
            continue
        day_buckets = buckets.days()
        newest_first = approvals[::-1]
        for index in list(pending):
            reader = readers[index]
            trend = trend_of(day_buckets, newest_first, day_of(day), reader, exact=exact and index == 0)
            trends[index].append(trend)
            if until_declining and trend is Trend.DECLINING:
                pending.remove(index)
        if not pending:
            break
    return trends


@dataclass(frozen=True)
class DriftResult:
    delays: list[int | None]  # outcomes after the drop until the first "declining" (None: never)
    false_alarms: int  # stable agents (p = 0.8) flagged "declining" at least once over the horizon
    flagged_checks: int
    checks: int
    false_alarms_half: int  # the same for stable agents with p = 0.5

    def _censored(self) -> list[int]:
        beyond = DRIFT_POST_DAYS * DRIFT_PER_DAY + DRIFT_PER_DAY  # undetected: beyond the horizon
        return [d if d is not None else beyond for d in self.delays]

    @property
    def detected(self) -> list[int]:
        return [d for d in self.delays if d is not None]

    @property
    def median_delay(self) -> float:
        return statistics.median(self._censored())

    @property
    def p90_delay(self) -> float:
        return percentile(self._censored(), 0.9)

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / len(self.delays)


def drift_experiment(configs: Sequence[TrendReader]) -> list[DriftResult]:
    """Per seed: a drifting agent from the drop on, a stable agent with its profile and one at
    p = 0.5 over the whole horizon. The first reader is read through ``trust.score``."""
    count = len(configs)
    delays: list[list[int | None]] = [[] for _ in configs]
    alarms, flagged, alarms_half = [0] * count, [0] * count, [0] * count
    checks = 0
    for seed in DRIFT_SEEDS:
        drifting = daily_trends(
            drift_agent(True), seed, configs, DRIFT_PRE_DAYS, exact=True, until_declining=True
        )
        stable = daily_trends(drift_agent(False), seed, configs, 0, exact=True, until_declining=False)
        half = daily_trends(drift_agent(False, 0.5), seed, configs, 0, exact=False, until_declining=True)
        checks += len(stable[0])
        for index in range(count):
            first = next((n for n, t in enumerate(drifting[index]) if t is Trend.DECLINING), None)
            delays[index].append(None if first is None else (first + 1) * DRIFT_PER_DAY)
            flags = sum(t is Trend.DECLINING for t in stable[index])
            alarms[index] += flags > 0
            flagged[index] += flags
            alarms_half[index] += Trend.DECLINING in half[index]
    return [DriftResult(delays[i], alarms[i], flagged[i], checks, alarms_half[i]) for i in range(count)]


DRIFT_HEADERS = [
    "trend config",
    "drops detected",
    "outcomes to detect: median",
    "p90",
    "max",
    f"stable p={DRIFT_BEFORE}: ever flagged declining",
    "daily checks flagged",
    "stable p=0.5: ever flagged",
]


def drift_row(label: str, result: DriftResult) -> list[str]:
    detected, seeds = result.detected, len(result.delays)
    return [
        label,
        f"{len(detected)}/{seeds}",
        f"{result.median_delay:.0f}",
        f"{result.p90_delay:.0f}",
        f"{max(detected)}" if detected else "—",
        f"{result.false_alarms}/{seeds} ({result.false_alarm_rate:.1%})",
        f"{result.flagged_checks / result.checks:.2%}",
        f"{result.false_alarms_half}/{seeds} ({result.false_alarms_half / seeds:.1%})",
    ]


def drift_section(results: Mapping[str, DriftResult]) -> str:
    return "\n\n".join(
        [
            f"### Drift: success {DRIFT_BEFORE} → {DRIFT_AFTER} after {DRIFT_PRE_DAYS} days, {DRIFT_PER_DAY} "
            f"outcomes/day, trend read at the end of each day, {len(DRIFT_SEEDS)} seeds",
            f"Outcomes to detect: outcomes after the drop until the first `declining` (a multiple of "
            f"{DRIFT_PER_DAY}, as the trend is read daily; undetected within {DRIFT_POST_DAYS} days counts as "
            f"beyond). False alarms: a stable agent (the same profile without the drop, and one at p=0.5) read "
            f"at the end of each of the same {DRIFT_PRE_DAYS + DRIFT_POST_DAYS} days; daily checks flagged: the "
            "share of those reads that say `declining`. The first row is the service, read through `trust.score` "
            "(the agent's buckets and its last outcomes in order); the others through the functions `score` takes "
            "its trend from (`trust._trend` where the day windows can judge, else `trust.outcome_trend`; checked "
            "equal on every first-row read).",
            markdown_table(DRIFT_HEADERS, [drift_row(name, result) for name, result in results.items()]),
        ]
    )


DEMO_TREND_SEEDS = tuple(range(50))


DEMO_TREND_WORKFLOWS = 300  # make demo's default


DEGRADING_AGENT = "ANLY-01"


def demo_trend_section() -> tuple[str, float, float]:
    """The demo's shape: ``default_swarm`` (8 agents; ANLY-01 drops from ~0.8 to ~0.2 after 40
    recommendations), 300 workflows, every outcome on the same day (the demo runs in minutes).
    Day windows cannot see a change within one day; the order of outcomes can. Returns the text,
    the share of seeds where ANLY-01 reads ``declining`` and the share of the other agents' reads
    that are not ``stable``."""
    rows = []
    caught = flagged = others = 0
    for seed in DEMO_TREND_SEEDS:
        agents = swarm.default_swarm(DEMO_SWARM_AGENTS, seed=seed)
        buckets: dict[str, Buckets] = defaultdict(Buckets)
        approvals: dict[str, list[float]] = defaultdict(list)
        for workflow in Swarm(agents, seed=seed).workflows(WORKSPACE, DEMO_TREND_WORKFLOWS):
            for recommendation in workflow.recommendations:
                counters = recommendation_counters(recommendation)
                buckets[recommendation.agent_id].add(0, counters)
                approvals[recommendation.agent_id].append(counters.get("approved", 0.0))
        for agent_id, agent_buckets in buckets.items():
            read = trust.score(agent_buckets.days(), day_of(0), recent_outcomes=approvals[agent_id][::-1])
            if agent_id == DEGRADING_AGENT:
                caught += read.trend is Trend.DECLINING
                if seed < 5:
                    rows.append(
                        [
                            str(seed),
                            read.trend.value,
                            f"{read.trend_baseline_outcomes} / {read.trend_recent_outcomes}",
                            f"{read.baseline_success_rate:.2f} → {read.recent_success_rate:.2f}"
                            if read.trend_basis
                            else "—",
                        ]
                    )
            else:
                others += 1
                flagged += read.trend is not Trend.STABLE
    seeds = len(DEMO_TREND_SEEDS)
    text = "\n\n".join(
        [
            f"### Trend on the demo's shape: {DEMO_SWARM_AGENTS} agents of `default_swarm`, "
            f"{DEMO_TREND_WORKFLOWS} workflows, all on one day, {seeds} seeds",
            f"{DEGRADING_AGENT} reads `declining` on {caught}/{seeds} seeds ({caught / seeds:.0%}); the other "
            f"agents read something other than `stable` on {flagged}/{others} reads ({flagged / others:.1%}). "
            "The day windows alone (the previous trend) read `stable` on every one of them. First seeds:",
            markdown_table(
                ["seed", f"{DEGRADING_AGENT} trend", "outcomes before / after the change point", "approval"],
                rows,
            ),
        ]
    )
    return text, caught / seeds, flagged / others
