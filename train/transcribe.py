"""Transcribe audio files with an exported model: ``make transcribe MODEL=<run> FILE=<path>``.

A path is an audio file (wav, flac, mp3, ogg, m4a ... any rate or channel count; ffmpeg
decodes and resamples) or a folder searched recursively; one ``path<TAB>transcript`` line is
printed per file. A file that cannot be read is reported on stderr in one line and skipped.
Long files are transcribed in pieces of at most ``CHUNK_SECONDS``, each cut at the quietest
10 ms within its last ``SEARCH_SECONDS`` (a pause between words), so memory stays flat
whatever the file's length.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import tensorflow as tf

from corpus.inputs.media import load_audio
from corpus.reject import Reject
from speechmill.progress import progress_iter

CHUNK_SECONDS, SEARCH_SECONDS = 30.0, 5.0
AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".wma", ".webm", ".mp4", ".mkv")


def audio_files(paths: list[str]) -> list[str]:
    out = []
    for path in paths:
        if os.path.isdir(path):
            for root, _, names in sorted(os.walk(path)):
                out += [os.path.join(root, n) for n in sorted(names) if n.lower().endswith(AUDIO_EXTENSIONS)]
        else:
            out.append(path)
    return out


def chunk_bounds(samples: np.ndarray, rate: int, max_seconds: float = CHUNK_SECONDS,
                 search_seconds: float = SEARCH_SECONDS) -> list[tuple[int, int]]:
    """(start, end) sample ranges that cover ``samples`` once, each at most ``max_seconds`` long,
    cut in the quietest 150 ms within the last ``search_seconds`` of each piece."""
    from corpus.subtitles.sync import frame_power

    bounds, start, limit = [], 0, int(max_seconds * rate)
    while len(samples) - start > limit:
        lo, hi = start + limit - int(search_seconds * rate), start + limit
        power = frame_power(samples[lo:hi], rate)
        if len(power):           # the middle of the quietest 150 ms: a pause, not a gap inside a word
            smooth = np.convolve(power, np.ones(15), mode="same")
            cut = lo + int(round((int(np.argmin(smooth)) + 0.5) * rate * 0.01))
        else:
            cut = hi
        bounds.append((start, cut))
        start = cut
    return bounds + [(start, len(samples))]


def transcribe_long(samples: np.ndarray, rate: int, transcribe) -> str:
    """int16 samples of any length -> one transcript, piece by piece (see ``chunk_bounds``)."""
    texts = []
    for start, end in chunk_bounds(samples, rate):
        piece = samples[start:end].astype(np.float32) / 32768.0
        texts.append(transcribe(tf.constant(piece)).numpy().decode())
    return " ".join(t for t in texts if t.strip())


def load_recognizer(model: str):
    """A run folder (its export/) or an export folder -> (transcribe function, sample rate)."""
    export = os.path.join(model, "export") if os.path.isdir(os.path.join(model, "export")) else model
    if not os.path.exists(os.path.join(export, "export.json")):
        raise FileNotFoundError(f"{model}: no exported model (a run folder with export/, or an export folder)")
    facts = json.load(open(os.path.join(export, "export.json")))
    loaded = tf.saved_model.load(export)      # keep the object alive: it owns the variables
    return (lambda audio: loaded.transcribe(audio)), facts["sample_rate"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="speechmill transcribe", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                                description="Transcribe audio files with a speechmill model: one path<TAB>text "
                                            "line per file on standard output.")
    p.add_argument("--model", required=True, help="run folder or export folder")
    p.add_argument("paths", nargs="+", help="audio files or folders")
    args = p.parse_args(argv)
    transcribe, rate = load_recognizer(args.model)
    failed = 0
    files = audio_files(args.paths)
    for path in progress_iter(files, len(files), "transcribe", unit="file") if len(files) > 1 else files:
        try:
            samples = load_audio(path, rate)
        except (Reject, FileNotFoundError) as e:
            print(f"speechmill: cannot read {path}: {e}", file=sys.stderr)
            failed += 1
            continue
        print(f"{path}\t{transcribe_long(samples, rate, transcribe)}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
