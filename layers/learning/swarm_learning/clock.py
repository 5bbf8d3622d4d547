"""The service's one source of the current time.

Every service reads time through ``utcnow``, which asks the installed source at each call, so a
test (or the local server's ``--advance-days``) can install a fixed or stepping clock once and
every service created before or after sees it. Production never installs one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def _wall_clock() -> datetime:
    return datetime.now(UTC)


_source: Clock = _wall_clock


def utcnow() -> datetime:
    return _source()


def install(source: Clock | None) -> None:
    """Read time from ``source`` from now on (``None``: the wall clock again)."""
    global _source
    _source = source or _wall_clock


class SteppingClock:
    """A fixed start that moves on by ``step`` at every reading, so ids minted in a row keep
    their time order, and by ``advance`` when a test lets time pass."""

    def __init__(self, start: datetime, step: timedelta = timedelta(milliseconds=1)) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._now = start
        self._step = step

    def __call__(self) -> datetime:
        now = self._now
        self._now += self._step
        return now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def peek(self) -> datetime:
        return self._now


@contextmanager
def installed(source: Clock) -> Iterator[Clock]:
    previous = _source
    install(source)
    try:
        yield source
    finally:
        install(previous)
