"""Speaking-rate outliers per speaker (``[quality] rate_outliers``): Tukey's fences on seconds
of speech per transcript character, as Emilia filters them, one speaker at a time.

A second pass over the finished units, bounded per speaker: each unit gives each of its
speakers a histogram of the rate (``unit_rates``); the histograms of a speaker add up (a
combiner keyed by speaker); a speaker with at least ``min_clips`` measured clips gets fences
``Q1 - k*IQR``, ``Q3 + k*IQR`` (``fences``), and each record outside its speaker's fences is a
:class:`~speechmill.corpus.repeats.Drop` (``quality:rate``) for ``without_drops``. The pass
reads only the units' record indexes (the unit cache), so a resumed build repeats it cheaply.
Quartiles come from the histogram: ``BINS`` bins spaced evenly in log from 0.005 to 2 s per
character (each 1.5 % wide).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np

from speechmill.corpus.parts import PartIndex, UnitResult
from speechmill.corpus.repeats import Drop

REASON = "quality:rate"
LOW, HIGH, BINS = 0.005, 2.0, 400
_STEP = math.log(HIGH / LOW) / BINS


def bin_of(rate: float) -> int:
    return min(BINS - 1, max(0, int(math.log(max(rate, LOW) / LOW) / _STEP)))


def value_at(position: float) -> float:
    """The rate at a (fractional) bin position: the bins' geometric scale."""
    return LOW * math.exp(position * _STEP)


def unit_rates(
    result: UnitResult, read_index: Callable[[str, str], PartIndex]
) -> Iterator[tuple[str, np.ndarray]]:
    """(speaker, histogram of its measured clips' rates) for each speaker of a unit."""
    found: dict[str, np.ndarray] = {}
    for part in result.parts:
        index = read_index(result.digest, part.path)
        for speaker, rate in zip(index.speakers, index.rates):
            if rate is not None:
                found.setdefault(speaker, np.zeros(BINS, dtype=np.int64))[bin_of(rate)] += 1
    yield from sorted(found.items(), key=lambda kv: kv[0])


def quantile(histogram: np.ndarray, q: float) -> float:
    """The q-quantile of a histogram's values (linear within the bin it falls in)."""
    cumulative = np.cumsum(histogram)
    target = q * cumulative[-1]
    b = int(np.searchsorted(cumulative, target, side="left"))
    before = cumulative[b - 1] if b else 0
    inside = (target - before) / histogram[b] if histogram[b] else 0.0
    return value_at(b + inside)


def fences(histogram: np.ndarray, k: float, min_clips: int) -> tuple[float, float, int] | None:
    """(low, high, clips) of a speaker's fences; None with fewer than ``min_clips`` clips."""
    clips = int(histogram.sum())
    if clips < min_clips:
        return None
    q1, q3 = quantile(histogram, 0.25), quantile(histogram, 0.75)
    return q1 - k * (q3 - q1), q3 + k * (q3 - q1), clips


def rate_drops(
    result: UnitResult,
    read_index: Callable[[str, str], PartIndex],
    fenced: dict[str, tuple[float, float, int]],
) -> Iterator[tuple[str, Drop]]:
    """(unit digest, drop) for each record outside its speaker's fences."""
    for part in result.parts:
        index = read_index(result.digest, part.path)
        for record, (speaker, rate) in enumerate(zip(index.speakers, index.rates)):
            bounds = fenced.get(speaker)
            if rate is None or bounds is None:
                continue
            low, high, clips = bounds
            if not low <= rate <= high:
                detail = (
                    f"{rate:.3f} s of speech per character, outside {max(low, 0):.3f}..{high:.3f} "
                    f"(Tukey's fences of speaker {speaker}, {clips} clips)"
                )
                drop = Drop(part.path, record, (2,), index.ids[record], REASON, detail, "quality")
                yield result.digest, drop
