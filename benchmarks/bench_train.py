"""`make bench` for the training input: tf.data throughput with log-mel and length bucketing.

Reads the default corpus's train split (building it first when missing), parses records,
buckets and pads batches of 16, and computes log-mel features with the model's LogMel layer
inside the pipeline (training runs that layer on the device), without a model. Reports examples/s and
x-realtime per core
(seconds of audio per CPU second of the process, all threads), for plain and augmented input.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def measure(corpus: str, augment: bool, epochs: int) -> tuple[float, float, int]:
    import tensorflow as tf

    from speechmill.train.data import batches
    from speechmill.train.features import LogMel

    layer = LogMel()
    dataset = batches(corpus, "train", batch_size=16, shuffle=True, augment=augment)
    dataset = dataset.map(
        lambda x, y: (layer(x["audio"], x["audio_length"])[0], x["audio_length"]),
        num_parallel_calls=tf.data.AUTOTUNE,
    ).prefetch(4)
    for _ in dataset.take(8):  # warm up: trace the functions, fill buffers
        pass
    start_cpu, start_wall, samples, count = time.process_time(), time.time(), 0, 0
    for _ in range(epochs):
        for features, lengths in dataset:
            samples += int(lengths.numpy().sum())
            count += int(features.shape[0])
    seconds = samples / 16000
    return seconds / (time.process_time() - start_cpu), count / (time.time() - start_wall), count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", default=str(REPO / "build" / "bench" / "augment-input"))
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)
    if not (Path(args.corpus) / "info.json").exists():
        from speechmill.pipelines.build_corpus import run as build

        build(
            [
                "--config",
                str(REPO / "configs" / "default.toml"),
                "--output",
                args.corpus,
                "--log-level",
                "ERROR",
            ]
        )
    info = json.loads((Path(args.corpus) / "info.json").read_text())
    print(
        f"\ntf.data training input on {info['splits']['train']['hours']:.2f} h of train speech "
        f"({args.epochs} passes, batches of 16, log-mel 80 x 10 ms, 8 length buckets):"
    )
    for augment in (False, True):
        xrt, per_second, count = measure(args.corpus, augment, args.epochs)
        label = "with on-the-fly speed/gain/noise" if augment else "plain"
        print(
            f"  {label:<34} {per_second:>7.0f} examples/s wall, {xrt:>7.0f}x realtime per core ({count} examples)"
        )
    print("goal: >= 2000x realtime per core on CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
