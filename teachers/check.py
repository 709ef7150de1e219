"""A batch of utterances checked by a teacher: ``TeacherCheck(spec, rate, margin, max_cer)``,
``check(utterances) -> [Checked]``, one batch per work unit in the unit's order (so the same
unit gives the same result on any worker count).

Each utterance is heard at 16 kHz; the VAD's speech spans and the teacher's words decide the
verdict (teachers/judge.py). Of a kept transcript's readings, the candidates the teacher
matches best are told apart by a recognizer that writes spoken words: the teacher itself when
its row says it does, else pocketsphinx with a grammar of the candidates (when installed),
else the first candidate (the normalizer's default comes first). The cut keeps the speech: from
the earlier of the teacher's first word and the VAD's first speech to the later of their
ends, plus ``margin`` each side, within the record."""

from __future__ import annotations

import dataclasses

import numpy as np

from speechmill.corpus.schema import Utterance
from speechmill.corpus.vad import speech_spans
from speechmill.teachers.base import SAMPLE_RATE, Heard
from speechmill.teachers.judge import TeacherVerdict, judge_heard
from speechmill.teachers.table import load_teacher, row_of


@dataclasses.dataclass(frozen=True)
class Checked:
    verdict: TeacherVerdict
    heard: str  # what the teacher wrote
    reading: int = 0  # index of the chosen reading (of ``readings or (text,)``)
    cut: tuple[float, float] = (0.0, 0.0)  # seconds of the record's audio to keep


def at_16k(audio: np.ndarray, rate: int) -> np.ndarray:
    wave = audio.astype(np.float32) / 32768.0
    if rate == SAMPLE_RATE:
        return wave
    import soxr

    return soxr.resample(wave, rate, SAMPLE_RATE).astype(np.float32)


def speech_cut(heard: Heard, spans: list[tuple[float, float]], seconds: float, margin: float):
    starts = [
        s
        for s in (heard.span[0] if heard.span else None, spans[0][0] if spans else None)
        if s is not None
    ]
    ends = [
        e
        for e in (heard.span[1] if heard.span else None, spans[-1][1] if spans else None)
        if e is not None
    ]
    if not starts:
        return 0.0, seconds
    return round(max(0.0, min(starts) - margin), 3), round(min(seconds, max(ends) + margin), 3)


class TeacherCheck:
    def __init__(self, spec: str, rate: int, margin: float, max_cer: float):
        self.teacher = load_teacher(spec)
        self.spoken_words = row_of(spec).spoken_words
        self.rate, self.margin, self.max_cer = rate, margin, max_cer
        self._chooser = None

    def check(self, utterances: list[Utterance]) -> list[Checked]:
        waves = [at_16k(u.audio, self.rate) for u in utterances]
        heard = self.teacher.hear(waves) if waves else []
        return [self._one(u, w, h) for u, w, h in zip(utterances, waves, heard)]

    def _one(self, utt: Utterance, wave: np.ndarray, heard: Heard) -> Checked:
        spans = speech_spans(wave)
        seconds = len(wave) / SAMPLE_RATE
        share = sum(b - a for a, b in spans) / seconds if seconds else 0.0
        readings = utt.readings or (utt.text,)
        verdict = judge_heard(heard, readings, speech_share=share, max_cer=self.max_cer)
        if not verdict.kept:
            return Checked(verdict, heard.text)
        return Checked(
            verdict,
            heard.text,
            reading=self.choose(wave, readings, verdict.candidates),
            cut=speech_cut(heard, spans, seconds, self.margin),
        )

    def choose(
        self, wave: np.ndarray, readings: tuple[str, ...], candidates: tuple[int, ...]
    ) -> int:
        if len(candidates) <= 1:
            return candidates[0] if candidates else 0
        chooser = (
            self.teacher
            if self.spoken_words and hasattr(self.teacher, "choose")
            else self.chooser()
        )
        if chooser is None:
            return candidates[0]
        found = chooser.choose(wave, tuple(readings[i] for i in candidates))
        return candidates[found] if found is not None else candidates[0]

    def chooser(self):
        """pocketsphinx as the judge of readings, when it is installed (None otherwise)."""
        if self._chooser is None:
            try:
                from speechmill.teachers.sphinx import SphinxTeacher

                self._chooser = SphinxTeacher()
            except Exception:  # noqa: BLE001 - not installed: the default reading stands
                self._chooser = False
        return self._chooser or None

    def facts(self) -> dict:
        return self.teacher.facts()
