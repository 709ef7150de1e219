"""`make bench` for the training input: tf.data throughput with log-mel and length bucketing.

Reads the default corpus's train split (building it first when missing), parses records,
buckets and pads batches of 16, and computes log-mel features with the model's LogMel layer
inside the pipeline (training runs that layer on the device), without a model. Reports examples/s and
x-realtime per core
(seconds of audio per CPU second of the process, all threads), for plain and augmented input.
Then the model itself: training steps of a preset (``small`` on CPU, ``base`` on a GPU) on
those batches, with the device, the replicas, the precision and XLA that ``make train`` would
use there, in examples/s and seconds of audio trained on per wall second.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from benchmarks import default_corpus

REPO = Path(__file__).resolve().parent.parent


def measure(corpus: str, augment: bool, epochs: int) -> tuple[float, float, int]:
    import tensorflow as tf

    from speechmill.train.data import batches
    from speechmill.train.features import LogMel

    layer = LogMel()
    from speechmill.augment.recipe import ON_THE_FLY

    recipe = ON_THE_FLY if augment else None
    dataset = batches(corpus, "train", batch_size=16, shuffle=True, augment=recipe)
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


def measure_training(corpus: str, preset: str | None, steps: int) -> dict:
    """Train ``steps`` steps (after 5 of warm-up: tracing, one per length bucket met) of the
    preset as ``make train`` places it here; the figures of the timed steps."""
    import keras
    import tensorflow as tf

    from speechmill.train.data import batches
    from speechmill.train.distribute import ONE_WORKER, strategy_for
    from speechmill.train.model import build_model, config_for
    from speechmill.train.optim import make_optimizer

    gpus = tf.config.list_physical_devices("GPU")
    preset = preset or ("base" if gpus else "small")
    precision = "mixed_float16" if gpus else "float32"
    keras.mixed_precision.set_global_policy(precision)
    if gpus:
        tf.config.optimizer.set_jit("autoclustering")
    strategy = strategy_for(ONE_WORKER)
    batch = 16
    with strategy.scope():
        model = build_model(config_for(preset), seed=0)
        model.compile(optimizer=make_optimizer(1e-3, 100), jit_compile=False)
    data = batches(corpus, "train", batch_size=batch, shuffle=True, repeat=True)
    model.fit(data, steps_per_epoch=5, epochs=1, verbose=0)
    lengths = data.map(lambda x, y: tf.reduce_sum(x["audio_length"])).take(steps)
    audio_seconds = sum(int(n) for n in lengths) / 16000
    start = time.time()
    model.fit(data.take(steps), steps_per_epoch=steps, epochs=1, verbose=0)
    wall = time.time() - start
    device = (
        tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
        if gpus
        else "CPU"
    )
    return {
        "preset": preset,
        "device": device,
        "replicas": strategy.num_replicas_in_sync,
        "precision": precision,
        "xla": bool(gpus),
        "examples_per_second": steps * batch / wall,
        "audio_per_second": audio_seconds / wall,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", default=str(REPO / "build" / "bench" / "augment-input"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--preset", default=None, help="model for the training line (auto)")
    parser.add_argument("--steps", type=int, default=20, help="timed training steps")
    args = parser.parse_args(argv)
    default_corpus(args.corpus)
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
    found = measure_training(args.corpus, args.preset, args.steps)
    print(
        f"\ntraining steps, {found['preset']} preset, batches of 16 ({args.steps} steps after 5 "
        f"of warm-up): {found['device']}, {found['replicas']} replica(s), {found['precision']}, "
        f"XLA {'on' if found['xla'] else 'off'}: {found['examples_per_second']:.1f} examples/s, "
        f"{found['audio_per_second']:.0f} s of audio per second"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
