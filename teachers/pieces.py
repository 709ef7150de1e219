"""A labelled piece of a recording as the build's segment (teachers/label.py, teachers/book.py)."""

from __future__ import annotations

import numpy as np

from speechmill.corpus.types import Recording, Segment
from speechmill.teachers.base import SAMPLE_RATE


def segment(
    rec: Recording, a: float, b: float, piece: np.ndarray, text: str, label_source: str
) -> Segment:
    """A labelled piece [a, b) seconds of a recording as the build's segment."""
    return Segment(
        id=piece_id(rec, a),
        speaker=rec.speaker,
        group=rec.group,
        text_raw=" ".join(text.split()),
        audio=(piece * 32768.0).round().clip(-32768, 32767).astype(np.int16),
        origin=f"{rec.media or rec.path}#t={a:.2f},{b:.2f}",
        license=rec.license,
        sample_rate=SAMPLE_RATE,
        split=rec.split,
        media=rec.media or rec.path,
        media_span=(round(a, 3), round(b, 3)),
        label_source=label_source,
    )


def piece_id(rec: Recording, a: float) -> str:
    return f"{rec.id}/{int(round(a * 100)):07d}"
