"""Transcribe audio files with an exported model: ``make transcribe MODEL=<run> FILE=<path>``.

A path is an audio file (wav, flac, mp3, ogg, m4a ... any rate or channel count; ffmpeg
decodes and resamples) or a folder searched recursively; one ``path<TAB>transcript`` line is
printed per file. A file that cannot be read is reported on stderr in one line and skipped.
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


def load_recognizer(model: str):
    """A run folder (its export/) or an export folder -> (transcribe function, sample rate)."""
    export = os.path.join(model, "export") if os.path.isdir(os.path.join(model, "export")) else model
    facts = json.load(open(os.path.join(export, "export.json")))
    loaded = tf.saved_model.load(export)      # keep the object alive: it owns the variables
    return (lambda audio: loaded.transcribe(audio)), facts["sample_rate"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Transcribe audio files with a speechmill model.")
    p.add_argument("--model", required=True, help="run folder or export folder")
    p.add_argument("paths", nargs="+", help="audio files or folders")
    args = p.parse_args(argv)
    transcribe, rate = load_recognizer(args.model)
    failed = 0
    for path in audio_files(args.paths):
        try:
            samples = load_audio(path, rate).astype(np.float32) / 32768.0
        except (Reject, FileNotFoundError) as e:
            print(f"speechmill: cannot read {path}: {e}", file=sys.stderr)
            failed += 1
            continue
        print(f"{path}\t{transcribe(tf.constant(samples)).numpy().decode()}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
