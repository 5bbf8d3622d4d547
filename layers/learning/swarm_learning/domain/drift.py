"""Change detection on a stream of outcomes (1 = approved, 0 = not), as pure functions.

Two published methods, written from their papers:

- **ADWIN** (Bifet & Gavaldà, "Learning from time-changing data with adaptive windowing", SDM 2007):
  a window of recent values is cut wherever an older and a newer part have means further apart
  than a bound that holds with probability 1 - δ. ``adwin_cut`` tests one window exactly (every
  split, with the variance form of the bound that ``river`` and MOA use); ``adwin_detections`` runs
  it online, as those libraries do, to check this implementation against theirs.
- **BOCPD** (Adams & MacKay, "Bayesian online changepoint detection", 2007) with a Beta-Bernoulli
  model: the posterior over the length of the current run, updated one outcome at a time.

``decline`` is what the trust refresh asks at every run: over an agent's last evaluated outcomes
(oldest first), is there a change point after which it approves less? It is stateless — the window
is re-read at every refresh — and it says *where* the change is and the levels on both sides, so
that the alert state (``swarm_learning.domain.alert_state``) can remember the level the agent fell
from after the change point has left the window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# river's and MOA's defaults: a cut leaves at least this many values on each side, the window is
# checked every ``clock`` values and not before ``grace_period`` of them.
ADWIN_MIN_SIDE = 5
ADWIN_CLOCK = 32
ADWIN_GRACE_PERIOD = 10


@dataclass(frozen=True)
class Cut:
    """A change point in a window (oldest first): ``older`` values before it, ``newer`` after."""

    older: int
    newer: int
    older_mean: float
    newer_mean: float

    @property
    def difference(self) -> float:
        return self.newer_mean - self.older_mean


def adwin_bound(n_older: int, n_newer: int, variance: float, width: int, delta: float) -> float:
    """ADWIN's ε_cut for one split of a window of ``width`` values whose variance is ``variance``:
    ``sqrt(2 m σ² δ') + 2/3 m δ'`` with ``δ' = ln(2 ln(width) / δ)`` and ``1/m`` the sum of the two
    sides' reciprocal sizes (each less the minimum side length, as in river and MOA)."""
    delta_prime = math.log(2 * math.log(width) / delta)
    m_recip = 1 / (n_older - ADWIN_MIN_SIDE + 1) + 1 / (n_newer - ADWIN_MIN_SIDE + 1)
    return math.sqrt(2 * m_recip * variance * delta_prime) + 2 / 3 * delta_prime * m_recip


def adwin_cut(values: Sequence[float], delta: float) -> Cut | None:
    """The split of ``values`` (oldest first) where ADWIN sees a change at confidence ``delta``, or
    None: the most significant split (``adwin_significance``), if its means differ by more than the
    bound."""
    found = adwin_significance(values)
    return found[1] if found is not None and found[0] < delta else None


def adwin_significance(values: Sequence[float]) -> tuple[float, Cut] | None:
    """ADWIN's most significant split of ``values`` (oldest first) and the smallest δ at which its
    bound would not be exceeded (its "critical δ": ADWIN cuts there at any δ above it), or None for a
    window too short to split. Solving the bound for δ makes one scan serve every δ."""
    n = len(values)
    if n < 2 * ADWIN_MIN_SIDE or n < 3:
        return None
    prefix = [0.0]
    for value in values:
        prefix.append(prefix[-1] + value)
    mean = prefix[n] / n
    variance = max(sum((v - mean) ** 2 for v in values) / n, 1e-12)
    log_width = math.log(2 * math.log(n))
    best: tuple[float, Cut] | None = None
    for split in range(ADWIN_MIN_SIDE, n - ADWIN_MIN_SIDE + 1):
        older_mean = prefix[split] / split
        newer_mean = (prefix[n] - prefix[split]) / (n - split)
        gap = abs(newer_mean - older_mean)
        m_recip = 1 / (split - ADWIN_MIN_SIDE + 1) + 1 / (n - split - ADWIN_MIN_SIDE + 1)
        # gap = sqrt(2 m σ² d) + 2/3 m d, with d = ln(2 ln n / δ): a quadratic in sqrt(d).
        a, b = 2 / 3 * m_recip, math.sqrt(2 * m_recip * variance)
        root = (-b + math.sqrt(b * b + 4 * a * gap)) / (2 * a)
        log_critical = log_width - root * root  # ln δ at which the bound equals the gap
        if best is None or log_critical < best[0]:
            best = (log_critical, Cut(split, n - split, older_mean, newer_mean))
    assert best is not None
    return math.exp(best[0]), best[1]


def adwin_detections(values: Sequence[float], delta: float, *, clock: int = ADWIN_CLOCK) -> list[int]:
    """ADWIN online, as river runs it: the indices at which it detects a change. Every ``clock``
    values (after the grace period) the window is tested; after a detection the detector starts
    afresh from the next value (river resets it; the window after the cut would be the newer side)."""
    detections: list[int] = []
    window: list[float] = []
    for index, value in enumerate(values):
        window.append(value)
        if len(window) < ADWIN_GRACE_PERIOD or (index + 1) % clock:
            continue
        if adwin_cut(window, delta) is not None:
            detections.append(index)
            window = []
    return detections


@dataclass(frozen=True)
class BocpdState:
    """Adams & MacKay's run-length posterior after the values seen so far: ``probabilities[r]`` =
    P(the current run holds the last r values), r = 0 .. t (r = 0: a change point right after the
    newest value), and ``successes[r]`` the approvals among those r values."""

    probabilities: tuple[float, ...]
    successes: tuple[float, ...]

    @classmethod
    def start(cls) -> BocpdState:
        return cls((1.0,), (0.0,))


def bocpd_step(
    state: BocpdState,
    value: float,
    *,
    hazard: float,
    prior: tuple[float, float] = (1.0, 1.0),
    max_run: int = 0,
) -> BocpdState:
    """One step of the paper's Algorithm 1 for a Beta-Bernoulli model with a constant ``hazard``:
    ``value`` is predicted under every run's Beta posterior; each run grows with probability
    1 - hazard or ends with probability hazard; the posterior is normalised. ``max_run`` > 0 keeps
    runs up to that length and lumps longer ones into the last (bounded work per value)."""
    a0, b0 = prior
    joint = []
    for r, (probability, s) in enumerate(zip(state.probabilities, state.successes, strict=True)):
        p_one = (a0 + s) / (a0 + b0 + r)
        joint.append(probability * (p_one if value else 1.0 - p_one))
    probabilities = [hazard * sum(joint), *(j * (1 - hazard) for j in joint)]
    successes = [0.0, *(s + value for s in state.successes)]
    if max_run and len(probabilities) > max_run + 1:
        probabilities = [*probabilities[:max_run], sum(probabilities[max_run:])]
        successes = successes[: max_run + 1]
    total = sum(probabilities)
    return BocpdState(tuple(p / total for p in probabilities), tuple(successes))


def bocpd_run_lengths(
    values: Sequence[float], *, hazard: float, prior: tuple[float, float] = (1.0, 1.0), max_run: int = 0
) -> list[float]:
    """The run-length posterior after ``values`` (oldest first), from the prior."""
    state = BocpdState.start()
    for value in values:
        state = bocpd_step(state, value, hazard=hazard, prior=prior, max_run=max_run)
    return list(state.probabilities)


@dataclass(frozen=True)
class DriftConfig:
    """The decline detector's tunables (docs/trust.md, measured in bench/drift.py)."""

    window: int = (
        1000  # the last evaluated outcomes read at each refresh (bench/drift.py: 500 misses slow slides)
    )
    delta: float = 0.1  # ADWIN's confidence, tuned to <= 5 % false alarms per agent-month (bench/drift.py)
    min_difference: float = 0.10  # a cut must also move the approval rate this much
    # Recovered: the last ``recovery_window`` outcomes are back at the level the agent fell from,
    # within ``recovery_tolerance`` standard errors of that level.
    recovery_window: int = 40
    recovery_tolerance: float = 0.5


def decline(values: Sequence[float], config: DriftConfig) -> Cut | None:
    """The change point after which an agent approves less, in its last outcomes ``values`` (oldest
    first), or None: ADWIN's cut of the window, when the newer side is the lower one by at least
    ``min_difference`` and so is the agent's latest level (the newer side's last
    ``recovery_window`` outcomes). That last condition keeps a drop the agent has since recovered
    from (still in the window) from being announced again."""
    window = values[-config.window :]
    return falling(window, adwin_significance(window), config)


def falling(
    window: Sequence[float], significance: tuple[float, Cut] | None, config: DriftConfig
) -> Cut | None:
    """``decline``'s verdict on ``window`` given its ``adwin_significance`` (computed once, it
    serves every δ: the benchmark reads many settings from one scan)."""
    if significance is None or significance[0] >= config.delta:
        return None
    cut = significance[1]
    if cut.difference > -config.min_difference:
        return None
    latest = window[-min(cut.newer, config.recovery_window) :]
    if sum(latest) / len(latest) > cut.older_mean - config.min_difference:
        return None
    return cut


def recovered(values: Sequence[float], reference: float, config: DriftConfig) -> tuple[bool, float, int]:
    """Whether an agent that fell from ``reference`` is back: the approval rate of its last
    ``recovery_window`` outcomes within ``recovery_tolerance`` standard errors of ``reference``
    (or above it). Judged against the level it fell from, never against the window's change point,
    which leaves the window while the agent stays where it fell. Returns (back, rate, n)."""
    recent = values[-config.recovery_window :]
    n = len(recent)
    if n < config.recovery_window:
        return False, (sum(recent) / n if n else 0.0), n
    rate = sum(recent) / n
    standard_error = math.sqrt(max(reference * (1 - reference), 1e-9) / n)
    return rate >= reference - config.recovery_tolerance * standard_error, rate, n
