"""Voice activity detection: Silero VAD (v6, ONNX) as faster-whisper ships it, the one VAD
speechmill uses (the teacher stage, make verify's teacher, the ``speech_ratio`` measure).
``speech_share(wave)`` is the share of a 16 kHz clip that it calls speech (probability >= 0.5,
no padding around speech, pauses of 100 ms or more kept as pauses)."""

from __future__ import annotations

import numpy as np

from speechmill.corpus.errors import MissingExtra

SAMPLE_RATE = 16000  # what Silero hears


def speech_spans(wave: np.ndarray) -> list[tuple[float, float]]:
    """(start, end) seconds of each stretch of speech in a 16 kHz float clip."""
    try:
        from faster_whisper.vad import VadOptions, get_speech_timestamps
    except ImportError:
        raise MissingExtra(
            "faster-whisper", "corpus", "voice activity detection (Silero VAD)"
        ) from None
    options = VadOptions(threshold=0.5, min_silence_duration_ms=100, speech_pad_ms=0)
    found = get_speech_timestamps(np.asarray(wave, dtype=np.float32), options, SAMPLE_RATE)
    return [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in found]


def speech_share(wave: np.ndarray) -> float:
    seconds = len(wave) / SAMPLE_RATE
    if seconds <= 0:
        return 0.0
    return min(1.0, sum(b - a for a, b in speech_spans(wave)) / seconds)
