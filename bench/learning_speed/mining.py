"""The miner against mlxtend's FP-growth on the same table: the same itemsets, and how much faster."""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench.report import markdown_table, verdict
from swarm_learning.domain.features import FeatureBuilder, FeatureTable
from swarm_learning.domain.patterns import frequent_itemsets

if TYPE_CHECKING:
    import pandas as pd


from bench.learning_speed.rows import MIN_SUPPORT, best_of, synthetic_rows
from bench.report import Target

TARGET_MINER_RATIO = 1.0  # miner time / mlxtend time


@dataclass(frozen=True)
class MiningRun:
    n: int
    runs: int
    items: int
    miner: float
    mlxtend: float
    miner_itemsets: int
    mlxtend_itemsets: int
    only_miner: int
    only_mlxtend: int
    support_differs: int

    @property
    def same(self) -> bool:
        return not (self.only_miner or self.only_mlxtend or self.support_differs)

    @property
    def ratio(self) -> float:
        return self.miner / self.mlxtend


def one_hot(table: FeatureTable) -> pd.DataFrame:
    """The boolean one-hot matrix of exactly the miner's items, named as the miner names them."""
    import numpy as np
    import pandas as pd

    columns: dict[str, Any] = {}
    for slot in table.slots():
        for index, label in enumerate(slot.labels):
            columns[f"{slot.name}={label}"] = np.asarray(slot.codes == index)
    for k, label in enumerate(table.content_labels):
        columns[f"has={label}"] = np.ascontiguousarray(table.content[:, k])
    return pd.DataFrame(columns)


def mlxtend_fraction(count: int, n: int) -> float:
    """mlxtend takes a fraction and rounds ``fraction * n`` up to a count: ``count / n``, or just
    under it if floating point would round up past ``count`` (then it still means ``>= count``)."""
    fraction = count / n
    return fraction if math.ceil(fraction * n) == count else (count - 0.5) / n


def timed(function: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Best of ``runs`` wall times, and the last result."""
    best, result = math.inf, None
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def measure_mining(n: int, seed: int) -> MiningRun:
    from mlxtend.frequent_patterns import fpgrowth

    table = FeatureBuilder().extend(synthetic_rows(n, seed=seed)).build()
    frame = one_hot(table)  # not timed: mlxtend's input format
    runs = best_of(n)
    miner_seconds, itemsets = timed(lambda: frequent_itemsets(table, MIN_SUPPORT), runs)
    fraction = mlxtend_fraction(MIN_SUPPORT, n)
    mlxtend_seconds, found = timed(
        lambda: fpgrowth(frame, min_support=fraction, use_colnames=True, max_len=2), runs
    )
    ours: dict[frozenset[str], int] = itemsets.as_dict()
    theirs = {
        frozenset(items): round(support * n)
        for items, support in zip(found["itemsets"], found["support"], strict=True)
    }
    return MiningRun(
        n=n,
        runs=runs,
        items=frame.shape[1],
        miner=miner_seconds,
        mlxtend=mlxtend_seconds,
        miner_itemsets=len(ours),
        mlxtend_itemsets=len(theirs),
        only_miner=len(ours.keys() - theirs.keys()),
        only_mlxtend=len(theirs.keys() - ours.keys()),
        support_differs=sum(ours[k] != theirs[k] for k in ours.keys() & theirs.keys()),
    )


def mining_section(runs: Sequence[MiningRun]) -> str:
    table = markdown_table(
        [
            "n",
            "items",
            "runs (best kept)",
            "itemsets miner / mlxtend",
            "same itemsets",
            "frequent_itemsets s",
            "mlxtend fpgrowth s",
            "miner / mlxtend",
            "target met",
        ],
        [
            [
                f"{r.n:,}",
                f"{r.items}",
                f"{r.runs}",
                f"{r.miner_itemsets:,} / {r.mlxtend_itemsets:,}",
                "yes"
                if r.same
                else f"no ({r.only_miner} only ours, {r.only_mlxtend} only mlxtend, "
                f"{r.support_differs} supports differ)",
                f"{r.miner:.4f}",
                f"{r.mlxtend:.3f}",
                f"{r.ratio:.4f}x",
                verdict(r.same and r.ratio <= TARGET_MINER_RATIO),
            ]
            for r in runs
        ],
    )
    same = all(r.same for r in runs)
    return "\n\n".join(
        [
            f"### Mining: frequent_itemsets vs. mlxtend fpgrowth (itemsets of 1-2 items, support >= {MIN_SUPPORT} rows)",
            "The same FeatureTable as above. mlxtend gets the boolean one-hot DataFrame of exactly the miner's "
            "items (one column per slot value, `slot=label`, and one per content attribute, `has=label`), "
            f"built beforehand and not timed; `fpgrowth(df, min_support={MIN_SUPPORT}/n, use_colnames=True, "
            "max_len=2)`. The miner is timed from the FeatureTable. Itemsets compared as "
            "{frozenset(items): support count}, mlxtend's count = round(support * n). Target: miner / mlxtend <= "
            f"{TARGET_MINER_RATIO:.1f}x.",
            table,
            f"same itemsets: {'yes' if same else 'no'}",
        ]
    )


def mining_targets(runs: Sequence[MiningRun]) -> list[Target]:
    targets: list[Target] = [
        (
            f"frequent_itemsets / mlxtend fpgrowth <= {TARGET_MINER_RATIO:.1f}x at {r.n:,} rows",
            f"{r.ratio:.4f}x",
            r.ratio <= TARGET_MINER_RATIO,
        )
        for r in runs
    ]
    same = all(r.same for r in runs)
    targets.append(
        ("the miner and mlxtend find the same itemsets and supports", "yes" if same else "no", same)
    )
    return targets
