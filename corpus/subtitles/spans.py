"""Timed text -> utterance spans: the steps the movie and YouTube sources share.

``clean_cues`` turns parsed cues into (start, end, text) spans (song and sound-only cues become
rejects). ``utterance_spans`` maps spans through an alignment, merges them into utterances of
about 1-20 s cut at pauses (``group_spans``), and fits each utterance's edges to the speech it
contains without running into its neighbours (``refine``). Pure functions on seconds and
10 ms speech-activity tracks.
"""

from __future__ import annotations

import numpy as np

from speechmill.corpus.reject import Reject
from speechmill.corpus.subtitles.clean import (
    check_language,
    clean_cue_text,
    merge_continuations,
)
from speechmill.corpus.subtitles.parse import Cue
from speechmill.corpus.subtitles.sync import FRAME, Alignment

Span = tuple[float, float, str]


def group_spans(
    spans: list[Span], *, max_gap: float = 0.6, max_seconds: float = 20.0, min_seconds: float = 1.0
) -> list[Span]:
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


def refine(
    start: float,
    end: float,
    speech: np.ndarray,
    *,
    search: float = 0.4,
    pad: float = 0.1,
    lower: float = 0.0,
    upper: float | None = None,
) -> tuple[float, float]:
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
        later = np.flatnonzero(window[a - lo :]) if a - lo < len(window) else np.array([], int)
        s = a + int(later[0]) if len(later) and later[0] <= int(search / FRAME) else a
    e = b
    if 0 < e <= n and speech[e - 1]:
        while e < hi and speech[e]:
            e += 1
    else:
        earlier = np.flatnonzero(speech[max(lo, s) : e])
        e = max(lo, s) + int(earlier[-1]) + 1 if len(earlier) else e
    new_start = max(lower, s * FRAME - pad)
    new_end = min(upper, e * FRAME + pad)
    return (new_start, new_end) if new_end > new_start else (start, end)


def clean_cues(
    cues: list[Cue], item_prefix: str, where: str, language: str | None = None
) -> tuple[list[Span], list[Reject]]:
    """Parsed cues -> (start, end, spoken text) spans, and a Reject for each song, sound-only,
    credit or other-language cue (``language``: the track's ISO 639-1 code, None: any)."""
    spans, rejects = [], []
    for number, cue in enumerate(merge_continuations(cues), start=1):
        try:
            text = clean_cue_text(cue.text)
            check_language(text, language)
            spans.append((cue.start, cue.end, text))
        except Reject as reject:
            reject.item_id, reject.where = (
                f"{item_prefix}/cue{number}",
                f"{where} at {cue.start:.2f} s",
            )
            rejects.append(reject)
    return spans, rejects


def utterance_spans(
    spans: list[Span],
    speech: np.ndarray,
    alignment: Alignment | None = None,
    *,
    max_seconds: float = 20.0,
    max_gap: float = 0.6,
) -> list[Span]:
    """Cue spans in subtitle time -> refined utterance spans in audio time."""
    if alignment is not None:
        spans = [(alignment.map(s), alignment.map(e), t) for s, e, t in spans]
    groups = group_spans(spans, max_gap=max_gap, max_seconds=max_seconds)
    out = []
    for i, (start, end, text) in enumerate(groups):
        lower = out[-1][1] if out else 0.0
        upper = groups[i + 1][0] if i + 1 < len(groups) else None
        s, e = refine(start, end, speech, lower=lower, upper=upper)
        out.append((s, e, text))
    return out
