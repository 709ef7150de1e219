"""Log-mel features as a Keras layer, so they are computed where the model runs (GPU or CPU).

25 ms windows every 10 ms (400/160 samples at 16 kHz), 512-point FFT, 80 mel bands from 20 Hz
to 7.6 kHz, natural log of power + 1e-6, then per-utterance mean/variance normalization over
the valid frames only (lengths travel with the batch; padding never leaks into statistics).
"""
from __future__ import annotations

import keras
import tensorflow as tf

WINDOW, HOP, FFT = 400, 160, 512


def frames_for(num_samples):
    """Number of feature frames for ``num_samples`` samples (no padding at the edges)."""
    return tf.maximum(0, (num_samples - WINDOW) // HOP + 1)


@keras.saving.register_keras_serializable(package="speechmill")
class LogMel(keras.layers.Layer):
    """(audio [B, N] float32, lengths [B]) -> (normalized log-mel [B, T, n_mels], frame lengths [B])."""

    def __init__(self, sample_rate: int = 16000, n_mels: int = 80, **kwargs):
        super().__init__(**kwargs)
        self.sample_rate, self.n_mels = sample_rate, n_mels
        self.mel = tf.signal.linear_to_mel_weight_matrix(n_mels, FFT // 2 + 1, sample_rate, 20.0, 7600.0)

    def call(self, audio, lengths):
        audio = tf.cast(audio, tf.float32)
        spectrum = tf.signal.stft(audio, WINDOW, HOP, FFT, pad_end=False)
        power = tf.math.real(spectrum * tf.math.conj(spectrum))
        features = tf.math.log(tf.tensordot(power, self.mel, 1) + 1e-6)
        frames = frames_for(tf.cast(lengths, tf.int32))
        mask = tf.sequence_mask(frames, tf.shape(features)[1], dtype=tf.float32)[:, :, None]
        count = tf.maximum(tf.reduce_sum(mask, axis=1, keepdims=True), 1.0)
        mean = tf.reduce_sum(features * mask, axis=1, keepdims=True) / count
        var = tf.reduce_sum(tf.square(features - mean) * mask, axis=1, keepdims=True) / count
        return (features - mean) * tf.math.rsqrt(var + 1e-5) * mask, frames

    def get_config(self):
        return {**super().get_config(), "sample_rate": self.sample_rate, "n_mels": self.n_mels}
