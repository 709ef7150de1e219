"""An audio fingerprint for speech that survives re-encoding, resampling, gain and a trimmed
edge, and a short sketch of it whose pieces are keys (locality-sensitive hashing).

``prints(pcm, rate)``: one 32-bit word per 10 ms frame (Haitsma & Kalker 2002, on bands
that suit speech): bit m of frame n is the sign of the change over time of the energy
difference between bands m and m+1, of 33 bands spaced evenly in mel from 200 to 4000 Hz
(a 64 ms window: an MP3 coder's changes, a resampler's and a gain's cancel in the differences).

``same_sound(a, b)``: two clips are copies of one sound when, at the best shift of one
against the other (a trimmed edge shifts it), at most ``MAX_BIT_ERRORS`` of the bits of the
frames they share differ and the shared frames cover ``MIN_OVERLAP`` of the longer clip. Two
readings of one sentence, even by one voice, differ in timing, and their frames disagree in
about half the bits.

``sketch(pcm, rate)``: a MinHash of the clip's set of frame words (32 hash functions, the word
least under each; the quietest 40 % of frames left out: pauses sound alike in every clip of a
voice or room), which a shift or a trimmed edge does not move: a copy keeps many of its
words whole (a re-encoding flips about 5 % of the bits, so about a fifth of the words survive),
so two copies share some of the 32 least words with high probability, and two different
sounds almost never one. ``keys(sketch)`` are those words, each with its hash function's
number: only records that share a key are compared.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
import scipy.fft
import soxr

from speechmill.corpus import shift_votes
from speechmill.corpus.compiled import compiled

BANDS = 33
LOW_HZ, HIGH_HZ = 200.0, 4000.0
WINDOW_S, HOP_S = 0.064, 0.010
MAX_BIT_ERRORS = 0.20  # share of differing bits up to which two clips are one sound: an MP3
# copy at 24 kb/s differs in 13-16 %, at 64 kb/s 4 %; one espeak-ng voice reading a sentence
# in two accents (en, en-us) 26 %, at another rate 38-49 %; another sentence 41-49 %
MIN_OVERLAP = 0.6  # share of the longer clip the matched frames must cover
HEARD_RATE = 8000  # the rate the fingerprint hears (twice the top band's edge)
SHIFT_SLACK = 20  # frames (200 ms) of shift searched beyond the difference in length
SKETCH_KEYS = 32  # MinHash functions: the keys a record has
QUIET_SHARE = 40  # percent of a clip's frames, the quietest, whose words the sketch leaves out
MIN_SECONDS = 0.3  # shorter clips get no fingerprint (sketch 0: never a candidate)


@functools.cache
def _band_matrix(rate: int, n_fft: int) -> np.ndarray:
    """Triangular mel filters (BANDS of them) over the FFT bins."""

    def mel(hz):
        return 2595.0 * np.log10(1.0 + hz / 700.0)

    edges_mel = np.linspace(mel(LOW_HZ), mel(HIGH_HZ), BANDS + 2)
    edges = 700.0 * (10.0 ** (edges_mel / 2595.0) - 1.0)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / rate)
    bank = np.zeros((BANDS, len(freqs)), dtype=np.float32)
    for m in range(BANDS):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        up = (freqs - lo) / (mid - lo)
        down = (hi - freqs) / (hi - mid)
        bank[m] = np.maximum(0.0, np.minimum(up, down))
    return bank


def log_bands(pcm: np.ndarray, rate: int) -> np.ndarray:
    """(frames, BANDS) log band energies of a clip, heard at ``HEARD_RATE`` (the bands end at
    4 kHz: at 8 kHz the frames and their transforms are half as long)."""
    wave = np.asarray(pcm, dtype=np.float32) / 32768.0
    if rate > HEARD_RATE:
        wave, rate = soxr.resample(wave, rate, HEARD_RATE), HEARD_RATE
    n_fft, hop = int(WINDOW_S * rate), int(HOP_S * rate)
    if len(wave) < n_fft:
        return np.zeros((0, BANDS))
    count = 1 + (len(wave) - n_fft) // hop
    frames = np.lib.stride_tricks.sliding_window_view(wave, n_fft)[::hop][:count]
    spectrum = scipy.fft.rfft(frames * _window(n_fft), axis=1, overwrite_x=True)
    lo, hi, bank = _bands(rate, n_fft)  # only the bins some band covers
    heard = spectrum[:, lo:hi]
    power = heard.real**2 + heard.imag**2
    return np.log(power @ bank + 1e-9)


@functools.cache
def _bands(rate: int, n_fft: int) -> tuple[int, int, np.ndarray]:
    """(first bin, bin past the last, filters of those bins as a (bins, BANDS) matrix)."""
    bank = _band_matrix(rate, n_fft)
    covered = np.flatnonzero(bank.any(axis=0))
    lo, hi = int(covered[0]), int(covered[-1]) + 1
    return lo, hi, np.ascontiguousarray(bank[:, lo:hi].T)


@functools.cache
def _window(n: int) -> np.ndarray:
    return np.hanning(n).astype(np.float32)


def prints(pcm: np.ndarray, rate: int) -> np.ndarray:
    """One uint32 word per frame (the first frame has no predecessor and gives none)."""
    return words_of(log_bands(pcm, rate))


def words_of(energy: np.ndarray) -> np.ndarray:
    """The frame words of a clip's log band energies."""
    if len(energy) < 2:
        return np.zeros(0, dtype=np.uint32)
    across = energy[:, :-1] - energy[:, 1:]  # (frames, 32)
    bits = (across[1:] - across[:-1]) > 0
    return np.packbits(bits, axis=1, bitorder="little").view("<u4")[:, 0].astype(np.uint32)


class Indexed(NamedTuple):
    """A clip's frame words with their sorted order and runs of equal words, made once for
    the many comparisons a record takes part in (corpus/repeats.py keeps them)."""

    words: np.ndarray
    order: np.ndarray  # positions of the words, sorted by word (stable)
    values: np.ndarray  # the distinct words, ascending
    starts: np.ndarray  # where each distinct word's run begins in the sorted order
    counts: np.ndarray  # how many frames have it


def indexed(words: np.ndarray | Indexed) -> Indexed:
    if isinstance(words, Indexed):
        return words
    order = np.argsort(words, kind="stable")
    values, starts, counts = np.unique(words[order], return_index=True, return_counts=True)
    return Indexed(words, order, values, starts, counts)


def bit_errors(a: np.ndarray | Indexed, b: np.ndarray | Indexed) -> tuple[float, int]:
    """(share of differing bits, shared frames) at the best shift of ``b`` against ``a``.

    The shifts tried are those at which words of the two clips agree exactly (each pair of equal
    words votes for its shift; the three best-voted and their neighbours): a copy keeps about a
    fifth of its words whole, all at its one true shift, and two sounds whose words never agree
    are not copies (nor do they share a sketch key). Only shifts within the difference in length
    plus ``SHIFT_SLACK`` that leave ``MIN_OVERLAP`` of the longer clip shared count."""
    index = indexed(a)
    a, b = index.words, b.words if isinstance(b, Indexed) else b
    if not len(a) or not len(b):
        return 1.0, 0
    least = math.ceil(MIN_OVERLAP * max(len(a), len(b)))
    reach = min(abs(len(a) - len(b)) + SHIFT_SLACK, max(len(a), len(b)) - least)
    kernel = compiled(shift_votes.best_shift_errors)
    if kernel is not None:  # the same steps in one pass (corpus/shift_votes.py)
        b = np.ascontiguousarray(b, dtype=np.uint32)
        return kernel(a, index.order, index.values, index.starts, index.counts, b, reach, least)
    shifts = _voted_shifts(index, b, reach)
    best = (1.0, 0)
    for shift in shifts:
        lo_a, lo_b = max(0, shift), max(0, -shift)
        n = min(len(a) - lo_a, len(b) - lo_b)
        if n < least:
            continue
        errors = int(np.bitwise_count(a[lo_a : lo_a + n] ^ b[lo_b : lo_b + n]).sum())
        share = errors / (32 * n)
        if share < best[0] or (share == best[0] and n > best[1]):
            best = (share, n)
    return best


def _voted_shifts(a: Indexed, b: np.ndarray, reach: int) -> list[int]:
    """The shifts (``b`` against ``a``) that equal words vote for, best three and neighbours
    (ties: the smaller shift, then the negative one)."""
    at = np.searchsorted(a.values, b)
    at[at == len(a.values)] = 0
    hit = np.flatnonzero((a.values[at] == b) & (b != 0))  # digital silence agrees everywhere
    if not len(hit):
        return []
    runs = a.counts[at[hit]]  # b's frame hit[k] equals each frame of a's run of that word
    total = int(runs.sum())
    ends = np.cumsum(runs)
    starts = np.repeat(a.starts[at[hit]] - (ends - runs), runs)
    shifts = a.order[starts + np.arange(total)] - np.repeat(hit, runs)  # a's frame - b's frame
    shifts += reach
    votes = np.bincount(shifts[(shifts >= 0) & (shifts <= 2 * reach)], minlength=2 * reach + 1)
    voted = np.flatnonzero(votes)
    if not len(voted):
        return []
    found = voted - reach
    best = found[np.lexsort((found, np.abs(found), -votes[voted]))[:3]].tolist()
    return sorted({s + d for s in best for d in (-1, 0, 1) if -reach <= s + d <= reach})


def could_be_same(a_samples: int, b_samples: int) -> bool:
    """Whether two clips' lengths allow them to be one sound (checked before any audio is read:
    the shorter must be able to cover ``MIN_OVERLAP`` of the longer)."""
    return min(a_samples, b_samples) >= MIN_OVERLAP * max(a_samples, b_samples)


def same_sound(a: np.ndarray | Indexed, b: np.ndarray | Indexed) -> bool:
    """Whether two clips' prints are one sound (see the module's docstring)."""
    share, shared = bit_errors(a, b)
    longer = max(len(indexed(a).words), len(b.words if isinstance(b, Indexed) else b))
    return share <= MAX_BIT_ERRORS and shared >= MIN_OVERLAP * longer


MIX = np.uint64(0x9E3779B97F4A7C15)


@functools.cache
def _salts() -> np.ndarray:
    return np.random.default_rng(20021001).integers(1, 2**63, SKETCH_KEYS, dtype=np.uint64)


def sketch(pcm: np.ndarray, rate: int) -> str:
    """The clip's MinHash over its set of frame words, as hex ("": too short for one): for each
    of ``SKETCH_KEYS`` stable hash functions, the word whose hash is least."""
    return prints_and_sketch(pcm, rate)[1]


def prints_and_sketch(pcm: np.ndarray, rate: int) -> tuple[np.ndarray, str]:
    """The clip's frame words (``prints``) and its sketch, from one pass over its audio."""
    if len(pcm) < MIN_SECONDS * rate:
        return prints(pcm, rate), ""
    energy = log_bands(pcm, rate)
    every = words_of(energy)
    if len(energy) < 8:
        return every, ""
    loudness = energy.sum(axis=1)[1:]
    heard = every[loudness >= np.percentile(loudness, QUIET_SHARE)]
    words = np.unique(heard)  # of the louder frames: a pause's words are its noise's, alike
    words = words[(words != 0) & (words != 0xFFFFFFFF)]  # digital silence, a constant tone
    if len(words) < 4:
        return every, ""
    w = words.astype(np.uint64)[None, :] ^ _salts()[:, None]
    with np.errstate(over="ignore"):
        h = w * MIX
        h ^= h >> np.uint64(29)
        h *= MIX
    chosen = words[np.argmin(h, axis=1)]
    return every, chosen.astype(">u4").tobytes().hex()


def keys(value: str) -> list[str]:
    """A record's LSH keys: each MinHash word with the number of its hash function; a copy of a
    sound shares at least one of them with high probability; [] without a sketch."""
    return [f"sound:{j}:{value[8 * j : 8 * j + 8]}" for j in range(len(value) // 8)]
