"""The measures' distributions per split and source: fixed-bin histograms, summed by a
combiner over the published parts (pipelines/transforms.py), kept in ``info.json`` as
``measures`` and shown by ``describe`` and the report.

    {"measures": {split: {source: {name: {"count": n, "min": .., "p05": .., "median": m,
                                          "p95": .., "max": .., "range": [lo, hi],
                                          "bins": [counts...]}}}}}

``bins`` has the measure's bin count plus one bin below and one above the range (MEASURES'
``bins``); the quantiles are read off the histogram (linear inside a bin) and kept within the
exact smallest and largest values, so they are the same however the records were grouped (a
measure that is 0 everywhere has a median of 0, not the middle of its first bin).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from speechmill.corpus.measures import MEASURES

Key = tuple[str, str, str]  # split, source, measure
Acc = dict[Key, list]  # [bin counts, smallest value, largest value]


def bin_index(name: str, value: float) -> int:
    lo, hi, n = MEASURES[name].bins
    if value < lo:
        return 0
    if value >= hi:
        return n + 1
    return 1 + int((value - lo) / (hi - lo) * n)


class MeasureFacts:
    """(split, source, rows of measures) -> histograms; ``create/add/merge/extract``."""

    def create(self) -> Acc:
        return {}

    def add(self, acc: Acc, split: str, source: str, rows: Iterable[tuple]) -> Acc:
        names = list(MEASURES)
        for row in rows:
            for name, value in zip(names, row):
                if value is None:
                    continue
                key = (split, source, name)
                if key not in acc:
                    acc[key] = [np.zeros(MEASURES[name].bins[2] + 2, dtype=np.int64), value, value]
                entry = acc[key]
                entry[0][bin_index(name, value)] += 1
                entry[1], entry[2] = min(entry[1], value), max(entry[2], value)
        return acc

    def merge(self, accs: Iterable[Acc]) -> Acc:
        out: Acc = {}
        for acc in accs:
            for key, (counts, least, most) in acc.items():
                if key in out:
                    mine = out[key]
                    out[key] = [mine[0] + counts, min(mine[1], least), max(mine[2], most)]
                else:
                    out[key] = [counts.copy(), least, most]
        return out

    def extract(self, acc: Acc) -> dict[str, Any]:
        table: dict[str, Any] = {}
        for (split, source, name), (counts, least, most) in sorted(acc.items()):
            lo, hi, n = MEASURES[name].bins
            table.setdefault(split, {}).setdefault(source, {})[name] = {
                "count": int(counts.sum()),
                "min": round(float(least), 4),
                **{
                    label: round(min(most, max(least, quantile(counts, q, lo, hi, n))), 4)
                    for label, q in (("p05", 0.05), ("median", 0.5), ("p95", 0.95))
                },
                "max": round(float(most), 4),
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
