"""Audio and subtitle streams out of media files, through ffmpeg (via pydub for audio).

``load_audio(path, rate) -> int16 mono samples`` decodes any container ffmpeg reads, asking
ffmpeg itself to down-mix and resample so a long film never sits in memory at 48 kHz stereo.
``load_window(path, rate, start, seconds)`` decodes one stretch of a file (make verify's context).
``embedded_subtitles(path) -> bytes | None`` extracts the first subtitle stream as SRT.
Failures raise ``Reject`` (``audio:decode``, ``subtitle:extract``).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile

import numpy as np
from pydub import AudioSegment
from pydub.exceptions import CouldntDecodeError

from speechmill.corpus.reject import Reject


def load_audio(path: str, rate: int, *, where: str = "") -> np.ndarray:
    """A media file -> mono int16 samples at ``rate``; rejects name ``where`` (default: the path)."""
    where = where or path
    try:
        segment = AudioSegment.from_file(
            path, parameters=["-ac", "1", "-ar", str(rate), "-sample_fmt", "s16"]
        )
    except (CouldntDecodeError, IndexError, OSError) as e:
        lines = str(e).replace(path, "input").strip().splitlines()
        raise Reject(
            "audio:decode",
            f"ffmpeg cannot decode the audio: {lines[-1] if lines else type(e).__name__}",
            where=where,
        ) from None
    segment = segment.set_channels(1).set_frame_rate(rate).set_sample_width(2)
    samples = np.frombuffer(segment.raw_data, dtype="<i2").astype(np.int16)
    if samples.size == 0:
        raise Reject("audio:empty", "no audio stream or zero samples", where=where)
    return samples


def load_window(path: str, rate: int, start: float, seconds: float) -> np.ndarray:
    """``seconds`` of a media file's audio from ``start`` -> mono int16 at ``rate`` (fewer samples
    at its end). ffmpeg seeks in the input before decoding, so a late window of a long film
    costs about what an early one does. Raises Reject ``audio:decode``."""
    run = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-nostdin",
            "-ss",
            f"{max(0.0, start):.3f}",
            "-t",
            f"{seconds:.3f}",
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
    if run.returncode != 0:
        lines = run.stderr.decode("utf-8", "replace").replace(path, "input").strip().splitlines()
        raise Reject(
            "audio:decode",
            f"ffmpeg cannot decode the audio: {lines[-1] if lines else run.returncode}",
            where=path,
        )
    return np.frombuffer(run.stdout, dtype="<i2").astype(np.int16)


def decode_with_ffmpeg(data: bytes, rate: int, *, where: str = "") -> np.ndarray:
    """Encoded audio in any container ffmpeg reads (MP3, M4A/AAC, Opus, WMA ...) -> mono int16
    at ``rate``. The bytes go through a temporary file: MP4-family files need to seek."""
    with tempfile.TemporaryDirectory(prefix="speechmill-decode-") as tmp:
        path = os.path.join(tmp, "input")
        with open(path, "wb") as f:
            f.write(data)
        return load_audio(path, rate, where=where)


def video_fps(path: str) -> float | None:
    """The frame rate of a media file's first video stream (ffprobe), or None."""
    probe = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=r_frame_rate",
            "-of",
            "csv=p=0",
            path,
        ],
        capture_output=True,
        text=True,
    )
    num, _, den = probe.stdout.strip().partition("/")
    try:
        return float(num) / float(den or 1) if probe.returncode == 0 and num else None
    except (ValueError, ZeroDivisionError):
        return None


def media_tag(path: str, names: tuple[str, ...]) -> str:
    """The first of the named metadata tags (``artist``, ``album_artist`` ...) a media file
    carries, as ffprobe reads it ("" when none, or when ffprobe fails or takes over 30 s);
    at most 200 characters. A value from a stranger's file: callers make it a name (slug)."""
    try:
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format_tags", "-of", "json", path],
            capture_output=True,
            text=True,
            timeout=30,
        )
        tags = json.loads(probe.stdout or "{}").get("format", {}).get("tags", {})
    except (subprocess.TimeoutExpired, ValueError, AttributeError):
        return ""
    lowered = {str(k).lower(): v for k, v in tags.items()} if isinstance(tags, dict) else {}
    for name in names:
        value = lowered.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()[:200]
    return ""


def embedded_subtitles(path: str) -> bytes | None:
    """The first subtitle stream of a media file as SRT bytes, or None if it has none."""
    probe = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "s",
            "-show_entries",
            "stream=index",
            "-of",
            "csv=p=0",
            path,
        ],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0 or not probe.stdout.strip():
        return None
    run = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", path, "-map", "0:s:0", "-f", "srt", "-"],
        capture_output=True,
    )
    if run.returncode != 0:
        raise Reject(
            "subtitle:extract",
            f"ffmpeg could not extract the subtitle stream: "
            f"{run.stderr.decode(errors='replace').strip()[-200:]}",
            where=path,
        )
    return run.stdout
