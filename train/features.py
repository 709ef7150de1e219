"""Log-mel features as a Keras layer, so they are computed where the model runs (GPU or CPU).

Windows of 25 ms every 10 ms at any sample rate (400/160 samples at 16 kHz, 200/80 at 8 kHz,
551/220 at 22.05 kHz), an FFT of the next power of two, 80 mel bands from 20 Hz to 7.6 kHz (or
to 95 % of the Nyquist frequency when that is lower), natural log of power + 1e-6, then
per-utterance mean/variance normalization over the valid frames only (lengths travel with
the batch; padding never leaks into statistics). In training, ``warp`` > 0 also moves every
utterance's spectrum along the frequency axis by a random factor in [1 - warp, 1 + warp]
(vocal tract length perturbation, Jaitly & Hinton 2013: a voice with a shorter or longer vocal
tract, at the same tempo and pitch contour). This module owns the frame arithmetic:
``frames_for`` is the one definition of how many frames a length gives.
"""

from __future__ import annotations

import keras
import tensorflow as tf

WINDOW_MS, HOP_MS = 25.0, 10.0
MEL_LOW_HZ, MEL_HIGH_HZ = 20.0, 7600.0


def window_samples(sample_rate: int) -> int:
    return int(round(sample_rate * WINDOW_MS / 1000))


def hop_samples(sample_rate: int) -> int:
    return int(round(sample_rate * HOP_MS / 1000))


def fft_size(sample_rate: int) -> int:
    return 1 << (window_samples(sample_rate) - 1).bit_length()


def frames_for(num_samples, sample_rate: int):
    """Number of feature frames for ``num_samples`` samples at ``sample_rate`` (no edge padding)."""
    window, hop = window_samples(sample_rate), hop_samples(sample_rate)
    return tf.maximum(0, (tf.cast(num_samples, tf.int32) - window) // hop + 1)


def warp_frequencies(power, factors):
    """power [B, T, K] over linear-frequency bins, factors [B] -> the same spectra with what was
    at frequency f moved to f * factor (linear interpolation between bins; above the top bin
    the top bin's value)."""
    bins = tf.shape(power)[-1]
    source = tf.range(bins, dtype=tf.float32)[None, :] / tf.cast(factors, tf.float32)[:, None]
    source = tf.minimum(source, tf.cast(bins - 1, tf.float32))
    low = tf.floor(source)
    weight = (source - low)[:, None, :]
    low = tf.cast(low, tf.int32)
    high = tf.minimum(low + 1, bins - 1)
    below = tf.gather(power, low, axis=2, batch_dims=1)
    above = tf.gather(power, high, axis=2, batch_dims=1)
    return below * (1.0 - weight) + above * weight


@keras.saving.register_keras_serializable(package="speechmill")
class LogMel(keras.layers.Layer):
    """(audio [B, N] float32, lengths [B]) -> (normalized log-mel [B, T, n_mels], frame lengths [B])."""

    def __init__(
        self,
        sample_rate: int = 16000,
        n_mels: int = 80,
        warp: float = 0.0,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.sample_rate, self.n_mels, self.warp, self.seed = sample_rate, n_mels, warp, seed
        # only a warping layer holds a seed state, so models saved without one still load
        self.generator = keras.random.SeedGenerator(seed) if warp > 0 else None
        high = min(MEL_HIGH_HZ, 0.475 * sample_rate)
        self.mel = tf.signal.linear_to_mel_weight_matrix(
            n_mels, fft_size(sample_rate) // 2 + 1, sample_rate, MEL_LOW_HZ, high
        )

    def log_mel(self, audio, training=False):
        """audio [B, N] -> natural-log mel energies [B, frames, n_mels] before normalization
        (frequency-warped when ``training`` and ``warp`` > 0)."""
        audio = tf.cast(audio, tf.float32)
        rate = self.sample_rate
        spectrum = tf.signal.stft(
            audio, window_samples(rate), hop_samples(rate), fft_size(rate), pad_end=False
        )
        power = tf.square(tf.math.real(spectrum)) + tf.square(
            tf.math.imag(spectrum)
        )  # TFLite builtins
        if training and self.warp > 0:
            factors = keras.random.uniform(
                tf.shape(audio)[:1], 1.0 - self.warp, 1.0 + self.warp, seed=self.generator
            )
            power = warp_frequencies(power, factors)
        return tf.math.log(tf.tensordot(power, self.mel, 1) + 1e-6)

    def call(self, audio, lengths, training=False):
        features = self.log_mel(audio, training)
        frames = frames_for(lengths, self.sample_rate)
        mask = tf.sequence_mask(frames, tf.shape(features)[1], dtype=tf.float32)[:, :, None]
        count = tf.maximum(tf.reduce_sum(mask, axis=1, keepdims=True), 1.0)
        mean = tf.reduce_sum(features * mask, axis=1, keepdims=True) / count
        var = tf.reduce_sum(tf.square(features - mean) * mask, axis=1, keepdims=True) / count
        return (features - mean) * tf.math.rsqrt(var + 1e-5) * mask, frames

    def get_config(self):
        return {
            **super().get_config(),
            "sample_rate": self.sample_rate,
            "n_mels": self.n_mels,
            "warp": self.warp,
            "seed": self.seed,
        }
