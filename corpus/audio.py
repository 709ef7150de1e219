"""Audio in: decode, down-mix, resample and quantize to the corpus format (mono PCM16).

Pure functions on bytes, open files and numpy arrays; decoding errors raise
``Reject("audio:decode")``.
"""

from __future__ import annotations

import io
from typing import BinaryIO

import numpy as np
import soundfile
import soxr

from speechmill.corpus.reject import Reject


def decode(
    data: bytes, *, where: str = "", fallback_rate: int | None = None
) -> tuple[np.ndarray, int]:
    """Encoded audio (FLAC, WAV, OGG, MP3 ... anything libsndfile reads) -> (samples, rate).

    Samples are int16 when the file is 16-bit PCM, else float32; shape (n,) or (n, channels).
    With ``fallback_rate``, what libsndfile cannot read (M4A/AAC, WMA, Opus in WebM ...) is
    decoded by ffmpeg to mono int16 at that rate.
    """
    if not data:
        raise Reject("audio:empty", "file has no bytes", where=where)
    try:
        samples, rate = _read_sound(io.BytesIO(data))
    except (soundfile.LibsndfileError, RuntimeError, ValueError) as e:
        if fallback_rate is None or _looks_like_libsndfile_format(data):
            problem = getattr(e, "error_string", None) or str(e)  # not the repr of our BytesIO
            raise Reject("audio:decode", f"cannot decode audio: {problem}", where=where) from None
        from speechmill.corpus.inputs.media import decode_with_ffmpeg

        return decode_with_ffmpeg(data, fallback_rate, where=where), fallback_rate
    if samples.shape[0] == 0:
        raise Reject("audio:empty", "decoded to zero samples", where=where)
    return samples, rate


def decode_file(
    f: BinaryIO, *, where: str = "", fallback_rate: int | None = None
) -> tuple[np.ndarray, int]:
    """``decode`` of an open file: libsndfile reads it through its descriptor (no copy of its
    bytes in memory, no Python call per read); what it cannot read is read whole and decoded
    as ``decode`` does (ffmpeg's formats, and the same rejects), as is a file with no
    descriptor (an object store's)."""
    try:
        descriptor = f.fileno()
    except (AttributeError, OSError):
        return decode(f.read(), where=where, fallback_rate=fallback_rate)
    try:
        samples, rate = _read_sound(descriptor)
    except (soundfile.LibsndfileError, RuntimeError, ValueError):
        f.seek(0)
        return decode(f.read(), where=where, fallback_rate=fallback_rate)
    if samples.shape[0] == 0:
        raise Reject("audio:empty", "decoded to zero samples", where=where)
    return samples, rate


def _read_sound(file: io.BytesIO | int) -> tuple[np.ndarray, int]:
    """Samples (int16 for 16-bit PCM and less, else float32) and rate; libsndfile's errors."""
    with soundfile.SoundFile(file, closefd=False) as f:
        dtype = "int16" if f.subtype in ("PCM_16", "PCM_S8", "PCM_U8") else "float32"
        return f.read(dtype=dtype, always_2d=False), f.samplerate


def _looks_like_libsndfile_format(data: bytes) -> bool:
    """FLAC, WAV/RIFF, AIFF and Ogg files are libsndfile's own: if it cannot read one, it is damaged
    (no need to ask ffmpeg)."""
    return data[:4] in (b"fLaC", b"RIFF", b"FORM", b"OggS")


def to_corpus_format(samples: np.ndarray, rate: int, target_rate: int) -> np.ndarray:
    """Any-rate, any-channel int16/float audio -> mono int16 at ``target_rate``."""
    if samples.ndim == 2:
        samples = samples.astype(np.float32).mean(axis=1) if samples.shape[1] > 1 else samples[:, 0]
    if rate == target_rate and samples.dtype == np.int16:
        return np.ascontiguousarray(samples)
    x = (
        samples.astype(np.float32) / 32768.0
        if samples.dtype == np.int16
        else samples.astype(np.float32)
    )
    if rate != target_rate:
        x = soxr.resample(x, rate, target_rate, quality="HQ")
    return float_to_pcm16(x)


def float_to_pcm16(x: np.ndarray) -> np.ndarray:
    """float audio in [-1, 1) -> int16, clipping what lies outside."""
    return np.clip(np.rint(x * 32768.0), -32768, 32767).astype(np.int16)


def seconds(num_samples: int, rate: int) -> float:
    return num_samples / float(rate)
