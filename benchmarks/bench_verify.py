"""`make bench` for verification: `make verify` beside the model's forward pass alone (the floor).

On the default corpus (built first when missing) with a model of the default size (the cost of
a forward pass and of CTC segmentation does not depend on what the weights learned, so an
untrained one is measured unless ``--model`` names a run). Three figures, each as x-realtime
per core (seconds of audio per CPU second, all threads and worker processes counted):
the forward pass alone in batches of 16 (what any verifier must pay), the forward pass plus
CTC segmentation of every transcript in one process, and the whole Beam job on the default
runner (reading, re-timing, writing shards; Beam and TensorFlow start-up included).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import default_corpus

REPO = Path(__file__).resolve().parent.parent


def cpu_seconds() -> float:
    """CPU time of this process and its finished children, all threads."""
    me, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def default_model(folder: Path) -> Path:
    from speechmill.train.model import ModelConfig, build_model

    run = folder / "untrained"
    run.mkdir(parents=True, exist_ok=True)
    build_model(ModelConfig()).save(run / "model.keras")
    return run


def load_corpus(corpus: str) -> list:
    from speechmill.corpus.schema import decode_utterance
    from speechmill.corpus.tfrecord import read_records

    info = json.loads((Path(corpus) / "info.json").read_text())
    out = []
    for split in info["splits"].values():
        for name in split["shards"]:
            with open(Path(corpus) / name, "rb") as f:
                out += [decode_utterance(r) for r in read_records(f, name)]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", default=str(REPO / "build" / "bench" / "augment-input"))
    parser.add_argument(
        "--model", default=None, help="a trained run (default: an untrained default-size model)"
    )
    args = parser.parse_args(argv)
    default_corpus(args.corpus)
    import numpy as np

    from speechmill.train.verify import CannotAlign, TrainedModel, align

    with tempfile.TemporaryDirectory(prefix="speechmill-bench-verify-") as tmp:
        run = Path(args.model) if args.model else default_model(Path(tmp))
        utterances = load_corpus(args.corpus)
        seconds = sum(u.num_samples for u in utterances) / 16000
        waves = [u.audio.astype(np.float32) / 32768.0 for u in utterances]
        recognizer = TrainedModel(str(run))
        recognizer.log_probs(waves[:16])  # warm up
        start = cpu_seconds()
        posteriors = recognizer.log_probs(waves)
        forward = cpu_seconds() - start
        start = cpu_seconds()
        for u, lp in zip(utterances, posteriors):
            try:
                align(lp, u.text, recognizer.frame_seconds)
            except CannotAlign:
                pass
        segmentation = cpu_seconds() - start
        out = Path(tmp) / "verified"
        before, wall = cpu_seconds(), time.time()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "speechmill.cli",
                "verify",
                "--input",
                args.corpus,
                "--output",
                str(out),
                "--model",
                str(run),
                "--min-score",
                "-1000",
                "--progress",
                "none",
                "--log-level",
                "ERROR",
            ],
            cwd=REPO,
            check=True,
            capture_output=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )
        job, wall = cpu_seconds() - before, time.time() - wall
    which = f"run {args.model}" if args.model else "an untrained default-size model"
    print(
        f"\nverify: {len(utterances)} utterances, {seconds / 60:.1f} min of speech, {which}; "
        "x-realtime per core (audio s / CPU s):"
    )
    print(f"  {'forward pass alone (the floor)':<44} {seconds / forward:8.1f}x")
    print(
        f"  {'forward pass + CTC segmentation':<44} {seconds / (forward + segmentation):8.1f}x"
        f"   (segmentation alone {seconds / segmentation:.0f}x)"
    )
    print(
        f"  {'make verify, whole job, default runner':<44} {seconds / job:8.1f}x"
        f"   ({wall:.1f} s wall on {os.cpu_count()} cores, start-up included)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
