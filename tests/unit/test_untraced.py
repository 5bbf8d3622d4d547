"""``tests/helpers/untraced.py``: a call runs with the chosen tracer set aside, and the tracer is
back afterwards, also when the call raises; other tracers are left alone."""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

import pytest

from tests.helpers.untraced import untraced


class Recorder:
    """A Python-level tracer that records the functions it sees called."""

    def __init__(self) -> None:
        self.called: list[str] = []

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            self.called.append(frame.f_code.co_name)


def inner() -> str:
    return "done"


def failing() -> None:
    raise ValueError("boom")


def _traced_by(recorder: Recorder, suspend_it: bool, call: Any) -> Any:
    previous = sys.gettrace()
    sys.settrace(recorder)
    try:
        return untraced(call, suspend=lambda tracer: suspend_it and tracer is recorder)()
    finally:
        after = sys.gettrace()
        sys.settrace(previous)
        assert after is recorder  # put back


def test_the_call_runs_without_the_suspended_tracer_and_gets_it_back() -> None:
    recorder = Recorder()
    assert _traced_by(recorder, True, inner) == "done"
    assert "inner" not in recorder.called


def test_another_tracer_sees_the_call() -> None:
    recorder = Recorder()
    assert _traced_by(recorder, False, inner) == "done"
    assert "inner" in recorder.called


def test_the_tracer_comes_back_when_the_call_raises() -> None:
    recorder = Recorder()
    with pytest.raises(ValueError, match="boom"):
        _traced_by(recorder, True, failing)
    assert "failing" not in recorder.called
