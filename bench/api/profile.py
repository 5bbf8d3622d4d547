"""Where a handler's time goes outside the DynamoDB client (cProfile, by component)."""

from __future__ import annotations

import cProfile
import statistics
import sysconfig
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from bench.api.calls import ROOT
from bench.api.latency import ClientClock, FunctionKey, frozen_heap, release_store_objects
from bench.api.raw import Operation

_STDLIB = Path(sysconfig.get_paths()["stdlib"])


def component(key: FunctionKey) -> str:
    """Who a function belongs to, for the profile's self-time table."""
    filename, _, function = key
    if filename.startswith("<frozen "):  # a frozen standard-library module
        return f"{filename.removeprefix('<frozen ').rstrip('>').lstrip('_')} (stdlib)"
    if filename.startswith("<"):
        return "generated code"
    if filename == "~":  # a C function
        if "pydantic_core" in function:
            return "pydantic"
        if "_json" in function:
            return "json (stdlib)"
        if "'write' of '_io" in function or "builtins.print" in function:
            return "stdout writes"
        return "C builtins (other)"
    path = Path(filename)
    if "site-packages" in path.parts:
        inside = path.parts[path.parts.index("site-packages") + 1 :]
        package = inside[0]
        if package == "aws_lambda_powertools":
            area = inside[2] if inside[1] == "utilities" and len(inside) > 3 else inside[1]
            return f"powertools {area.removesuffix('.py')}"
        if package in ("pydantic", "pydantic_core"):
            return "pydantic"
        if inside[:2] == ("boto3", "dynamodb"):
            return "boto3 TypeSerializer/TypeDeserializer"
        return package
    if path.is_relative_to(ROOT):
        if "swarm_learning" in path.parts:
            return "swarm_learning (domain, storage)"
        if "functions" in path.parts:
            return "functions/*/app.py"
        return f"{path.relative_to(ROOT).parts[0]} (benchmark, local runtime)"
    if path.is_relative_to(_STDLIB):
        return f"{path.relative_to(_STDLIB).parts[0].removesuffix('.py')} (stdlib)"
    return "other"


def function_label(key: FunctionKey) -> str:
    filename, line, function = key
    if filename == "~":
        return function
    path = Path(filename)
    for base in (ROOT, _STDLIB):
        if path.is_relative_to(base):
            path = path.relative_to(base)
            break
    else:
        if "site-packages" in path.parts:
            path = Path(*path.parts[path.parts.index("site-packages") + 1 :])
    return f"{path}:{line}({function})"


# cProfile's record of a function: (primitive calls, calls, self s, cumulative s, {caller: record}).
Record = tuple[int, int, float, float, dict[FunctionKey, tuple[int, int, float, float]]]


@dataclass(frozen=True)
class Profile:
    """cProfile's records of the handler path outside the DynamoDB client, summed over ``calls``;
    the raw path's self time outside the client; and each path's time inside the client."""

    operation: str
    calls: int
    handler: dict[FunctionKey, Record]
    spanning: frozenset[FunctionKey]
    raw_seconds: float
    handler_client_ns: int
    raw_client_ns: int

    def ms(self, seconds: float) -> float:
        return seconds * 1000 / self.calls

    @property
    def handler_ms(self) -> float:
        return self.ms(sum(record[2] for record in self.handler.values()))

    def by_component(self) -> defaultdict[str, float]:
        """Self time per component; a C builtin's time goes to the component of its caller."""
        totals: defaultdict[str, float] = defaultdict(float)
        for key, (_, _, self_s, _, callers) in self.handler.items():
            owner = component(key)
            if owner != "C builtins (other)":
                totals[owner] += self.ms(self_s)
                continue
            for caller, edge in callers.items():
                totals[component(caller)] += self.ms(edge[2])
            totals[owner] += self.ms(self_s - sum(edge[2] for edge in callers.values()))
        return totals

    def candidates(self) -> list[tuple[FunctionKey, float, float]]:
        """(function, cumulative ms, self ms) per call of the handler's libraries and code; the
        standard library, C builtins and the benchmark's frames are left out."""
        return [
            (key, self.ms(record[3]), self.ms(record[2]))
            for key, record in self.handler.items()
            if key[0] != "~"
            and not Path(key[0]).is_relative_to(_STDLIB)
            and not component(key).endswith("(benchmark, local runtime)")
        ]


@dataclass(frozen=True)
class ProfiledOperation:
    """An operation profiled in chunks of calls. Every figure reported is the median over the
    chunks, so one stalled call (a collection, a busy machine) cannot inflate a component."""

    operation: str
    chunks: list[Profile]

    @property
    def calls(self) -> int:
        return sum(chunk.calls for chunk in self.chunks)

    def median(self, figure: Callable[[Profile], float]) -> float:
        return statistics.median(figure(chunk) for chunk in self.chunks)

    def components(self) -> dict[str, float]:
        per_chunk = [chunk.by_component() for chunk in self.chunks]
        names: set[str] = set().union(*per_chunk)
        return {name: statistics.median(totals.get(name, 0.0) for totals in per_chunk) for name in names}

    def heaviest(self, count: int) -> list[tuple[FunctionKey, float, float]]:
        """The functions with the highest cumulative time, leaving out those cut by a client call."""
        spanning: set[FunctionKey] = set().union(*(chunk.spanning for chunk in self.chunks))
        per_chunk = [{key: (cumulative, own) for key, cumulative, own in c.candidates()} for c in self.chunks]
        keys = set().union(*per_chunk) - spanning
        rows = [
            (
                key,
                statistics.median(found.get(key, (0.0, 0.0))[0] for found in per_chunk),
                statistics.median(found.get(key, (0.0, 0.0))[1] for found in per_chunk),
            )
            for key in keys
        ]
        return sorted(rows, key=lambda row: -row[1])[:count]


def _records(profile: cProfile.Profile) -> dict[FunctionKey, Record]:
    profile.create_stats()
    return cast(dict[FunctionKey, Record], profile.stats)


PROFILE_CHUNKS = 5


def profile_operation(operation: Operation, calls: int) -> ProfiledOperation:
    clock = ClientClock()

    def chunk(size: int) -> Profile:
        handler_profile, raw_profile = cProfile.Profile(), cProfile.Profile()
        handler_client_ns = raw_client_ns = 0
        for _ in range(size):
            trial = operation.prepare()
            response, client_ns = clock.profiled(handler_profile, trial.handler)
            handler_client_ns += client_ns
            result, client_ns = clock.profiled(raw_profile, trial.raw)
            raw_client_ns += client_ns
            trial.finish(response, result)
            release_store_objects()
        return Profile(
            operation=operation.name,
            calls=size,
            handler=_records(handler_profile),
            spanning=frozenset(clock.spanning),
            raw_seconds=sum(record[2] for record in _records(raw_profile).values()),
            handler_client_ns=handler_client_ns,
            raw_client_ns=raw_client_ns,
        )

    with clock.installed(), frozen_heap():
        size = max(1, calls // PROFILE_CHUNKS)
        return ProfiledOperation(operation.name, [chunk(size) for _ in range(PROFILE_CHUNKS)])
