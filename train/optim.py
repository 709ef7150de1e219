"""The optimizer of a training run: AdamW on a warm-up + decay learning-rate schedule, with
gradient clipping and optional weight EMA (Keras 3 built-ins).

``WarmupDecay(peak, warmup_steps, decay)``: linear warm-up from 0 to ``peak`` over
``warmup_steps`` optimizer updates, then ``"rsqrt"`` (peak * sqrt(warmup / step), the
Transformer schedule, needs no total) or ``"constant"``. Gradient accumulation is the model's
(train/model.py CTCModel.train_step: one update per step from a batch cut into pieces), so the
schedule counts updates.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from speechmill.corpus.errors import UsageError
from speechmill.train.presets import DECAYS


@keras.saving.register_keras_serializable(package="speechmill")
class WarmupDecay(keras.optimizers.schedules.LearningRateSchedule):
    """step (optimizer updates done) -> learning rate."""

    def __init__(self, peak: float, warmup_steps: int, decay: str = "rsqrt"):
        if decay not in DECAYS:
            raise UsageError(f"unknown decay {decay!r}; choose one of {', '.join(DECAYS)}")
        self.peak, self.warmup_steps, self.decay = float(peak), int(warmup_steps), decay

    def __call__(self, step):
        step = tf.cast(step, tf.float32) + 1.0
        warmup = float(max(self.warmup_steps, 1))
        rising = self.peak * step / warmup
        after = (
            self.peak * tf.sqrt(warmup / step) if self.decay == "rsqrt" else tf.constant(self.peak)
        )
        return tf.where(step < warmup, rising, after)

    def get_config(self):
        return {"peak": self.peak, "warmup_steps": self.warmup_steps, "decay": self.decay}


@keras.saving.register_keras_serializable(package="speechmill")
class AdamW(keras.optimizers.AdamW):
    """Keras's AdamW for gradients the model has already summed over the replicas
    (CTCModel.train_step): Keras would sum them again, after clipping each replica's part;
    here clipping sees the global batch's gradient, as on one device."""

    def _all_reduce_sum_gradients(self, grads_and_vars):
        return grads_and_vars


def make_optimizer(
    peak: float,
    warmup_steps: int,
    decay: str = "rsqrt",
    *,
    weight_decay: float = 1e-3,
    clipnorm: float = 5.0,
    ema: float = 0.0,
) -> keras.optimizers.Optimizer:
    """AdamW on :class:`WarmupDecay`; ``ema`` > 0 keeps an exponential moving average of the
    weights (momentum ``ema``) that replaces them at the end of training."""
    return AdamW(
        WarmupDecay(peak, warmup_steps, decay),
        weight_decay=weight_decay,
        clipnorm=clipnorm,
        use_ema=ema > 0,
        ema_momentum=ema if ema > 0 else 0.99,
    )
