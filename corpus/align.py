"""Cues + audio -> utterance spans: the steps the movie and YouTube sources share.

``clean_cues`` turns parsed cues into (start, end, text) spans (song and sound-only cues become
rejects). ``utterance_spans`` maps spans through an alignment, merges them into utterances of
about 1-20 s cut at pauses, and fits each utterance's edges to the speech it contains without
running into its neighbours.
"""
from __future__ import annotations

import numpy as np

from corpus.captions import Cue
from corpus.cleanup import clean_cue_text, merge_continuations
from corpus.reject import Reject
from corpus.segment import Span, group_spans, refine
from corpus.sync import Alignment


def clean_cues(cues: list[Cue], item_prefix: str, where: str) -> tuple[list[Span], list[Reject]]:
    spans, rejects = [], []
    for number, cue in enumerate(merge_continuations(cues), start=1):
        try:
            spans.append((cue.start, cue.end, clean_cue_text(cue.text)))
        except Reject as reject:
            reject.item_id, reject.where = f"{item_prefix}/cue{number}", f"{where} at {cue.start:.2f} s"
            rejects.append(reject)
    return spans, rejects


def utterance_spans(spans: list[Span], speech: np.ndarray, alignment: Alignment | None = None, *,
                    max_seconds: float = 20.0, max_gap: float = 0.6) -> list[Span]:
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
