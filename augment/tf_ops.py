"""On-the-fly augmentation as TensorFlow ops, for tf.data pipelines or inside a model.

All randomness is stateless: every op takes a ``seed`` tensor of shape [2] (int32/int64), so
the same seed gives the same result on any device. ``augment_dataset`` gives each element its
own seed from (seed, element index); on a repeated dataset every epoch draws fresh effects.

- ``add_noise(audio, snr_db, seed)``: white noise at a target SNR
- ``random_gain(audio, min_db, max_db, seed)``
- ``change_speed(audio, factor)``: ``make augment``'s own ``speed`` (soxr resampling: length / factor)
- ``spec_augment(features, seed, ...)``: SpecAugment time and frequency masks on [time, freq]

``speed``, ``gain`` and ``noise`` are the ops that rows of ``augment.effects.EFFECTS`` name as
their ``tf_op`` (each ``(audio, value, seed) -> audio``); ``augment_dataset`` applies a recipe
written in the same language as ``make augment`` (augment/recipe.py) with them.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from speechmill.augment import effects
from speechmill.augment.effects import EFFECTS
from speechmill.augment.recipe import ON_THE_FLY, parse_on_the_fly

NOMINAL_RATE = 16000  # soxr's speed change depends on the ratio of rates only


def _rms(x: tf.Tensor) -> tf.Tensor:
    return tf.sqrt(tf.reduce_mean(tf.square(x)) + 1e-12)


def add_noise(audio: tf.Tensor, snr_db, seed: tf.Tensor) -> tf.Tensor:
    """Add white noise so that signal RMS / noise RMS is ``snr_db`` decibels."""
    noise = tf.random.stateless_normal(tf.shape(audio), seed=seed, dtype=audio.dtype)
    scale = _rms(audio) / (_rms(noise) * tf.pow(10.0, tf.cast(snr_db, audio.dtype) / 20.0))
    return audio + scale * noise


def random_gain(audio: tf.Tensor, min_db: float, max_db: float, seed: tf.Tensor) -> tf.Tensor:
    db = tf.random.stateless_uniform([], seed=seed, minval=min_db, maxval=max_db)
    return audio * tf.pow(10.0, db / 20.0)


def change_speed(audio: tf.Tensor, factor) -> tf.Tensor:
    """Play ``factor`` times faster (tempo and pitch together): ``make augment``'s ``speed``
    itself (augment/effects.py: soxr's band-limited resampling), run inside tf.data through
    ``tf.numpy_function``, so the effect named ``speed`` is one thing on and off the fly. The
    result depends on the factor alone, not on the sample rate."""

    def offline(x, f):
        return effects.speed(x.astype(np.float32, copy=False), NOMINAL_RATE, float(f))

    out = tf.numpy_function(offline, [tf.cast(audio, tf.float32), factor], tf.float32)
    return tf.ensure_shape(out, [None])


def spec_augment(
    features: tf.Tensor,
    seed: tf.Tensor,
    *,
    time_masks: int = 2,
    time_width: int = 20,
    freq_masks: int = 2,
    freq_width: int = 10,
) -> tf.Tensor:
    """Zero ``time_masks`` bands of up to ``time_width`` frames and ``freq_masks`` bands of up to
    ``freq_width`` bins of a [time, freq] feature matrix."""
    t, f = tf.shape(features)[0], tf.shape(features)[1]
    keep = tf.ones_like(features)
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), time_masks + freq_masks)
    for i in range(time_masks + freq_masks):
        along_time = i < time_masks
        size, width = (t, time_width) if along_time else (f, freq_width)
        pair = tf.random.experimental.stateless_split(seeds[i], 2)
        w = tf.random.stateless_uniform(
            [], seed=pair[0], maxval=tf.minimum(width, size) + 1, dtype=tf.int32
        )
        start = tf.random.stateless_uniform(
            [], seed=pair[1], maxval=tf.maximum(size - w, 0) + 1, dtype=tf.int32
        )
        band = tf.logical_and(tf.range(size) >= start, tf.range(size) < start + w)
        band = tf.cast(tf.logical_not(band), features.dtype)
        keep *= band[:, None] if along_time else band[None, :]
    return features * keep


def speed(audio: tf.Tensor, factor, seed: tf.Tensor) -> tf.Tensor:
    """The ``speed`` row's op: ``change_speed`` (the seed is not needed)."""
    return change_speed(audio, factor)


def gain(audio: tf.Tensor, db, seed: tf.Tensor) -> tf.Tensor:
    """The ``gain`` row's op: scale by ``db`` decibels."""
    return audio * tf.pow(10.0, tf.cast(db, audio.dtype) / 20.0)


def noise(audio: tf.Tensor, snr_db, seed: tf.Tensor) -> tf.Tensor:
    """The ``noise`` row's op: white noise at ``snr_db`` (``add_noise``)."""
    return add_noise(audio, snr_db, seed)


def augment_dataset(
    dataset: tf.data.Dataset, seed: int, recipe: str = ON_THE_FLY
) -> tf.data.Dataset:
    """Augment the ``audio`` of each element of a speechmill dataset (see train/data.py) with a
    recipe in ``make augment``'s language: every step, in the table's order, applies to a share
    ``@p`` of the elements (all without ``@``) with a value drawn for each element (one of the
    listed values, or uniformly from a range). ``num_samples`` follows the new length."""
    steps = parse_on_the_fly(recipe).steps
    ops = [globals()[EFFECTS[step.effect].tf_op] for step in steps]
    order = sorted(range(len(steps)), key=lambda i: list(EFFECTS).index(steps[i].effect))

    def value_of(step, seed_pair):
        if len(step.values) > 1:
            values = tf.constant(step.values, tf.float32)
            pick = tf.random.stateless_uniform(
                [], seed=seed_pair, maxval=len(step.values), dtype=tf.int32
            )
            return values[pick]
        if step.values:
            return tf.constant(step.values[0], tf.float32)
        if step.low is not None:
            return tf.random.stateless_uniform(
                [], seed=seed_pair, minval=step.low, maxval=step.high
            )
        return tf.constant(1.0, tf.float32)

    def one(index, example):
        seeds = tf.random.experimental.stateless_split(
            tf.stack([tf.cast(seed, tf.int64), index]), 3 * len(steps)
        )
        audio = example["audio"]
        for i in order:
            step, op = steps[i], ops[i]
            value = value_of(step, seeds[3 * i])
            if step.probability < 1.0:
                chosen = tf.random.stateless_uniform([], seed=seeds[3 * i + 1]) < step.probability
                audio = tf.cond(
                    chosen,
                    lambda a=audio, o=op, v=value, s=seeds[3 * i + 2]: o(a, v, s),
                    lambda a=audio: a,
                )
            else:
                audio = op(audio, value, seeds[3 * i + 2])
        return {**example, "audio": audio, "num_samples": tf.cast(tf.shape(audio)[0], tf.int64)}

    return dataset.enumerate().map(one, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
