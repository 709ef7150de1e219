"""Keras layers of the recognizers that know about true lengths: SpecAugment on log-mel
features, the 4x convolutional subsampling, and the Conformer block (Gulati et al. 2020).

Every layer here takes the valid-frame mask (or lengths) with its input and leaves the real
frames' outputs independent of how much padding a batch carries: padded frames are zeroed
before any convolution over time and are never attended to. SpecAugment (Park et al. 2019)
only runs with ``training=True`` and draws its masks from a Keras ``SeedGenerator``.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf


def subsampled_length(frames, factor: int = 4):
    """Frames after a subsampling by ``factor`` (ceil(T / factor)): :class:`Subsample`'s two
    stride-2 convolutions are a factor of 4 (train/encoders.py says each encoder's)."""
    return (frames + factor - 1) // factor


@keras.saving.register_keras_serializable(package="speechmill")
class SpecAugment(keras.layers.Layer):
    """(features [B, T, F], frames [B]) -> features with ``freq_masks`` bands of up to
    ``freq_width`` mel bins and ``time_masks`` spans of up to ``time_fraction`` of each
    utterance's own length set to 0 (the per-utterance mean after normalization). The spans
    lie inside the real frames. Identity unless ``training``."""

    def __init__(
        self,
        freq_masks: int = 2,
        freq_width: int = 27,
        time_masks: int = 2,
        time_fraction: float = 0.05,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.freq_masks, self.freq_width = freq_masks, freq_width
        self.time_masks, self.time_fraction = time_masks, time_fraction
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed)

    def _spans(self, count: int, width_limit, extent, axis_size):
        """[B, axis_size] float keep-mask with ``count`` random spans per row set to 0."""
        batch = tf.shape(extent)[0]
        positions = tf.range(axis_size, dtype=tf.float32)[None, :]
        keep = tf.ones([batch, axis_size], tf.float32)
        for _ in range(count):
            width = tf.floor(
                keras.random.uniform([batch], seed=self.generator) * (width_limit + 1.0)
            )
            start = tf.floor(
                keras.random.uniform([batch], seed=self.generator) * tf.maximum(extent - width, 0.0)
            )
            inside = (positions >= start[:, None]) & (positions < (start + width)[:, None])
            keep *= 1.0 - tf.cast(inside, tf.float32)
        return keep

    def call(self, features, frames, training=False):
        if not training or (self.freq_masks == 0 and self.time_masks == 0):
            return features
        dtype = features.dtype
        features = tf.cast(features, tf.float32)
        length = tf.cast(frames, tf.float32)
        bins = tf.cast(tf.shape(features)[2], tf.float32)
        keep_f = self._spans(
            self.freq_masks,
            float(self.freq_width),
            tf.fill(tf.shape(length), bins),
            tf.shape(features)[2],
        )
        keep_t = self._spans(
            self.time_masks, tf.floor(self.time_fraction * length), length, tf.shape(features)[1]
        )
        return tf.cast(features * keep_f[:, None, :] * keep_t[:, :, None], dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "freq_masks": self.freq_masks,
            "freq_width": self.freq_width,
            "time_masks": self.time_masks,
            "time_fraction": self.time_fraction,
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package="speechmill")
class Subsample(keras.layers.Layer):
    """(features [B, T, F], frames [B]) -> ([B, ceil(T/4), ceil(F/4) * channels], frames') by two
    3x3 stride-2 ReLU convolutions. Each pads one zero frame on both sides explicitly (not
    'same', whose split of the padding depends on the padded width), so a real frame's output
    does not depend on the batch's padding."""

    def __init__(self, channels: int = 32, **kwargs):
        super().__init__(**kwargs)
        self.channels = channels
        self.convs = [
            keras.layers.Conv2D(
                channels, 3, strides=2, padding="valid", activation="relu", name=f"conv_{i}"
            )
            for i in range(2)
        ]

    def build(self, input_shape):
        bins = input_shape[-1]
        shape = (None, None, bins, 1)
        for conv in self.convs:
            conv.build(shape)
            bins = (bins + 1) // 2
            shape = (None, None, bins, self.channels)
        self.out_bins = bins

    def call(self, features, frames):
        x = tf.expand_dims(features, -1)  # (not x[..., None]: TFLite has no 4-D new-axis slice)
        for conv in self.convs:
            frames = (frames + 1) // 2
            x = conv(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]))
            mask = tf.cast(tf.sequence_mask(frames, tf.shape(x)[1]), x.dtype)
            x *= tf.expand_dims(tf.expand_dims(mask, -1), -1)
        shape = tf.shape(x)
        return tf.reshape(x, [shape[0], shape[1], self.out_bins * self.channels]), frames

    def get_config(self):
        return {**super().get_config(), "channels": self.channels}


def sinusoids(length, dim: int, dtype=tf.float32):
    """[length, dim] sinusoidal position codes (Vaswani et al. 2017)."""
    position = tf.cast(tf.range(length), tf.float32)[:, None]
    scale = tf.exp(tf.range(0, dim, 2, dtype=tf.float32) * (-math.log(10000.0) / dim))[None, :]
    angles = position * scale
    codes = tf.reshape(tf.stack([tf.sin(angles), tf.cos(angles)], axis=-1), [length, dim])
    return tf.cast(codes, dtype)


@keras.saving.register_keras_serializable(package="speechmill")
class AddPositions(keras.layers.Layer):
    """x [B, T, D] -> x * sqrt(D) + sinusoidal positions, padded frames zeroed."""

    def call(self, x, mask):
        dim = x.shape[-1]
        x = x * math.sqrt(dim) + sinusoids(tf.shape(x)[1], dim, x.dtype)[None]
        return x * tf.cast(mask, x.dtype)[:, :, None]


@keras.saving.register_keras_serializable(package="speechmill")
class ConformerBlock(keras.layers.Layer):
    """One Conformer block: ½ feed-forward, multi-head self-attention over the real frames,
    convolution module (pointwise + GLU, depthwise over time, LayerNorm, swish, pointwise),
    ½ feed-forward, LayerNorm; each with a residual. (x [B, T, D], mask [B, T]) -> [B, T, D].

    The convolution module uses LayerNorm where the paper has BatchNorm: batch statistics
    would mix padded frames and other utterances into a real frame's output."""

    def __init__(
        self,
        dim: int = 144,
        heads: int = 4,
        ff_mult: int = 4,
        kernel_size: int = 15,
        dropout: float = 0.1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.dim, self.heads, self.ff_mult, self.kernel_size, self.dropout = (
            dim,
            heads,
            ff_mult,
            kernel_size,
            dropout,
        )
        L = keras.layers
        self.ff = [
            [
                L.LayerNormalization(epsilon=1e-5, name=f"ff{i}_norm"),
                L.Dense(ff_mult * dim, activation="silu", name=f"ff{i}_in"),
                L.Dropout(dropout),
                L.Dense(dim, name=f"ff{i}_out"),
                L.Dropout(dropout),
            ]
            for i in range(2)
        ]
        self.attention_norm = L.LayerNormalization(epsilon=1e-5, name="mhsa_norm")
        self.attention = L.MultiHeadAttention(heads, dim // heads, dropout=dropout, name="mhsa")
        self.attention_dropout = L.Dropout(dropout)
        self.conv_norm = L.LayerNormalization(epsilon=1e-5, name="conv_norm")
        self.pointwise_in = L.Dense(2 * dim, name="conv_pointwise_in")
        self.depthwise = L.DepthwiseConv1D(kernel_size, padding="same", name="conv_depthwise")
        self.depthwise_norm = L.LayerNormalization(epsilon=1e-5, name="conv_depthwise_norm")
        self.pointwise_out = L.Dense(dim, name="conv_pointwise_out")
        self.conv_dropout = L.Dropout(dropout)
        self.out_norm = L.LayerNormalization(epsilon=1e-5, name="out_norm")

    def build(self, input_shape):
        shape = (None, None, self.dim)
        for norm, dense_in, _, dense_out, _ in self.ff:
            norm.build(shape)
            dense_in.build(shape)
            dense_out.build((None, None, self.ff_mult * self.dim))
        self.attention_norm.build(shape)
        self.attention.build(shape, shape)
        self.conv_norm.build(shape)
        self.pointwise_in.build(shape)
        self.depthwise.build(shape)
        self.depthwise_norm.build(shape)
        self.pointwise_out.build(shape)
        self.out_norm.build(shape)

    def _feed_forward(self, i, x, training):
        norm, dense_in, drop_in, dense_out, drop_out = self.ff[i]
        return drop_out(dense_out(drop_in(dense_in(norm(x)), training=training)), training=training)

    def call(self, x, mask, training=False):
        frame_mask = tf.cast(mask, x.dtype)[:, :, None]
        x = x + 0.5 * self._feed_forward(0, x, training)
        attention_mask = tf.logical_and(mask[:, None, :], mask[:, :, None])
        h = self.attention_norm(x)
        x = x + self.attention_dropout(
            self.attention(h, h, attention_mask=attention_mask, training=training),
            training=training,
        )
        h = self.pointwise_in(self.conv_norm(x))
        h = h[..., : self.dim] * tf.sigmoid(h[..., self.dim :])  # GLU
        h = self.depthwise(h * frame_mask)  # padding never reaches real frames
        h = self.pointwise_out(tf.nn.silu(self.depthwise_norm(h)))
        x = x + self.conv_dropout(h, training=training)
        x = x + 0.5 * self._feed_forward(1, x, training)
        return self.out_norm(x) * frame_mask

    def get_config(self):
        return {
            **super().get_config(),
            "dim": self.dim,
            "heads": self.heads,
            "ff_mult": self.ff_mult,
            "kernel_size": self.kernel_size,
            "dropout": self.dropout,
        }
