"""Drift detectors judged on the same streams: the service's against ADWIN and BOCPD.

    pip install -r requirements-bench.txt           (river: its ADWIN is the reference)
    python -m bench.drift [--seeds 50] [--demo-seeds 50]

Streams (every draw from ``random.Random(seed)``; one approval = 1, anything else 0):

- drops 0.8 -> 0.6, 0.8 -> 0.4 and 0.7 -> 0.5 after 30 days, at 10, 20 and 50 outcomes a day;
- a gradual drift: 0.8 sliding linearly to 0.4 over the 30 days after day 30;
- stable agents at 0.5, 0.7 and 0.9 over 60 days (two agent-months each).

Each stream is read two ways: **by day** (the detector is asked at the end of each day, as the
6-hourly trust refresh asks it; the service's previous trend may use its day windows) and **in
outcome order** (asked after every outcome, no calendar: the previous trend reads the order of
outcomes only). Every detector's answers go through the same alert state (``domain.alert_state``):
an alarm is an entry into "declined", which lasts until the agent is back at the level it fell
from; so a detector is charged once per alarm, not once per read.

Detectors:

- ``trend (before)``: the service's trend before this work (``trust._trend`` / ``outcome_trend``),
  declining = an alarm;
- ``ADWIN window (service)``: ``domain.drift.decline``, ADWIN's test on the agent's last 500
  or 1000 outcomes at each read (stateless, as the refresh runs it) with a 0.10 minimum drop;
- ``river ADWIN``: river's online ADWIN fed every outcome (default δ = 0.002, and tuned δ), an
  alarm when it detects a change and its estimate fell;
- ``BOCPD``: Adams & MacKay's run-length posterior, Beta(1, 1)-Bernoulli, hazard 1/500, an alarm
  when P(change within the last 100 outcomes) >= θ and the run since the likeliest change point
  approves less than the 200 outcomes before it.

Measured: detection rate (alarm within 30 days of the change), median delay in outcomes after the
change (undetected: censored at the horizon), false alarms per stable agent-month. "Matched" rows
choose, per detector family, the setting with the shortest median delay among those with at most
5 % false alarms per agent-month (over every stable stream, both readings).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from river.drift import ADWIN

from bench.report import add_results_option, header, markdown_table, progress_printer, results_file, verdict
from swarm_learning.domain import alert_state, drift, trust
from swarm_learning.domain.trust_values import DayCounters, TrustConfig
from swarm_learning.vocabulary import Trend

PRE_DAYS, POST_DAYS = 30, 30
RATES_PER_DAY = (10, 20, 50)
DROPS = ((0.8, 0.6), (0.8, 0.4), (0.7, 0.5))
GRADUAL = (0.8, 0.4)
STABLE = (0.5, 0.7, 0.9)
FIRST_DAY = date(2026, 1, 1)
MAX_FALSE_ALARMS = 0.05  # per stable agent-month
BOCPD_HAZARD = 1 / 500
BOCPD_HORIZON = 100
BOCPD_MAX_RUN = 300
PEER_REFERENCE_WINDOW = 200
DEMO_WORKFLOWS = 300  # make demo's default
DEMO_DEGRADING_AGENT = "ANLY-01"  # localdev.swarm's planted regression (about 0.8, then 0.2)


@dataclass(frozen=True)
class Stream:
    name: str
    kind: str  # "drop", "gradual", "stable"
    per_day: int
    values: tuple[float, ...]
    change_at: int | None  # index of the first outcome after the change

    @property
    def months(self) -> float:
        return len(self.values) / self.per_day / 30


def probability(kind: str, day: int, before: float, after: float) -> float:
    if kind == "stable" or day < PRE_DAYS:
        return before
    if kind == "drop":
        return after
    return before + (after - before) * min((day - PRE_DAYS + 1) / POST_DAYS, 1.0)


def stream(kind: str, before: float, after: float, per_day: int, seed: int) -> Stream:
    rng = random.Random(f"{kind}-{before}-{after}-{per_day}-{seed}")
    days = PRE_DAYS + POST_DAYS
    values = tuple(
        1.0 if rng.random() < probability(kind, day, before, after) else 0.0
        for day in range(days)
        for _ in range(per_day)
    )
    name = f"{before:.1f} stable" if kind == "stable" else f"{before:.1f} -> {after:.1f} {kind}"
    return Stream(name, kind, per_day, values, None if kind == "stable" else PRE_DAYS * per_day)


# ---- detectors: each answers "has the agent declined?" at every read -------------------------
SERVICE_WINDOWS = (500, 1000)
SERVICE_DELTAS = (0.01, 0.05, 0.1, 0.2)
RIVER_DELTAS = (0.002, 0.05, 0.1, 0.2, 0.5)
TREND_ZS = (3.25, 2.75)
BOCPD_THRESHOLDS = (0.5, 0.8, 0.95, 0.99)
OUTCOME_ORDER_EVERY = 5  # in outcome order, the detector is read every 5 outcomes


def checkpoints(s: Stream, reading: str) -> list[tuple[int, int]]:
    """(outcomes seen, day index) at each read."""
    if reading == "by day":
        return [((d + 1) * s.per_day, d) for d in range(len(s.values) // s.per_day)]
    every = OUTCOME_ORDER_EVERY
    return [(i, (i - 1) // s.per_day) for i in range(every, len(s.values) + 1, every)]


def cut_if(found: Trend, before: float | None, after: float | None) -> drift.Cut | None:
    if found is not Trend.DECLINING or before is None or after is None:
        return None
    return drift.Cut(0, 0, before, after)


def day_buckets(values: Sequence[float], per_day: int, days: int) -> list[DayCounters]:
    return [
        DayCounters(
            FIRST_DAY + timedelta(days=day),
            {"evaluated": float(per_day), "success_sum": sum(values[day * per_day : (day + 1) * per_day])},
        )
        for day in range(days)
    ]


def previous_trend(s: Stream, seen: int, day: int, config: TrustConfig, calendar: bool) -> drift.Cut | None:
    """The service's trend before this work: day windows where they can judge (``calendar``), else
    the order of outcomes."""
    if calendar:
        days = day_buckets(s.values, s.per_day, day + 1)
        today = FIRST_DAY + timedelta(days=day)
        if trust.day_windows_can_judge(days, today, config):
            found, recent, baseline = trust._trend(days, today, config)
            return cut_if(found, baseline, recent)
    newest_first = list(s.values[max(0, seen - config.outcome_trend_window) : seen])[::-1]
    reading = trust.outcome_trend(newest_first, config)
    return cut_if(reading.trend, reading.baseline_success_rate, reading.recent_success_rate)


def river_detections(values: Sequence[float], delta: float) -> dict[int, drift.Cut]:
    """River's ADWIN fed every value: outcomes seen -> the change, where it detected a fall."""
    detector = ADWIN(delta=delta)
    found = {}
    for index, value in enumerate(values):
        before = detector.estimation
        detector.update(value)
        if detector.drift_detected and detector.estimation < before:
            found[index + 1] = drift.Cut(0, 0, before, detector.estimation)
    return found


def bocpd_readings(values: Sequence[float]) -> list[tuple[float, drift.Cut | None]]:
    """After each value: P(a change within the last BOCPD_HORIZON values) and the fall since the
    likeliest such change (None when the run since it does not approve less)."""
    state = drift.BocpdState.start()
    out: list[tuple[float, drift.Cut | None]] = []
    for index, value in enumerate(values):
        state = drift.bocpd_step(state, value, hazard=BOCPD_HAZARD, max_run=BOCPD_MAX_RUN)
        seen = index + 1
        posterior = state.probabilities
        # Runs as long as the history are "no change" (early on every run is shorter than the horizon).
        recent_mass = sum(posterior[: min(BOCPD_HORIZON, seen - 1) + 1])
        top = min(BOCPD_HORIZON, seen - 1)
        likeliest = max(range(1, top + 1), key=lambda r: posterior[r]) if top >= 1 else 0
        cut = None
        if likeliest:
            newer = values[seen - likeliest : seen]
            older = values[max(0, seen - likeliest - PEER_REFERENCE_WINDOW) : seen - likeliest]
            older_mean, newer_mean = sum(older) / len(older), sum(newer) / len(newer)
            if newer_mean <= older_mean - drift.DriftConfig().min_difference:
                cut = drift.Cut(len(older), len(newer), older_mean, newer_mean)
        out.append((recent_mass, cut))
    return out


def alarms_of(readings: Sequence[tuple[int, drift.Cut | None]], values: Sequence[float]) -> list[int]:
    """Entries into "declined" through the alert state, given the detector's answer at each read."""
    state: alert_state.TrendState | None = None
    alarms = []
    config = drift.DriftConfig()
    for seen, cut in readings:
        window = values[max(0, seen - config.window) : seen]
        state, alert = alert_state.next_trend_state(state, cut, window, config)
        if alert is alert_state.AlertKind.AGENT_TRUST_DECLINED:
            alarms.append(seen)
    return alarms


def settings() -> list[tuple[str, str]]:
    return [
        *[("trend (before)", f"outcome z = {z}") for z in TREND_ZS],
        *[("ADWIN window (service)", f"last {w}, δ = {d}") for w in SERVICE_WINDOWS for d in SERVICE_DELTAS],
        *[("river ADWIN", f"δ = {d}") for d in RIVER_DELTAS],
        *[("BOCPD", f"θ = {t}") for t in BOCPD_THRESHOLDS],
    ]


def run_stream(s: Stream, readings: Sequence[str]) -> dict[tuple[str, str, str], list[int]]:
    """Per (family, setting, reading): the reads (outcomes seen) at which the alert state entered
    "declined"."""
    rivers = {d: river_detections(s.values, d) for d in RIVER_DELTAS}
    bocpd = bocpd_readings(s.values)
    alarms: dict[tuple[str, str, str], list[int]] = {}
    for reading in readings:
        points = checkpoints(s, reading)
        answers: dict[tuple[str, str], list[tuple[int, drift.Cut | None]]] = {k: [] for k in settings()}
        last = 0
        for seen, day in points:
            for z in TREND_ZS:
                config = TrustConfig(outcome_trend_z=z)
                cut = previous_trend(s, seen, day, config, calendar=reading == "by day")
                answers[("trend (before)", f"outcome z = {z}")].append((seen, cut))
            for w in SERVICE_WINDOWS:
                window = s.values[max(0, seen - w) : seen]
                found = drift.adwin_significance(window)
                for d in SERVICE_DELTAS:
                    cut = drift.falling(window, found, drift.DriftConfig(window=w, delta=d))
                    answers[("ADWIN window (service)", f"last {w}, δ = {d}")].append((seen, cut))
            for d in RIVER_DELTAS:
                falls = [rivers[d][i] for i in range(last + 1, seen + 1) if i in rivers[d]]
                answers[("river ADWIN", f"δ = {d}")].append((seen, falls[-1] if falls else None))
            mass, cut = bocpd[seen - 1]
            for t in BOCPD_THRESHOLDS:
                answers[("BOCPD", f"θ = {t}")].append((seen, cut if mass >= t else None))
            last = seen
        for (family, setting), answered in answers.items():
            alarms[(family, setting, reading)] = alarms_of(answered, s.values)
    return alarms


@dataclass
class Tally:
    delays: list[int | None] = field(default_factory=list)
    false_alarms: int = 0
    months: float = 0.0

    def detection_rate(self) -> float:
        return sum(d is not None for d in self.delays) / len(self.delays) if self.delays else float("nan")

    def median_delay(self, horizon: int) -> float:
        return statistics.median([d if d is not None else horizon for d in self.delays])


def measure(seeds: int, readings: Sequence[str], progress: Callable[[str], None]) -> dict:
    results: dict[tuple[str, str, str, str], Tally] = {}
    streams: list[tuple[str, Stream]] = []
    for seed in range(seeds):
        for per_day in RATES_PER_DAY:
            for before, after in DROPS:
                streams.append((f"drop {before}->{after}", stream("drop", before, after, per_day, seed)))
            streams.append(("gradual 0.8->0.4", stream("gradual", *GRADUAL, per_day, seed)))
            for level in STABLE:
                streams.append(("stable", stream("stable", level, level, per_day, seed)))
    started = time.perf_counter()
    for number, (group, s) in enumerate(streams, 1):
        for (family, setting, reading), alarms in run_stream(s, readings).items():
            stable = results.setdefault((family, setting, reading, "stable"), Tally())
            if s.change_at is None:
                stable.false_alarms += len(alarms)
                stable.months += s.months
                continue
            # Before the change a drifting stream is a stable agent too.
            stable.false_alarms += sum(a <= s.change_at for a in alarms)
            stable.months += s.change_at / s.per_day / 30
            key = (family, setting, reading, f"{group} @{s.per_day}/day")
            after = [a - s.change_at for a in alarms if a > s.change_at]
            results.setdefault(key, Tally()).delays.append(after[0] if after else None)
        if number % 21 == 0:
            progress(f"{number}/{len(streams)} streams, {time.perf_counter() - started:.0f} s")
    return results


# ---- the demo ---------------------------------------------------------------------------------
def demo_detection(seeds: int) -> tuple[int, int, int]:
    """The demo's swarm (``localdev.swarm.default_swarm``, its default 300 workflows on one day) over
    ``seeds`` seeds: on how many does the service's detector flag the planted regression (ANLY-01),
    and how many stable agents does it flag? Read as the trust refresh would, once at the end."""
    from localdev import swarm

    caught = flagged = stable = 0
    config = drift.DriftConfig()
    for seed in range(seeds):
        outcomes: dict[str, list[float]] = {}
        sim = swarm.Swarm(swarm.default_swarm(seed=seed), seed=seed)
        for workflow in sim.workflows("ws_demo", DEMO_WORKFLOWS):
            for recommendation in workflow.recommendations:
                approved = 1.0 if recommendation.evaluation.outcome == "approved" else 0.0
                outcomes.setdefault(recommendation.agent_id, []).append(approved)
        for agent_id, values in outcomes.items():
            found = drift.decline(values, config) is not None
            if agent_id == DEMO_DEGRADING_AGENT:
                caught += found
            else:
                stable += 1
                flagged += found
    return caught, flagged, stable


# ---- the real stream ----------------------------------------------------------------------------
REPLAY_REFRESH_EVERY = 25  # workflows between trust refreshes, as in the acceptance test


def replay_delays(seeds: int) -> list[tuple[int, list[int], dict[str, int]]]:
    """``localdev.digits``: per seed, the degraded classifier's accuracy after the change (in
    hundredths), the outcomes after the change at which AgentTrustDeclined was raised (the service's
    detector through the alert state, read every ``REPLAY_REFRESH_EVERY`` workflows), and the
    decline alerts of the stable classifiers."""
    from localdev import digits

    out = []
    config = drift.DriftConfig()
    for seed in range(seeds):
        stream = digits.classifier_stream(seed)
        declines: dict[str, list[int]] = {}
        for agent, correct in stream.items():
            values = [1.0 if ok else 0.0 for ok in correct]
            readings = [
                (n, drift.decline(values[max(0, n - config.window) : n], config))
                for n in range(REPLAY_REFRESH_EVERY, digits.WORKFLOWS + 1, REPLAY_REFRESH_EVERY)
            ]
            declines[agent] = [a - digits.CHANGE_AT for a in alarms_of(readings, values)]
        after = stream[digits.DEGRADED][digits.CHANGE_AT :]
        stable = {a: len(declines[a]) for a in digits.STABLE}
        out.append((round(100 * sum(after) / len(after)), declines[digits.DEGRADED], stable))
    return out


# ---- output -----------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=20, help="streams per shape and rate (0: none)")
    parser.add_argument("--demo-seeds", type=int, default=50)
    parser.add_argument("--readings", default="by day,in outcome order")
    parser.add_argument("--replay-seeds", type=int, default=10, help="digits replays (needs scikit-learn)")
    args = add_results_option(parser).parse_args(argv)
    with results_file(args.save):
        return run(args, argv)


def run(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    readings = [r.strip() for r in args.readings.split(",")]
    progress = progress_printer()
    started = time.perf_counter()
    print(header(["river", "numpy"], "bench.drift", argv))
    if args.seeds:
        results = measure(args.seeds, readings, progress)
        ordered = [(family, setting, None) for family, setting in settings()]
        print()
        groups = sorted({k[3] for k in results if k[3] != "stable"})
        for reading in readings:
            rows = []
            for family, setting, _ in ordered:
                stable = results[(family, setting, reading, "stable")]
                fa = stable.false_alarms / stable.months if stable.months else float("nan")
                drops = [results[(family, setting, reading, g)] for g in groups]
                delays = [
                    t.median_delay(POST_DAYS * int(g.split("@")[1].split("/")[0]))
                    for g, t in zip(groups, drops, strict=True)
                ]
                rate = statistics.mean(t.detection_rate() for t in drops)
                rows.append([family, setting, f"{fa:.3f}", f"{rate:.2f}", f"{statistics.median(delays):.0f}"])
            print(f"### {reading}: every setting (false alarms per stable agent-month, detection rate and")
            print("median over the 12 drift streams of the median delay in outcomes)\n")
            print(
                markdown_table(
                    ["detector", "setting", "false alarms / agent-month", "detected", "median delay"], rows
                )
            )
            print()
            best: dict[str, tuple[str, float]] = {}
            for family, setting, _ in ordered:
                stable = results[(family, setting, reading, "stable")]
                fa = stable.false_alarms / stable.months
                if fa > MAX_FALSE_ALARMS:
                    continue
                drops = [results[(family, setting, reading, g)] for g in groups]
                score = statistics.mean(
                    t.median_delay(POST_DAYS * int(g.split("@")[1].split("/")[0]))
                    for g, t in zip(groups, drops, strict=True)
                )
                if family not in best or score < best[family][1]:
                    best[family] = (setting, score)
            headers = ["stream", *[f"{f} ({s})" for f, (s, _) in best.items()]]
            rows = []
            for g in groups:
                per_day = int(g.split("@")[1].split("/")[0])
                cells = [g]
                for family, (setting, _) in best.items():
                    t = results[(family, setting, reading, g)]
                    cells.append(f"{t.detection_rate():.2f} / {t.median_delay(POST_DAYS * per_day):.0f}")
                rows.append(cells)
            fa_row = ["false alarms / agent-month"]
            for family, (setting, _) in best.items():
                stable = results[(family, setting, reading, "stable")]
                fa_row.append(f"{stable.false_alarms / stable.months:.3f}")
            rows.append(fa_row)
            print(f"### {reading}: matched at <= {MAX_FALSE_ALARMS:.0%} false alarms per agent-month")
            print(
                "(per family the setting with the shortest mean of median delays; cells: detection rate / median delay)\n"
            )
            print(markdown_table(headers, rows))
            print()
            service = best.get("ADWIN window (service)")
            peers = [v[1] for f, v in best.items() if f in ("river ADWIN", "BOCPD")]
            if service and peers:
                drift_groups = [(g, int(g.split("@")[1].split("/")[0])) for g in groups]
                peer_family = min(
                    (f for f in best if f in ("river ADWIN", "BOCPD")), key=lambda f: best[f][1]
                )

                delays = {
                    (family, g): results[(family, best[family][0], reading, g)].median_delay(POST_DAYS * n)
                    for family in ("ADWIN window (service)", peer_family)
                    for g, n in drift_groups
                }
                ahead = sum(
                    delays[("ADWIN window (service)", g)] <= delays[(peer_family, g)] for g, _ in drift_groups
                )
                print(
                    "target (service no worse than the best peer on delay, matched): mean of the median "
                    f"delays: service {service[1]:.0f}, best peer ({peer_family}) {min(peers):.0f}, "
                    f"ratio {service[1] / min(peers):.2f}; service's delay <= the peer's on {ahead} of "
                    f"{len(drift_groups)} streams: {verdict(service[1] <= min(peers))}\n"
                )
    if args.replay_seeds:
        rows = []
        for seed, (accuracy, raised, stable) in enumerate(replay_delays(args.replay_seeds)):
            rows.append(
                [seed, f"0.{accuracy:02d}", ", ".join(map(str, raised)) or "none", sum(stable.values())]
            )
        print("### real stream: the digits replay (localdev.digits, refresh every 25 workflows)\n")
        print(
            markdown_table(
                [
                    "seed",
                    "SVC accuracy after",
                    "decline alerts at (outcomes after the change)",
                    "stable agents' declines",
                ],
                rows,
            )
        )
        print()
    caught, flagged, stable_agents = demo_detection(args.demo_seeds)
    if args.demo_seeds:
        print(
            f"### demo: planted regression caught on {caught} of {args.demo_seeds} seeds; "
            f"stable agents flagged {flagged} of {stable_agents}\n"
        )
    print(f"({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
