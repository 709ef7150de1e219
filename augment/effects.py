"""Waveform effects: pure numpy functions on float32 mono audio in [-1, 1].

Every effect checks its parameters before doing any work and raises :class:`EffectError`
with the allowed range; every random choice comes from an explicit ``numpy.random.Generator``.

- ``speed``: resampling (tempo and pitch together, the 0.9/1.0/1.1 practice; soxr)
- ``tempo``: duration changes, pitch stays (WSOLA time stretch)
- ``pitch_shift``: pitch changes by semitones, duration stays (WSOLA stretch + soxr resample)
- ``add_noise``: mix a noise at a target SNR; ``colored_noise`` (white, pink, brown) and
  ``babble`` (several other utterances summed) make noises
- ``reverb``: convolution with a room impulse response; ``room_rir`` simulates one for a
  random shoebox room with pyroomacoustics (image sources, walls absorbing what Sabine's
  formula needs for the RT60), ``synthetic_rir`` is decaying noise
- ``gain`` and ``telephone`` (300-3400 Hz band-limiting)

``EFFECTS`` is the table of effects a recipe can name: one row each (limits, unit, whether it
takes a value, whether it changes the duration, the numpy function and the on-the-fly
TensorFlow op, if any). The recipe parser, the labels, ``make augment`` and the on-the-fly
augmentation in training all read it; adding an effect is one row and its test.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import soxr
from scipy import signal

from speechmill.augment.mix import mix
from speechmill.augment.stretch import time_stretch
from speechmill.corpus.errors import UserError


class EffectError(UserError, ValueError):
    """An effect parameter outside its allowed range."""


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise EffectError(message)


def check_params(effect: str, value: float) -> None:
    """Validate one effect parameter against its row of ``EFFECTS`` (recipes do this before any
    audio is touched; effects do it again on every call, so the messages are built only on error)."""
    row = EFFECTS.get(effect)
    if row is None:
        raise EffectError(f"unknown effect {effect!r}; effects: {', '.join(EFFECTS)}")
    if not (math.isfinite(value) and row.low <= value <= row.high):
        raise EffectError(f"{effect}={value:g} is outside {row.low:g}..{row.high:g} {row.meaning}")


def speed(x: np.ndarray, rate: int, factor: float) -> np.ndarray:
    """Play ``factor`` times faster: length / factor, pitch x factor."""
    check_params("speed", factor)
    if factor == 1.0:
        return x.copy()
    return soxr.resample(x, rate, rate / factor).astype(np.float32, copy=False)


def tempo(x: np.ndarray, rate: int, factor: float) -> np.ndarray:
    """``factor`` times faster, same pitch: length / factor."""
    check_params("tempo", factor)
    return time_stretch(x, rate, factor)


def pitch_shift(x: np.ndarray, rate: int, semitones: float) -> np.ndarray:
    """Raise (or lower) the pitch by ``semitones``; the length stays the same."""
    check_params("pitch", semitones)
    if semitones == 0:
        return x.copy()
    f = 2.0 ** (semitones / 12.0)
    longer = time_stretch(x, rate, 1.0 / f)  # f times longer, same pitch
    y = soxr.resample(longer, rate * f, rate)  # back to the length, pitch x f
    return _fit(y.astype(np.float32, copy=False), len(x))


def _fit(y: np.ndarray, n: int) -> np.ndarray:
    return y[:n] if len(y) >= n else np.pad(y, (0, n - len(y)))


def rms(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float32)
    return float(np.sqrt(np.dot(x, x) / max(len(x), 1) + 1e-20))


def running_energy(noise: np.ndarray) -> np.ndarray:
    """``e[i]`` = the sum of the squares of ``noise[:i]`` (float64; ``len(noise) + 1`` values)."""
    out = np.zeros(len(noise) + 1, dtype=np.float64)
    np.cumsum(np.square(noise, dtype=np.float64), out=out[1:])
    return out


def add_noise(
    x: np.ndarray,
    noise: np.ndarray,
    snr_db: float,
    rng: np.random.Generator,
    noise_rms: float | None = None,
    energy: np.ndarray | None = None,
) -> np.ndarray:
    """Mix ``noise`` (looped or cut at a random point to the length of ``x``) at ``snr_db``.

    ``noise_rms`` may give the noise's RMS when it is known (generated noise of the right
    length), which saves measuring it; ``energy`` (``running_energy(noise)``, kept with a bank
    noise) gives the RMS of any piece of a noise at least as long as ``x`` in two lookups.
    """
    check_params("noise", snr_db)
    _check(noise.size > 0, "noise must be a non-empty signal")
    n = len(x)
    if len(noise) < n:
        noise = np.tile(noise, -(-n // len(noise)) + 1)
    start = int(rng.integers(0, len(noise) - n + 1))
    piece = noise[start : start + n]
    # Energies (sums of squares), not RMS: one square root, no divisions by the length.
    if energy is not None and len(energy) == len(noise) + 1:
        noise_energy = max(float(energy[start + n] - energy[start]), 0.0)
    elif noise_rms is not None and len(noise) == n:
        noise_energy = noise_rms * noise_rms * n
    else:
        noise_energy = float(np.dot(piece, piece))
    _check(noise_energy > 1e-18 * max(n, 1), "noise must be a non-silent signal")
    x = np.asarray(x, dtype=np.float32)
    scale = math.sqrt(float(np.dot(x, x)) / noise_energy) * 10.0 ** (-snr_db / 20.0)
    return mix(x, piece, scale)  # one pass: read each once, write the output once


# 1/f ("pink") noise: a 3-pole, 3-zero filter on white noise (J. O. Smith's approximation, within
# 0.3 dB of 1/f over 9 octaves); brown (1/f^2) noise: a leaky integrator.
_PINK = (
    [0.049922035, -0.095993537, 0.050612699, -0.004408786],
    [1.0, -2.494956002, 2.017265875, -0.522189400],
)
_BROWN = ([1.0], [1.0, -0.995])


def colored_noise(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """White, pink (1/f) or brown (1/f^2) noise of ``n`` samples with unit RMS (exactly for
    pink and brown; in expectation for white, within 1 % for n >= 10000)."""
    _check(kind in ("white", "pink", "brown"), f"noise kind {kind!r}; kinds: white, pink, brown")
    white = rng.standard_normal(n, dtype=np.float32)
    if kind == "white":
        return white
    b, a = _PINK if kind == "pink" else _BROWN
    y = signal.lfilter(b, a, white).astype(np.float32)
    return y / rms(y)


def babble(
    utterances: list[np.ndarray], n: int, rng: np.random.Generator, talkers: int = 4
) -> np.ndarray:
    """The sum of ``talkers`` utterances drawn from ``utterances``, looped to ``n`` samples."""
    _check(len(utterances) > 0, "babble needs other utterances")
    out = np.zeros(n, np.float32)
    for index in rng.choice(len(utterances), size=min(talkers, len(utterances)), replace=False):
        u = utterances[int(index)]
        u = np.tile(u, int(np.ceil(n / len(u))) + 1)
        start = int(rng.integers(0, len(u) - n + 1))
        out += u[start : start + n] / max(rms(u), 1e-9)
    return out


def synthetic_rir(rate: int, rt60: float, rng: np.random.Generator) -> np.ndarray:
    """An exponentially decaying noise impulse response with the given RT60 (seconds)."""
    check_params("reverb", rt60)
    n = int(rt60 * rate)
    t = np.arange(n) / rate
    rir = rng.standard_normal(n) * np.exp(-6.9078 * t / rt60)  # -60 dB at rt60
    rir[0] = 1.0
    return (rir / np.max(np.abs(rir))).astype(np.float32)


ROOM_LIMITS = ((3.0, 12.0), (2.5, 9.0), (2.4, 4.5))  # length, width, height in metres
MAX_IMAGE_ORDER = 60


def room_rir(rate: int, rt60: float, rng: np.random.Generator) -> np.ndarray:
    """The impulse response from a random source to a random microphone (both 0.5 m or more
    from the walls) in a random shoebox room whose walls absorb what Sabine's formula needs
    for ``rt60`` seconds; image sources up to ``MAX_IMAGE_ORDER``. A room that cannot have that
    RT60 (too small to ring so long, too large to be so dry) is drawn again; after 8 draws
    the response is ``synthetic_rir``'s."""
    import pyroomacoustics as pra

    check_params("reverb", rt60)
    for _ in range(8):
        dims = np.array([rng.uniform(lo, hi) for lo, hi in ROOM_LIMITS])
        source, mic = (rng.uniform(0.5, dims - 0.5) for _ in range(2))
        try:
            absorption, order = pra.inverse_sabine(rt60, dims)
        except ValueError:
            continue
        room = pra.ShoeBox(
            dims, fs=rate, materials=pra.Material(absorption), max_order=min(order, MAX_IMAGE_ORDER)
        )
        room.add_source(source)
        room.add_microphone(mic)
        room.compute_rir()
        rir = np.asarray(room.rir[0][0], dtype=np.float64)
        rir = rir[
            int(np.argmax(np.abs(rir) > 0.05 * np.max(np.abs(rir)))) :
        ]  # start at the direct sound
        return (rir / np.max(np.abs(rir))).astype(np.float32)
    return synthetic_rir(rate, rt60, rng)


def reverb(x: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """Convolve with ``rir``; the output is longer by the tail and has the input's RMS."""
    _check(
        bool(rir.ndim == 1 and rir.size > 0 and np.any(rir)),
        "a room impulse response must be a non-zero 1-D signal",
    )
    y = signal.fftconvolve(x, rir).astype(np.float32)
    return y * (rms(x) / rms(y))


def gain(x: np.ndarray, db: float) -> np.ndarray:
    check_params("gain", db)
    return (x * 10.0 ** (db / 20.0)).astype(np.float32)


def telephone(x: np.ndarray, rate: int, low: float = 300.0, high: float = 3400.0) -> np.ndarray:
    """Band-limit to a telephone channel (4th-order Butterworth band-pass)."""
    _check(
        0 < low < high < rate / 2,
        f"telephone band {low:g}..{high:g} Hz must lie within 0..{rate / 2:g} Hz",
    )
    sos = signal.butter(4, [low, high], btype="bandpass", fs=rate, output="sos")
    return signal.sosfilt(sos, x).astype(np.float32)


# ----------------------------------------------------------------------------- the table
# ``apply(x, rate, value, banks, rng_for)``: ``banks`` holds noise, impulse responses and babble
# utterances (augment/apply.py Banks); ``rng_for(what)`` is the seeded generator for one draw.


def _reverb(x: np.ndarray, rate: int, value: float, banks: Any, rng_for: Callable) -> np.ndarray:
    rng = rng_for("reverb")
    rir = (
        banks.rirs[int(rng.integers(len(banks.rirs)))] if banks.rirs else room_rir(rate, value, rng)
    )
    return reverb(x, rir)


def _noise(x: np.ndarray, rate: int, value: float, banks: Any, rng_for: Callable) -> np.ndarray:
    rng = rng_for("noise")
    kind = banks.noise_kinds[int(rng.integers(len(banks.noise_kinds)))]
    known_rms, energy = None, None
    if kind == "bank":
        i = int(rng.integers(len(banks.noises)))
        noise, energy = banks.noises[i], banks.noise_energy(i)
    elif kind == "babble":
        noise = babble(banks.babble, len(x), rng)
    else:
        noise, known_rms = colored_noise(kind, len(x), rng), 1.0
    return add_noise(x, noise, value, rng, noise_rms=known_rms, energy=energy)


@dataclasses.dataclass(frozen=True)
class Effect:
    """One effect a recipe can name."""

    name: str
    low: float  # allowed values low..high
    high: float
    meaning: str  # what the value is, for messages
    apply: Callable[..., np.ndarray]  # (x, rate, value, banks, rng_for) -> x, float32
    unit: str = ""  # written after the value in ids and the ``augment`` field
    takes_value: bool = True  # False: named alone ("telephone"), its value is 1
    stretches: bool = False  # the duration becomes 1 / value of the original (word times follow)
    tf_op: str | None = None  # on-the-fly: augment.tf_ops function (audio, value, seed) -> audio


# In the order a chain applies them.
EFFECTS: dict[str, Effect] = {
    e.name: e
    for e in (
        Effect(
            "speed",
            0.5,
            2.0,
            "a factor",
            lambda x, rate, v, banks, rng_for: speed(x, rate, v),
            stretches=True,
            tf_op="speed",
        ),
        Effect(
            "tempo",
            0.5,
            2.0,
            "a factor",
            lambda x, rate, v, banks, rng_for: tempo(x, rate, v),
            stretches=True,
        ),
        Effect(
            "pitch",
            -12.0,
            12.0,
            "semitones",
            lambda x, rate, v, banks, rng_for: pitch_shift(x, rate, v),
            unit="st",
        ),
        Effect("reverb", 0.05, 3.0, "seconds of RT60", _reverb, unit="s"),
        Effect(
            "telephone",
            0.0,
            1.0,
            "(no value needed)",
            lambda x, rate, v, banks, rng_for: telephone(x, rate),
            takes_value=False,
        ),
        Effect("noise", -10.0, 60.0, "dB SNR", _noise, unit="dB", tf_op="noise"),
        Effect(
            "gain",
            -40.0,
            40.0,
            "dB",
            lambda x, rate, v, banks, rng_for: gain(x, v),
            unit="dB",
            tf_op="gain",
        ),
    )
}
ORDER = tuple(
    EFFECTS
)  # (the table is the order; readers use EFFECTS itself, so a row added later counts)
