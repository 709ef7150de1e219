"""Audio files for the runtime -> mono float32 samples in [-1, 1) at the model's rate.

WAV, FLAC, OGG/Vorbis and the other formats libsndfile knows are read by soundfile and
resampled by soxr; anything else (MP3, M4A, video files ...) is decoded by the ``ffmpeg``
program when it is installed. A file that cannot be read raises :class:`AudioError` with one
line saying why.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np


class AudioError(ValueError):
    """An audio file that cannot be read."""


def read_audio(path: str, rate: int) -> np.ndarray:
    """A file -> mono float32 at ``rate``; raises AudioError or FileNotFoundError."""
    import soundfile

    try:
        data, found_rate = soundfile.read(path, dtype="float32", always_2d=True)
    except FileNotFoundError:
        raise
    except (soundfile.LibsndfileError, RuntimeError, TypeError):
        return _with_ffmpeg(path, rate)
    samples = data.mean(axis=1)
    if found_rate != rate:
        import soxr

        samples = soxr.resample(samples, found_rate, rate)
    if samples.size == 0:
        raise AudioError(f"{path}: no audio samples")
    return samples.astype(np.float32)


def _with_ffmpeg(path: str, rate: int) -> np.ndarray:
    if shutil.which("ffmpeg") is None:
        raise AudioError(
            f"{path}: not a format soundfile reads, and ffmpeg (which would decode it) is not installed"
        )
    run = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-nostdin",
            "-i",
            path,
            "-vn",
            "-ac",
            "1",
            "-ar",
            str(rate),
            "-f",
            "s16le",
            "-",
        ],
        capture_output=True,
    )
    if run.returncode != 0 or not run.stdout:
        lines = run.stderr.decode("utf-8", "replace").replace(path, "input").strip().splitlines()
        raise AudioError(
            f"{path}: ffmpeg cannot decode it: {lines[-1] if lines else 'no audio stream'}"
        )
    return np.frombuffer(run.stdout, dtype="<i2").astype(np.float32) / 32768.0
