"""Noise to mix into speech at a known SNR, for the quality tests: white, coloured (pink-ish and
brown-ish: white through a one-pole low-pass) and babble (several espeak-ng voices talking at
once), and the independent check that a recording's own noise floor is far below the noise a
test adds (its quietest 20 ms frames, measured without any of speechmill's code)."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

BABBLE = [
    ("the quick brown fox jumps over the lazy dog", "en-us"),
    ("she sells sea shells by the sea shore every summer", "en-gb"),
    ("how much wood would a woodchuck chuck if it could", "en-us+f3"),
    ("peter piper picked a peck of pickled peppers", "en+m3"),
    ("a journey of a thousand miles begins with one step", "en-us+f4"),
]


def noise(kind: str, n: int, seed: int) -> np.ndarray:
    """``n`` samples of unit-RMS noise of a kind: white, pink, brown or babble."""
    white = np.random.default_rng(seed).normal(0.0, 1.0, n)
    if kind == "white":
        x = white
    elif kind == "pink":
        x = lfilter([1.0], [1.0, -0.95], white)
    elif kind == "brown":
        x = lfilter([1.0], [1.0, -0.995], white)
    elif kind == "babble":
        from support.speech import speak

        x = np.zeros(n)
        for i, (line, voice) in enumerate(BABBLE):
            talk = speak(line, voice=voice).astype(float)
            talk = np.roll(np.tile(talk, n // len(talk) + 1), seed * 997 + i * 3001)[:n]
            x += talk / (talk.std() + 1e-9)
    else:
        raise ValueError(kind)
    return x / x.std()


def mix(speech: np.ndarray, kind: str, snr_db: float, seed: int = 0) -> np.ndarray:
    """int16 speech with ``kind`` noise at ``snr_db`` (power of the whole clip over the noise's)."""
    x = speech.astype(float)
    added = noise(kind, len(x), seed) * x.std() / 10 ** (snr_db / 20)
    return np.clip(np.rint(x + added), -32768, 32767).astype(np.int16)


def floor_db(speech: np.ndarray) -> float:
    """The clip's power over that of its quietest tenth of 20 ms frames, in dB."""
    x = speech.astype(float)
    frames = x[: len(x) // 320 * 320].reshape(-1, 320)
    power = np.sort((frames**2).mean(axis=1))
    quiet = power[: max(1, len(power) // 10)].mean()
    return float(10 * np.log10((x**2).mean() / max(quiet, 1e-12)))


def reverberant(speech: np.ndarray, rt60: float = 0.9, seed: int = 0) -> np.ndarray:
    """int16 speech in a room: convolved with exponentially decaying noise (RT60 ``rt60``)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(rt60 * 16000)) / 16000
    rir = rng.normal(0, 1, len(t)) * np.exp(-6.9 * t / rt60)
    rir[0] = 1.0
    wet = np.convolve(speech.astype(float), rir)[: len(speech)]
    wet *= np.abs(speech).max() / (np.abs(wet).max() + 1e-9)
    return np.clip(np.rint(wet), -32768, 32767).astype(np.int16)
