"""What every teacher returns: words with times, and what the recognizer says about itself."""

from __future__ import annotations

import dataclasses
from typing import Protocol

import numpy as np

from speechmill.corpus.errors import UserError

SAMPLE_RATE = 16000  # every backend hears 16 kHz mono float32 in [-1, 1]


class TeacherError(UserError):
    """A teacher that cannot be loaded: unknown spec, weights not installed, a damaged model."""


@dataclasses.dataclass(frozen=True)
class Word:
    text: str  # as the recognizer wrote it ("1813", "Mr.", "don't")
    start: float  # seconds into the audio it heard
    end: float
    probability: float  # 0..1, the recognizer's own confidence in this word


@dataclasses.dataclass(frozen=True)
class Heard:
    """One clip as a teacher heard it. ``no_speech`` is the recognizer's probability that the
    clip holds no speech (Whisper's no-speech token; 1.0 when it wrote nothing);
    ``avg_logprob`` and ``compression_ratio`` are Whisper's decoding signals (None where a
    backend has none): a low log-probability and a text that compresses too well (a phrase
    repeated) mark a hallucination."""

    text: str
    words: tuple[Word, ...] = ()
    no_speech: float = 0.0
    avg_logprob: float | None = None
    compression_ratio: float | None = None

    @property
    def span(self) -> tuple[float, float] | None:
        """Seconds from the first word's start to the last word's end; None without word times."""
        return (self.words[0].start, self.words[-1].end) if self.words else None


class Teacher(Protocol):
    name: str  # the spec it was loaded from, as info.json and the records name it

    def hear(self, waves: list[np.ndarray]) -> list[Heard]:
        """16 kHz float32 waveforms -> what was heard in each, in input order; deterministic."""
        ...

    def facts(self) -> dict:
        """backend, model digest, device, compute type: what info.json records."""
        ...
