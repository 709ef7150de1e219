"""Audio files for the runtime -> mono float32 samples in [-1, 1) at the model's rate.

WAV, FLAC, OGG/Vorbis and the other formats libsndfile knows are read by soundfile and
resampled by soxr; anything else (MP3, M4A, video files ...) is decoded by the ``ffmpeg``
program when it is installed. ``audio_blocks`` gives the samples block by block (soundfile
blocks through a streaming soxr resampler, or ffmpeg's output pipe read in pieces), so a
reader of a 3-hour file holds one block, not the file. A file that cannot be read raises
:class:`AudioError` with one line saying why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator

import numpy as np


class AudioError(ValueError):
    """An audio file that cannot be read."""


BLOCK_SECONDS = 10.0


def audio_blocks(
    path: str, rate: int, block_seconds: float = BLOCK_SECONDS
) -> Iterator[np.ndarray]:
    """A file -> mono float32 blocks at ``rate`` of about ``block_seconds`` each, read as they are
    needed; AudioError (one line) when the file cannot be read, after any blocks that could."""
    import soundfile

    try:
        sound = soundfile.SoundFile(path)
    except FileNotFoundError:
        raise
    except (soundfile.LibsndfileError, RuntimeError, TypeError):
        return _ffmpeg_blocks(path, rate, block_seconds)
    return _soundfile_blocks(sound, path, rate, block_seconds)


def _soundfile_blocks(sound, path: str, rate: int, block_seconds: float) -> Iterator[np.ndarray]:
    import soxr

    with sound:
        resample = (
            None
            if sound.samplerate == rate
            else soxr.ResampleStream(sound.samplerate, rate, 1, dtype="float32")
        )
        frames, seen = max(1, int(block_seconds * sound.samplerate)), False
        while True:
            data = sound.read(frames, dtype="float32", always_2d=True)
            last = len(data) < frames
            block = data.mean(axis=1).astype(np.float32)
            if resample is not None:
                block = resample.resample_chunk(block, last=last)
            if block.size:
                seen = True
                yield block
            if last:
                break
    if not seen:
        raise AudioError(f"{path}: no audio samples")


def _ffmpeg_blocks(path: str, rate: int, block_seconds: float) -> Iterator[np.ndarray]:
    if shutil.which("ffmpeg") is None:
        raise AudioError(
            f"{path}: not a format soundfile reads, and ffmpeg (which would decode it) is not installed"
        )
    command = ["ffmpeg", "-v", "error", "-nostdin", "-i", path, "-vn", "-ac", "1", "-ar", str(rate)]
    errors = tempfile.TemporaryFile()  # a file, not a pipe: a damaged stream's many error lines
    process = subprocess.Popen(  # cannot fill a pipe and stall ffmpeg while we read its output
        [*command, "-f", "s16le", "-"], stdout=subprocess.PIPE, stderr=errors
    )
    assert process.stdout is not None
    size, seen, rest = 2 * max(1, int(block_seconds * rate)), False, b""
    try:
        while True:
            data = rest + process.stdout.read(size)
            if not data:
                break
            whole = len(data) - len(data) % 2
            rest = data[whole:]
            if whole:
                seen = True
                yield np.frombuffer(data[:whole], dtype="<i2").astype(np.float32) / 32768.0
            if len(data) < size:
                break
        status = process.wait()
        errors.seek(max(0, os.fstat(errors.fileno()).st_size - 4096))
        error = errors.read()
        if status != 0 or not seen:
            lines = error.decode("utf-8", "replace").replace(path, "input").strip().splitlines()
            raise AudioError(
                f"{path}: ffmpeg cannot decode it: {lines[-1] if lines else 'no audio stream'}"
            )
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        errors.close()
