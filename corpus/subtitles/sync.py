"""Subtitle-to-audio synchronization by correlating speech activity with cue activity.

``speech_activity(samples, rate)`` is a 10 ms-frame voice activity track (energy against an
adaptive noise floor, with hangover). ``find_alignment(speech, cues)`` tries each framerate
ratio of the 23.976 / 24 / 25 family, and for each finds by FFT cross-correlation the global
offset within ``max_offset`` seconds that best lines cue activity up with speech; the score is
the cosine similarity of the two binary tracks (1.0 = every cue frame is speech and vice
versa). A mapped time is ``audio_time = ratio * subtitle_time + offset``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from speechmill.corpus.frames import FRAME, frame_power

FRAME_RATES = (23.976, 24.0, 25.0)
RATIOS = tuple(sorted({round(a / b, 6) for a in FRAME_RATES for b in FRAME_RATES}))


@dataclasses.dataclass(frozen=True)
class Alignment:
    offset: float  # seconds added after scaling
    ratio: float  # audio seconds per subtitle second
    score: float  # cosine similarity of speech and cue activity, 0..1

    def map(self, t: float) -> float:
        return self.ratio * t + self.offset


def speech_activity(
    samples: np.ndarray, rate: int, *, hangover: float = 0.15, min_burst: float = 0.05
) -> np.ndarray:
    """Mono audio -> bool per 10 ms frame: is someone speaking?"""
    db = 10 * np.log10(frame_power(samples, rate) + 1e-3)
    if db.size == 0:
        return np.zeros(0, bool)
    floor, peak = np.percentile(db, 10), np.percentile(db, 99)
    active = db > max(floor + 0.25 * (peak - floor), floor + 6.0)
    return _close_gaps(_drop_bursts(active, int(min_burst / FRAME)), int(hangover / FRAME))


def _runs(active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) frame indices of the True runs."""
    edges = np.diff(np.concatenate(([0], active.astype(np.int8), [0])))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _drop_bursts(active: np.ndarray, min_len: int) -> np.ndarray:
    out = active.copy()
    for s, e in zip(*_runs(active)):
        if e - s < min_len:
            out[s:e] = False
    return out


def _close_gaps(active: np.ndarray, max_gap: int) -> np.ndarray:
    out = active.copy()
    starts, ends = _runs(active)
    for e, s in zip(ends[:-1], starts[1:]):
        if s - e <= max_gap:
            out[e:s] = True
    return out


def cue_activity(
    cues: list[tuple[float, float]], n_frames: int, ratio: float = 1.0, offset: float = 0.0
) -> np.ndarray:
    """(start, end) cue times -> bool per frame after mapping with ratio and offset."""
    track = np.zeros(n_frames, bool)
    for start, end in cues:
        a = int(round((ratio * start + offset) / FRAME))
        b = int(round((ratio * end + offset) / FRAME))
        track[max(a, 0) : max(min(b, n_frames), 0)] = True
    return track


def find_alignment(
    speech: np.ndarray,
    cues: list[tuple[float, float]],
    *,
    max_offset: float = 60.0,
    ratios: tuple[float, ...] = RATIOS,
) -> Alignment:
    """The (offset, ratio) that best matches cue activity to speech activity."""
    n = len(speech)
    lag = int(round(max_offset / FRAME))
    best = Alignment(0.0, 1.0, 0.0)
    speech_f = speech.astype(np.float32)
    total_speech = float(speech_f.sum())
    if total_speech == 0 or not cues:
        return best
    size = 1 << int(np.ceil(np.log2(n + 2 * lag + 1)))
    spectrum = np.fft.rfft(speech_f, size)
    for ratio in ratios:
        cue = cue_activity(cues, n + lag, ratio).astype(np.float32)
        total_cue = float(cue.sum())
        if total_cue == 0:
            continue
        # corr[k] = sum_t speech[t] * cue[t - k], for shifts k in -lag..lag
        corr = np.fft.irfft(spectrum * np.conj(np.fft.rfft(cue, size)), size)
        shifts = np.concatenate((corr[: lag + 1], corr[size - lag :]))
        ks = np.concatenate((np.arange(0, lag + 1), np.arange(-lag, 0)))
        order = np.argsort(ks)
        ks, shifts = ks[order], shifts[order]
        i = _plateau_middle(shifts)
        score = float(shifts[i]) / np.sqrt(total_cue * total_speech)
        if score > best.score + 1e-9:
            best = Alignment(
                offset=round(float(ks[i]) * FRAME, 3), ratio=ratio, score=round(min(score, 1.0), 4)
            )
    return best


def _plateau_middle(values: np.ndarray, tolerance: float = 0.002) -> int:
    """Index of the middle of the run of near-maximal values around the maximum: cues that
    run a little longer than the speech match equally well over a range of shifts."""
    i = int(np.argmax(values))
    floor = values[i] - tolerance * abs(values[i])
    lo = hi = i
    while lo > 0 and values[lo - 1] >= floor:
        lo -= 1
    while hi + 1 < len(values) and values[hi + 1] >= floor:
        hi += 1
    return (lo + hi) // 2
