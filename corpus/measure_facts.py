"""The measures' distributions per split and source: fixed-bin histograms, summed by a
combiner over the published parts (pipelines/transforms.py), kept in ``info.json`` as
``measures`` and shown by ``describe`` and the report.

    {"measures": {split: {source: {name: {"count": n, "median": m, "p05": .., "p95": ..,
                                          "range": [lo, hi], "bins": [counts...]}}}}}

``bins`` has the measure's bin count plus one bin below and one above the range (MEASURES'
``bins``); the quantiles are read off the histogram (linear inside a bin), so they are the
same however the records were grouped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from speechmill.corpus.measures import MEASURES

Key = tuple[str, str, str]  # split, source, measure


def bin_index(name: str, value: float) -> int:
    lo, hi, n = MEASURES[name].bins
    if value < lo:
        return 0
    if value >= hi:
        return n + 1
    return 1 + int((value - lo) / (hi - lo) * n)


class MeasureFacts:
    """(split, source, rows of measures) -> histograms; ``create/add/merge/extract``."""

    def create(self) -> dict[Key, np.ndarray]:
        return {}

    def add(
        self, acc: dict[Key, np.ndarray], split: str, source: str, rows: Iterable[tuple]
    ) -> dict[Key, np.ndarray]:
        names = list(MEASURES)
        for row in rows:
            for name, value in zip(names, row):
                if value is None:
                    continue
                key = (split, source, name)
                if key not in acc:
                    acc[key] = np.zeros(MEASURES[name].bins[2] + 2, dtype=np.int64)
                acc[key][bin_index(name, value)] += 1
        return acc

    def merge(self, accs: Iterable[dict[Key, np.ndarray]]) -> dict[Key, np.ndarray]:
        out: dict[Key, np.ndarray] = {}
        for acc in accs:
            for key, counts in acc.items():
                out[key] = out[key] + counts if key in out else counts.copy()
        return out

    def extract(self, acc: dict[Key, np.ndarray]) -> dict[str, Any]:
        table: dict[str, Any] = {}
        for (split, source, name), counts in sorted(acc.items()):
            lo, hi, n = MEASURES[name].bins
            table.setdefault(split, {}).setdefault(source, {})[name] = {
                "count": int(counts.sum()),
                **{
                    label: round(quantile(counts, q, lo, hi, n), 4)
                    for label, q in (("p05", 0.05), ("median", 0.5), ("p95", 0.95))
                },
                "range": [lo, hi],
                "bins": [int(c) for c in counts],
            }
        return table


def quantile(counts: np.ndarray, q: float, lo: float, hi: float, n: int) -> float:
    """The q-quantile of a histogram with under- and overflow bins (clamped to the range)."""
    cumulative = np.cumsum(counts)
    target = q * cumulative[-1]
    b = int(np.searchsorted(cumulative, target, side="left"))
    if b == 0:
        return lo
    if b > n:
        return hi
    before = cumulative[b - 1]
    inside = (target - before) / counts[b] if counts[b] else 0.0
    return lo + (b - 1 + inside) * (hi - lo) / n
