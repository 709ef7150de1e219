"""Transcribe audio files with an exported model: ``make transcribe MODEL=<run> FILE=<path> [LM=build/lm]``.

A path is an audio file (wav, flac, ogg ... through soundfile; mp3, m4a, video ... through
ffmpeg; any rate or channel count) or a folder searched recursively; one ``path<TAB>transcript``
line is printed per file. A file that cannot be read is reported on stderr in one line and
skipped (exit status 1 at the end). Long files are transcribed in pieces of at most
``CHUNK_SECONDS``, each cut at the quietest 150 ms within its last ``SEARCH_SECONDS`` (a
pause between words); the file is read in blocks as the pieces need them
(``runtime.audio.audio_blocks``), so memory stays flat whatever the file's length. Greedy decoding by
default; ``--beam N`` for a beam search, ``--lm`` for beam search with a word language model.
No TensorFlow is needed with the tflite backend (``pip install speechmill[runtime]``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from speechmill.corpus.errors import UsageError
from speechmill.corpus.progress import SILENT, Progress
from speechmill.runtime.audio import AudioError, audio_blocks
from speechmill.runtime.recognizer import Recognizer, load_recognizer

CHUNK_SECONDS, SEARCH_SECONDS = 30.0, 5.0
DEFAULT_BEAM = 32
AUDIO_EXTENSIONS = (
    ".wav",
    ".flac",
    ".mp3",
    ".ogg",
    ".opus",
    ".m4a",
    ".aac",
    ".wma",
    ".webm",
    ".mp4",
    ".mkv",
)


def audio_files(paths: list[str]) -> list[str]:
    out = []
    for path in paths:
        if os.path.isdir(path):
            for root, _, names in sorted(os.walk(path)):
                out += [
                    os.path.join(root, n)
                    for n in sorted(names)
                    if n.lower().endswith(AUDIO_EXTENSIONS)
                ]
        else:
            out.append(path)
    return out


def quietest_cut(samples: np.ndarray, rate: int, lo: int, hi: int) -> int:
    """The middle of the quietest 150 ms of ``samples[lo:hi]`` (a pause, not a gap inside a word)."""
    from speechmill.corpus.frames import frame_power

    power = frame_power(samples[lo:hi], rate)
    if not len(power):
        return hi
    smooth = np.convolve(power, np.ones(15), mode="same")
    return lo + int(round((int(np.argmin(smooth)) + 0.5) * rate * 0.01))


def chunk_bounds(
    samples: np.ndarray,
    rate: int,
    max_seconds: float = CHUNK_SECONDS,
    search_seconds: float = SEARCH_SECONDS,
) -> list[tuple[int, int]]:
    """(start, end) sample ranges that cover ``samples`` once, each at most ``max_seconds`` long,
    cut in the quietest 150 ms within the last ``search_seconds`` of each piece."""
    bounds, start, limit = [], 0, int(max_seconds * rate)
    while len(samples) - start > limit:
        cut = quietest_cut(samples, rate, start + limit - int(search_seconds * rate), start + limit)
        bounds.append((start, cut))
        start = cut
    return bounds + [(start, len(samples))]


def transcribe_long(samples: np.ndarray, rate: int, transcribe: Callable[[np.ndarray], str]) -> str:
    """Float samples of any length -> one transcript, piece by piece (see ``chunk_bounds``)."""
    texts = [transcribe(samples[start:end]) for start, end in chunk_bounds(samples, rate)]
    return " ".join(t for t in texts if t.strip())


def transcribe_blocks(
    blocks: Iterable[np.ndarray], rate: int, transcribe: Callable[[np.ndarray], str]
) -> str:
    """Blocks of float samples -> the transcript ``transcribe_long`` gives for them joined, with
    at most one piece and one block held: each piece is cut, by the same rule, as soon as more
    than ``CHUNK_SECONDS`` are buffered."""
    limit, search = int(CHUNK_SECONDS * rate), int(SEARCH_SECONDS * rate)
    texts, buffer = [], np.zeros(0, np.float32)
    for block in blocks:
        buffer = np.concatenate([buffer, block])
        while len(buffer) > limit:
            cut = quietest_cut(buffer, rate, limit - search, limit)
            texts.append(transcribe(buffer[:cut]))
            buffer = buffer[cut:]
    if len(buffer):
        texts.append(transcribe(buffer))
    return " ".join(t for t in texts if t.strip())


def text_of(recognizer: Recognizer, beam: int = 0, lm=None) -> Callable[[np.ndarray], str]:
    """samples -> text with this recognizer and decoder (greedy; beam search; beam search + LM)."""
    from speechmill.lm.decode import beam_search, greedy

    def transcribe(samples: np.ndarray) -> str:
        log_probs = recognizer.log_probs(samples)
        if lm is None and not beam:
            return greedy(log_probs)
        return beam_search(log_probs, beam or DEFAULT_BEAM, lm)

    return transcribe


@dataclasses.dataclass(frozen=True)
class DecoderSpec:
    """What transcribe and listen hear with: a run or export folder, the backend, CPU threads
    (None: all), and the decoder (greedy; beam search of width ``beam``; with a word LM)."""

    model: str
    backend: str = "auto"
    threads: int | None = None
    beam: int = 0
    lm: str | None = None


MAX_BEAM = 1024


def check_spec(spec: DecoderSpec) -> None:
    """The numbers in range, before anything is loaded (UsageError: one line, exit 2)."""
    if spec.threads is not None and not 1 <= spec.threads <= 1024:
        raise UsageError(f"--threads {spec.threads}: give a number of CPU threads from 1 to 1024")
    if not 0 <= spec.beam <= MAX_BEAM:
        raise UsageError(f"--beam {spec.beam}: give a beam width from 0 (greedy) to {MAX_BEAM}")


def load_decoder(spec: DecoderSpec) -> tuple[Recognizer, Callable[[np.ndarray], str]]:
    """The recognizer and its samples -> text function."""
    check_spec(spec)
    recognizer = load_recognizer(spec.model, spec.backend, spec.threads)
    lm = None
    if spec.lm:
        from speechmill.lm.files import load_lm

        lm = load_lm(spec.lm)
    return recognizer, text_of(recognizer, spec.beam, lm)


def transcribe_files(
    paths: list[str], spec: DecoderSpec, progress: Progress = SILENT
) -> Iterator[tuple[str, str | None, str]]:
    """Every audio file under ``paths`` -> (path, its text, "") or (path, None, why it could
    not be read); FileNotFoundError for a path that is not there, before the model loads."""
    for path in paths:  # before the model is loaded: a typo is the user's, in one line
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no such file or folder")
    recognizer, transcribe = load_decoder(spec)
    rate = recognizer.sample_rate
    files = audio_files(paths)
    for path in (
        progress.items(files, len(files), "transcribe", unit="file") if len(files) > 1 else files
    ):
        try:
            yield path, transcribe_blocks(audio_blocks(path, rate), rate, transcribe), ""
        except (AudioError, FileNotFoundError) as e:
            yield path, None, str(e).replace(path + ": ", "")
