"""Recordings with no transcript labelled by a teacher: the build's teacher stage.

A source that finds a recording without a transcript (the folder source with ``teacher = SPEC``)
yields a :class:`~speechmill.corpus.types.Recording`; the build hands it to a ``Labeller``
(loaded once per worker), which yields the segments, rejects and one note:

1. the recording is read in windows of ``WINDOW_SECONDS`` (ffmpeg seeks to each, so memory
   does not grow with its length; an hours-long file is fine);
2. Silero VAD (corpus/vad.py) finds the speech in each window; pauses of ``MIN_PAUSE``
   seconds or more are where utterances may be cut. Neighbouring stretches are joined across
   pauses shorter than ``JOIN_PAUSE`` while the utterance stays within ``max_seconds``; a
   stretch that reaches the window's end is left for the next window, which starts
   ``LEAD_IN`` seconds before it (so no utterance, and no word, is cut by a window edge; one
   that fills a whole window is cut there and is longer than any utterance may be);
3. each utterance, with ``MARGIN`` seconds of audio each side (never more than half the pause
   to its neighbour), is heard by the teacher, one batch per window in time order;
4. what the teacher is unsure of is rejected, as verify does (teachers/judge.py):
   ``label:no-speech`` when it wrote no speakable words or its no-speech probability is at
   least 0.6, ``label:teacher-unsure`` for its hallucination signals and text rules; with a
   ``second`` opinion (``pocketsphinx`` or ``run:PATH``) an utterance is kept only when the
   two agree within ``second_max_cer`` (the second teacher's own threshold by default):
   ``label:second-disagrees`` with both texts;
5. the rest are segments whose transcript is the teacher's text, ``label_source`` the teacher's
   spec (``teacher:whisper``), origin ``file#t=start,end`` and ``media``/``media_span`` the
   recording and the span.

A recording in which the VAD finds no speech at all is one ``label:no-speech`` reject: nothing
is published from a recording without speech. A recording is read for at most ``MAX_HOURS``
(then ``audio:too-long``: a file that decodes to far more audio than it should holds a worker
for a bounded time). Same audio, teacher, device and compute type ->
the same segments.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from speechmill.corpus.reject import Reject
from speechmill.corpus.types import Note, Recording, Segment
from speechmill.corpus.vad import speech_spans
from speechmill.teachers.base import SAMPLE_RATE, Heard
from speechmill.teachers.judge import NO_SPEECH_PROB, cer, spoken, unsure
from speechmill.teachers.pieces import piece_id, segment
from speechmill.teachers.table import load_teacher, row_of

WINDOW_SECONDS = 60.0
MIN_PAUSE = 0.3  # seconds of silence (by the VAD) where an utterance may be cut
JOIN_PAUSE = 1.0  # shorter pauses are joined over while the utterance fits max_seconds
MARGIN = 0.15  # seconds of audio kept each side of the speech
LEAD_IN = 1.0  # seconds of audio before an utterance carried over to the next window
MAX_HOURS = 24.0  # a recording is read no further (a file whose audio never ends)


def utterance_spans(
    spans: list[tuple[float, float]], max_seconds: float, min_seconds: float = 0.0
) -> list[tuple[float, float]]:
    """The VAD's speech stretches -> utterances: stretches closer than ``MIN_PAUSE`` are one,
    and neighbours are joined over pauses under ``JOIN_PAUSE`` while within ``max_seconds``;
    an utterance shorter than ``min_seconds`` is also joined to the next over a pause under
    ``2 * JOIN_PAUSE`` when that stays within ``max_seconds`` (else it stays short, and the
    build's ``min_seconds`` rejects it)."""
    phrases: list[list[float]] = []
    for a, b in spans:
        if phrases and a - phrases[-1][1] < MIN_PAUSE:
            phrases[-1][1] = b
        else:
            phrases.append([a, b])
    out: list[list[float]] = []
    for a, b in phrases:
        pause = a - out[-1][1] if out else 0.0
        short = bool(out) and out[-1][1] - out[-1][0] < min_seconds and pause < 2 * JOIN_PAUSE
        if out and (pause < JOIN_PAUSE or short) and b - out[-1][0] <= max_seconds:
            out[-1][1] = b
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def padded(spans: list[tuple[float, float]], seconds: float) -> list[tuple[float, float]]:
    """Each span with ``MARGIN`` each side, within [0, seconds] and at most half the pause to
    its neighbours."""
    out = []
    for k, (a, b) in enumerate(spans):
        before = a if k == 0 else (a - spans[k - 1][1]) / 2
        after = seconds - b if k == len(spans) - 1 else (spans[k + 1][0] - b) / 2
        out.append((max(0.0, a - min(MARGIN, before)), min(seconds, b + min(MARGIN, after))))
    return out


class Labeller:
    """``labeller(recording)`` -> its segments, rejects and a note (see the module docstring)."""

    def __init__(
        self,
        teacher: str,
        *,
        max_seconds: float,
        min_seconds: float = 0.0,
        second: str = "",
        second_max_cer: float | None = None,
    ):
        self.spec, self.teacher = teacher, load_teacher(teacher)
        self.max_seconds, self.min_seconds = max_seconds, min_seconds
        self.second = load_teacher(second) if second else None
        self.second_spec = second
        self.second_max_cer = (
            second_max_cer
            if second_max_cer is not None
            else row_of(second).max_cer
            if second
            else 1.0
        )

    def heard(
        self, rec: Recording, counts: dict
    ) -> Iterator[tuple[float, float, np.ndarray, Heard, Heard | None]]:
        """(start, end, audio, heard, second's) of each utterance of a recording, in time
        order, window by window (steps 1 to 3 of the module docstring)."""
        from speechmill.corpus.inputs.media import load_window

        start, full = 0.0, int(WINDOW_SECONDS * SAMPLE_RATE)
        while True:
            samples = load_window(rec.path, SAMPLE_RATE, start, WINDOW_SECONDS)
            wave = samples.astype(np.float32) / 32768.0
            seconds = len(wave) / SAMPLE_RATE
            last = len(wave) < full - SAMPLE_RATE // 2  # the file ends in this window
            spans = utterance_spans(
                speech_spans(wave) if len(wave) else [], self.max_seconds, self.min_seconds
            )
            advance = seconds
            reaches = spans and spans[-1][1] > seconds - MIN_PAUSE and spans[-1][0] > LEAD_IN
            if not last and reaches:
                # it reaches the edge: heard whole from the next window, which starts up to
                # LEAD_IN seconds before it (the VAD needs some audio before speech to find
                # its start), never before the end of the utterance ahead of it
                a = spans[-1][0]
                ahead = spans[-2][1] + MARGIN if len(spans) > 1 else 0.0
                advance = max(ahead, a - LEAD_IN)  # > 0; there it starts within LEAD_IN
                spans = spans[:-1]
            counts["seconds"] += advance
            counts["speech_seconds"] += sum(b - a for a, b in spans)
            cuts = padded(spans, seconds)
            pieces = [wave[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)] for a, b in cuts]
            heard = self.teacher.hear(pieces) if pieces else []
            others = self.second.hear(pieces) if self.second and pieces else [None] * len(pieces)
            for (a, b), piece, h, other in zip(cuts, pieces, heard, others):
                counts["heard"] += 1
                yield start + a, start + b, piece, h, other
            if last or advance <= 0:
                break
            start = round(start + advance, 3)
            if start >= MAX_HOURS * 3600:
                raise Reject(
                    "audio:too-long",
                    f"read no further than {MAX_HOURS:g} h; cut the recording into parts",
                    where=rec.path,
                )

    def __call__(self, rec: Recording) -> Iterator[Segment | Reject | Note]:
        counts = {"recordings": 1, "seconds": 0.0, "speech_seconds": 0.0, "heard": 0}
        if rec.text:
            from speechmill.teachers.book import aligned

            yield from aligned(self, rec, counts)
        else:
            for a, b, piece, heard, other in self.heard(rec, counts):
                yield self._one(rec, a, b, piece, heard, other)
        if counts["speech_seconds"] == 0:
            yield Reject(
                "label:no-speech",
                f"voice activity detection finds no speech in {counts['seconds']:.1f} s",
                item_id=rec.id,
                where=rec.path,
            )
        counts = {k: round(v, 3) if isinstance(v, float) else v for k, v in counts.items()}
        yield Note(rec.id.split("/", 1)[0], f"label/{rec.id}", {"label": counts})

    def _one(
        self, rec: Recording, a: float, b: float, piece: np.ndarray, heard: Heard, other
    ) -> Segment | Reject:
        item_id = piece_id(rec, a)
        where = f"{rec.media or rec.path}#t={a:.2f},{b:.2f}"
        ours = spoken(heard.text)
        if not ours or heard.no_speech >= NO_SPEECH_PROB:
            return Reject(
                "label:no-speech",
                f"the teacher heard {heard.text[:80]!r} (no-speech probability "
                f"{heard.no_speech:.2f})",
                item_id=item_id,
                where=where,
            )
        doubt = unsure(heard)
        if doubt:
            return Reject(
                "label:teacher-unsure",
                f"{doubt}; it heard {heard.text[:120]!r}",
                item_id=item_id,
                where=where,
            )
        if other is not None:
            theirs = spoken(other.text)
            distance = min((cer(o, t) for o in ours for t in theirs), default=1.0)
            if distance > self.second_max_cer:
                return Reject(
                    "label:second-disagrees",
                    f"CER {distance:.2f} > {self.second_max_cer}: {self.spec} heard "
                    f"{heard.text[:100]!r}, {self.second_spec} {other.text[:100]!r}",
                    item_id=item_id,
                    where=where,
                )
        return segment(rec, a, b, piece, heard.text, f"teacher:{self.spec}")
