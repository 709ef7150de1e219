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

import argparse
import os
import sys
from collections.abc import Callable, Iterable

import numpy as np

from speechmill.corpus.errors import UsageError, command, printable
from speechmill.corpus.options import HelpFormatter
from speechmill.corpus.progress import progress_iter
from speechmill.runtime.audio import AudioError, audio_blocks
from speechmill.runtime.recognizer import BACKENDS, Recognizer, load_recognizer

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


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    """The options transcribe and listen share: model, backend, decoder."""
    p.add_argument("--model", required=True, help="run folder or export folder")
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default="auto",
        help="auto and tflite: the export's builtin-ops model.tflite on LiteRT (loaded as data); "
        "savedmodel: the SavedModel on TensorFlow, a program: only for a model you trust",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads for the tflite backend (default: all)",
    )
    p.add_argument(
        "--beam", type=int, default=0, help="beam search of this width (0: greedy unless --lm)"
    )
    p.add_argument(
        "--lm",
        default=None,
        help="word language model: make lm's folder or a KenLM .arpa/.bin file",
    )


MAX_BEAM = 1024


def check_model_arguments(args: argparse.Namespace) -> None:
    """The shared numbers in range, before anything is loaded (UsageError: one line, exit 2)."""
    if args.threads is not None and not 1 <= args.threads <= 1024:
        raise UsageError(f"--threads {args.threads}: give a number of CPU threads from 1 to 1024")
    if not 0 <= args.beam <= MAX_BEAM:
        raise UsageError(f"--beam {args.beam}: give a beam width from 0 (greedy) to {MAX_BEAM}")


def decoder_from(args: argparse.Namespace) -> tuple[Recognizer, Callable[[np.ndarray], str]]:
    check_model_arguments(args)
    recognizer = load_recognizer(args.model, args.backend, args.threads)
    lm = None
    if args.lm:
        from speechmill.lm.files import load_lm

        lm = load_lm(args.lm)
    return recognizer, text_of(recognizer, args.beam, lm)


@command("transcribe")
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="speechmill transcribe",
        formatter_class=HelpFormatter,
        description="Transcribe audio files with a speechmill model: one path<TAB>text "
        "line per file on standard output.",
    )
    add_model_arguments(p)
    p.add_argument("paths", nargs="+", help="audio files or folders")
    args = p.parse_args(argv)
    for path in args.paths:  # before the model is loaded: a typo is the user's, in one line
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no such file or folder")
    recognizer, transcribe = decoder_from(args)
    rate = recognizer.sample_rate
    failed = 0
    files = audio_files(args.paths)
    for path in (
        progress_iter(files, len(files), "transcribe", unit="file") if len(files) > 1 else files
    ):
        try:
            text = transcribe_blocks(audio_blocks(path, rate), rate, transcribe)
        except (AudioError, FileNotFoundError) as e:
            print(
                f"speechmill: cannot read {printable(path)}: "
                f"{printable(str(e).replace(path + ': ', ''))}",
                file=sys.stderr,
            )
            failed += 1
            continue
        print(f"{printable(path)}\t{text}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
