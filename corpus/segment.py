"""Timed text -> utterance spans: merge cues (or words) cutting at gaps, then fit each span's
boundaries to the speech it contains (pure functions on seconds and activity tracks)."""
from __future__ import annotations

import numpy as np

from corpus.sync import FRAME

Span = tuple[float, float, str]


def group_spans(spans: list[Span], *, max_gap: float = 0.6, max_seconds: float = 20.0,
                min_seconds: float = 1.0) -> list[Span]:
    """Consecutive (start, end, text) spans -> utterances of up to ``max_seconds``.

    A new utterance starts at a pause longer than ``max_gap``, or where adding the next span
    would pass ``max_seconds``; an utterance still shorter than ``min_seconds`` at a pause is
    joined to the next one when that keeps it within ``max_seconds`` and the pause is short.
    """
    groups: list[list[Span]] = []
    for span in sorted(spans):
        if groups:
            current = groups[-1]
            gap = span[0] - current[-1][1]
            length = span[1] - current[0][0]
            short = current[-1][1] - current[0][0] < min_seconds and gap <= 2 * max_gap
            if (gap <= max_gap or short) and length <= max_seconds:
                current.append(span)
                continue
        groups.append([span])
    return [(g[0][0], max(s[1] for s in g), " ".join(s[2] for s in g)) for g in groups]


def trim_to_speech(spans: list[Span], speech: np.ndarray, tail: float = 0.05) -> list[Span]:
    """End each span no later than the speech run it starts in (timed caption words run on
    until the next word, which hides the pauses between sentences)."""
    n = len(speech)
    out = []
    for start, end, text in spans:
        i = int(start / FRAME)
        if 0 <= i < n and speech[i]:
            j = i
            while j < n and speech[j]:
                j += 1
            end = min(end, j * FRAME + tail)
        out.append((start, max(end, start + FRAME), text))
    return out


def refine(start: float, end: float, speech: np.ndarray, *, search: float = 0.4, pad: float = 0.1,
           lower: float = 0.0, upper: float | None = None) -> tuple[float, float]:
    """Move a span's edges to the speech inside it: the start to where speech begins (within
    ``search`` s), the end to where it stops, plus ``pad``; never past ``lower``/``upper``."""
    n = len(speech)
    upper = n * FRAME if upper is None else upper
    a, b = int(start / FRAME), int(end / FRAME)
    lo, hi = max(0, a - int(search / FRAME)), min(n, b + int(search / FRAME))
    if lo >= hi or not speech[lo:hi].any():
        return max(start, lower), min(end, upper)
    window = speech[lo:hi]
    # speech onset: the first active frame at or after the start of the run that holds `a`
    s = a
    if s < n and speech[min(s, n - 1)]:
        while s > lo and speech[s - 1]:
            s -= 1
    else:
        later = np.flatnonzero(window[a - lo:]) if a - lo < len(window) else np.array([], int)
        s = a + int(later[0]) if len(later) and later[0] <= int(search / FRAME) else a
    e = b
    if 0 < e <= n and speech[e - 1]:
        while e < hi and speech[e]:
            e += 1
    else:
        earlier = np.flatnonzero(speech[max(lo, s): e])
        e = max(lo, s) + int(earlier[-1]) + 1 if len(earlier) else e
    new_start = max(lower, s * FRAME - pad)
    new_end = min(upper, e * FRAME + pad)
    return (new_start, new_end) if new_end > new_start else (start, end)
