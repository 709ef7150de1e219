"""How good a record's audio is: five measures, computed where the build has the audio decoded.

One row per measure in ``MEASURES`` (name, shortest clip it is defined on, what it means, what
the corpora that filter on it use). ``measure(pcm, rate, text, names)`` -> :class:`Measures`;
a clip shorter than a measure's window gets ``None`` for it, never a made-up value.

- ``snr_db``: blind SNR by WADA (Kim & Stern 2008): the amplitude of clean speech follows a
  gamma distribution of shape 0.4, noise a Gaussian; how far the clip's amplitudes are from
  each is ``log mean|x| - mean log|x|``, which rises monotonically with the SNR. The curve is
  computed once per process from that model (:func:`wada_curve`), not copied from a table.
- ``speech_ratio``: share of the clip Silero VAD calls speech (corpus/vad.py).
- ``dnsmos``: DNSMOS P.835 overall quality (1..5), the ONNX model the ``speechmos`` package
  carries, run on one thread (a Beam worker per core). Not taken on synthetic records: a TTS
  engine's output has no room, microphone or noise to judge (``measure(..., synthetic=True)``).
- ``clipped``: share of samples at full scale (PCM16 +-32767/-32768).
- ``chars_per_second``: transcript characters per second of *speech* (the VAD's), not of clip.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os

import numpy as np
import soxr

from speechmill.corpus.errors import MissingExtra

RATE = 16000  # the rate the VAD and DNSMOS hear; other corpus rates are resampled for them


@dataclasses.dataclass(frozen=True, slots=True)
class Measures:
    """A record's measures; ``None``: not measured (off, or the clip is too short for it)."""

    snr_db: float | None = None
    speech_ratio: float | None = None
    dnsmos: float | None = None
    clipped: float | None = None
    chars_per_second: float | None = None

    def items(self) -> list[tuple[str, float]]:
        """(name, value) of each measure the record has, in the table's order."""
        return [(n, v) for n in MEASURES if (v := getattr(self, n)) is not None]


NONE = Measures()


@dataclasses.dataclass(frozen=True)
class Measure:
    min_seconds: float  # a shorter clip gets None
    meaning: str
    anchors: str  # what corpora that filter on it keep (docs/corpus.md)
    unit: str  # how describe and the report print it
    bins: tuple[float, float, int]  # the histogram's range and bin count (describe, report)


MEASURES: dict[str, Measure] = {
    "snr_db": Measure(
        0.5,
        "blind signal-to-noise ratio (WADA-SNR, Kim & Stern 2008), dB",
        "IndicWav2Vec drops speech under 15 dB; LibriSpeech clean is about 30-40 dB",
        "dB",
        (-10.0, 60.0, 14),
    ),
    "speech_ratio": Measure(
        0.1,
        "share of the clip Silero VAD calls speech",
        "read speech cut at pauses: 0.7-0.95; music or noise alone: near 0",
        "",
        (0.0, 1.0, 10),
    ),
    "dnsmos": Measure(
        1.0,
        "DNSMOS P.835 overall quality (1 bad .. 5 excellent)",
        "Emilia keeps DNSMOS overall >= 3.0 (clean studio speech: about 3.3)",
        "",
        (1.0, 5.0, 8),
    ),
    "clipped": Measure(
        0.0,
        "share of samples at full scale (+-32767 in PCM16)",
        "clean recordings: 0; audible clipping from about 0.001 (0.1 %)",
        "",
        (0.0, 0.01, 10),
    ),
    "chars_per_second": Measure(
        0.1,
        "transcript characters per second of speech (the VAD's speech, not the whole clip)",
        "read English: about 12-18; per-speaker outliers: [quality] rate_outliers",
        "chars/s",
        (0.0, 30.0, 15),
    ),
}


def measure(
    pcm: np.ndarray,
    rate: int,
    text: str,
    names: tuple[str, ...] = tuple(MEASURES),
    synthetic: bool = False,
) -> Measures:
    """The named measures of one clip (int16 mono at ``rate``) and its transcript."""
    if synthetic:
        names = tuple(n for n in names if n != "dnsmos")
    if not names or not len(pcm):
        return NONE
    seconds = len(pcm) / rate
    wanted = [n for n in names if seconds >= MEASURES[n].min_seconds]
    if not wanted:
        return NONE
    wave = pcm.astype(np.float32) / 32768.0
    heard = wave if rate == RATE else soxr.resample(wave, rate, RATE).astype(np.float32)
    values: dict[str, float | None] = {}
    speech = None
    if "speech_ratio" in wanted or "chars_per_second" in wanted:
        from speechmill.corpus.vad import speech_spans

        speech = sum(b - a for a, b in speech_spans(heard))
    for name in wanted:
        if name == "snr_db":
            values[name] = wada_snr(wave)
        elif name == "speech_ratio":
            values[name] = min(1.0, speech / seconds)  # type: ignore[operator]
        elif name == "dnsmos":
            values[name] = dnsmos(heard)
        elif name == "clipped":
            values[name] = float(np.count_nonzero((pcm >= 32767) | (pcm <= -32768)) / len(pcm))
        elif name == "chars_per_second":
            values[name] = len(text) / speech if speech else None
    return Measures(**{k: None if v is None else round(float(v), 4) for k, v in values.items()})


# ----------------------------------------------------------------------------- WADA-SNR

GAMMA_SHAPE = 0.4  # clean speech amplitude (Kim & Stern 2008)
SNR_RANGE = (-20.0, 100.0)


@functools.cache
def wada_curve() -> tuple[np.ndarray, np.ndarray]:
    """(snr_db, G) on a 1 dB grid: G = log E|z| - E log|z| for z = gamma speech + Gaussian noise
    at each SNR, by Monte Carlo on fixed draws (seeded: every process has the same curve)."""
    rng = np.random.default_rng(20080101)
    n = 400_000
    speech = rng.gamma(GAMMA_SHAPE, 1.0, n) * rng.choice((-1.0, 1.0), n)
    noise = rng.standard_normal(n)
    power = GAMMA_SHAPE * (GAMMA_SHAPE + 1.0)  # E[x^2] of the signed gamma
    snrs = np.arange(SNR_RANGE[0], SNR_RANGE[1] + 1.0)
    curve = []
    for snr in snrs:
        z = np.abs(speech + noise * math.sqrt(power / 10.0 ** (snr / 10.0)))
        z = np.maximum(z, 1e-20)
        curve.append(math.log(z.mean()) - np.log(z).mean())
    return snrs, np.maximum.accumulate(np.array(curve))  # monotone against draw noise


def wada_snr(wave: np.ndarray) -> float | None:
    """Blind SNR (dB) of a float clip; None for digital silence."""
    a = np.abs(np.asarray(wave, dtype=np.float64))
    a = a[a > 0]  # digital silence (exact zeros) is neither speech nor noise
    if len(a) < 100:
        return None
    g = math.log(a.mean()) - float(np.log(a).mean())
    snrs, curve = wada_curve()
    return float(np.interp(g, curve, snrs))


# ----------------------------------------------------------------------------- DNSMOS


INPUT_SECONDS = 9.01  # DNSMOS P.835's input window (speechmos.dnsmos.INPUT_LENGTH)


@functools.cache
def _dnsmos_model():
    """speechmos's DNSMOS P.835 model (sig_bak_ovr.onnx) on one thread (a worker per core).
    Only its overall score is used, so the P.808 model beside it is not loaded."""
    try:
        import onnxruntime
        from speechmos import dnsmos as speechmos_dnsmos
    except ImportError:
        raise MissingExtra("speechmos and onnxruntime", "corpus", "the dnsmos measure") from None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    model = os.path.join(os.path.dirname(speechmos_dnsmos.__file__), "dnsmos_models")
    session = onnxruntime.InferenceSession(f"{model}/sig_bak_ovr.onnx", options)
    return session, speechmos_dnsmos.DNSMOS.get_polyfit_val


def dnsmos(wave: np.ndarray) -> float:
    """DNSMOS P.835 overall (1..5) of a 16 kHz float clip, with speechmos's model and score
    mapping: a clip under 9.01 s is repeated to that length (as Microsoft's DNSMOS script
    does); a longer one is scored in 9.01 s windows laid end to end (the last one ending at the
    clip's end) and averaged. (The reference script slides its windows by one second: about
    nine times the work for a mean of the same audio.)"""
    session, polyfit = _dnsmos_model()
    audio = np.clip(wave, -1.0, 1.0).astype(np.float32)
    length = int(INPUT_SECONDS * RATE)
    if len(audio) < length:  # repeated to one window
        audio = np.tile(audio, -(-length // len(audio)))[:length]
    starts = list(range(0, len(audio) - length + 1, length))
    if starts[-1] + length < len(audio):
        starts.append(len(audio) - length)
    scores = []
    for start in starts:
        window = audio[start : start + length]
        sig, bak, ovr = session.run(None, {"input_1": window[None, :]})[0][0]
        scores.append(polyfit(None, sig, bak, ovr, False)[2])
    return float(np.mean(scores))
