"""One device against two: run as ``python tests/replicas.py CORPUS RUN_FOLDER`` in a fresh
process (the CPU is split into two logical devices before TensorFlow starts, which a pytest
process that has already used TensorFlow cannot do). Prints one JSON object of measurements
that tests/test_distribute.py asserts on: loss and gradient differences for an even and an
uneven global batch, what each replica was given, the weights, step counts and learning rates
that ``fit`` reaches on one and on two devices (gradient accumulation on), and the two-device
checkpoint's predictions when loaded without the strategy."""

from __future__ import annotations

import dataclasses
import json
import sys

import numpy as np


def main(corpus: str, run: str) -> dict:
    from speechmill.train.distribute import ONE_WORKER, strategy_for

    two = strategy_for(ONE_WORKER, cpu_devices=2)  # first: splits the CPU before TF starts
    import keras
    import tensorflow as tf

    from speechmill.corpus.reader import load_info
    from speechmill.train.data import batches
    from speechmill.train.model import build_model, config_for, load_model
    from speechmill.train.train import TrainingConfig, fit

    # random layers off, so one device and two draw nothing different
    sizes = dict(d_model=32, heads=2, layers=1, kernel_size=7, conv_channels=8, dropout=0.0)
    model_config = config_for("small", **sizes, freq_warp=0.0, freq_masks=0, time_masks=0)
    x, y = next(iter(batches(corpus, "train", batch_size=4)))
    out: dict = {"replicas": two.num_replicas_in_sync, "global_batch": int(x["audio"].shape[0])}

    def one_device(model, x, y):
        with tf.GradientTape() as tape:
            loss = model.compute_loss(x, y, model(x, training=True))
        return loss, tape.gradient(loss, model.trainable_variables)

    keras.utils.set_random_seed(0)
    single = build_model(model_config, seed=0)
    with two.scope():
        mirrored = build_model(model_config, seed=0)
    mirrored.set_weights(single.get_weights())

    for name, take in (("even", 4), ("uneven", 3)):
        xs = {k: v[:take] for k, v in x.items()}
        ys = {k: v[:take] for k, v in y.items()}
        loss, grads = one_device(single, xs, ys)
        given = two.experimental_distribute_dataset(
            tf.data.Dataset.from_tensors((xs, ys)).unbatch().batch(take)
        )
        xd, yd = next(iter(given))
        sizes_given = [int(v.shape[0]) for v in two.experimental_local_results(xd["audio"])]
        loss2, grads2 = two.run(lambda x, y: one_device(mirrored, x, y), args=(xd, yd))
        loss2 = two.reduce("SUM", loss2, axis=None)
        grads2 = [two.reduce("SUM", g, axis=None) for g in grads2]
        out[name] = {
            "per_replica": sizes_given,
            "loss": [float(loss), float(loss2)],
            "gradient_max_abs": max(float(tf.reduce_max(tf.abs(g))) for g in grads),
            "gradient_max_diff": max(
                float(tf.reduce_max(tf.abs(a - b))) for a, b in zip(grads, grads2, strict=True)
            ),
        }

    info = load_info(corpus)
    base = TrainingConfig(
        data=corpus,
        run=f"{run}/one",
        preset="small",
        model=model_config,
        batch_size=4,
        accumulate=2,
        learning_rate=2e-3,
        warmup_steps=2,
        decay="rsqrt",
        weight_decay=1e-3,
        ema=0.0,
        augment=None,
        seed=0,
        steps=6,
        epochs=None,
        minutes=None,
        sample_rate=info["sample_rate"],
    )
    runs = {}
    for name, strategy in (("one", tf.distribute.get_strategy()), ("two", two)):
        config = dataclasses.replace(base, run=f"{run}/{name}")
        model, done = fit(config, info, strategy)
        runs[name] = {
            "weights": model.get_weights(),
            "iterations": int(model.optimizer.iterations.numpy()),
            "learning_rate": float(np.asarray(model.optimizer.learning_rate)),
            "steps": done["steps"],
            "model": model,
        }
    out["fit"] = {
        name: {k: v for k, v in r.items() if k in ("iterations", "learning_rate", "steps")}
        for name, r in runs.items()
    }
    out["fit"]["weight_max_diff"] = max(
        float(np.max(np.abs(a - b)))
        for a, b in zip(runs["one"]["weights"], runs["two"]["weights"], strict=True)
    )
    out["fit"]["weight_max_change"] = max(
        float(np.max(np.abs(a - b)))
        for a, b in zip(runs["one"]["weights"], single.get_weights(), strict=True)
    )
    loaded = load_model(f"{run}/two/model.keras")  # outside the strategy: one device
    inputs = {"audio": x["audio"], "audio_length": x["audio_length"]}
    out["checkpoint_max_diff"] = float(
        np.max(np.abs(loaded(inputs).numpy() - runs["two"]["model"](inputs).numpy()))
    )
    out["loaded_on"] = str(loaded.weights[0].value.device)
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
