"""A compact CTC recognizer: log-mel -> 2 strided convolutions (4x time subsampling) -> BiGRU
stack -> per-frame character logits. Token 0 is the CTC blank and the label padding.

``build_model(ModelConfig)`` returns a :class:`CTCModel`, a Keras 3 model whose inputs are
``{"audio": [B, N], "audio_length": [B]}`` and whose targets are ``{"labels": [B, L],
"label_length": [B]}``; its loss is ``keras.ops.ctc_loss`` with the true feature and label
lengths (never the padded widths). ``output_lengths`` gives the logit lengths for decoding.
"""
from __future__ import annotations

import dataclasses

import keras
import tensorflow as tf

from corpus.schema import ALPHABET
from train.features import LogMel


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    n_mels: int = 80
    conv_channels: int = 32
    rnn_units: int = 192
    rnn_layers: int = 2
    dropout: float = 0.1
    sample_rate: int = 16000

    @property
    def vocabulary(self) -> int:
        return len(ALPHABET) + 1          # + blank


def output_lengths(audio_length):
    """Logit frames for an audio length: feature frames, then two stride-2 'same' convolutions."""
    frames = tf.maximum(0, (tf.cast(audio_length, tf.int32) - 400) // 160 + 1)
    return (frames + 3) // 4


@keras.saving.register_keras_serializable(package="speechmill")
class CTCModel(keras.Model):
    """Keras model whose loss is CTC over the real (unpadded) lengths."""

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return tf.reduce_mean(ctc_loss(y["labels"], y_pred, x["audio_length"]))


def ctc_loss(labels, logits, audio_length):
    """Per-utterance CTC loss; labels are 0-padded ids, blank is 0.

    Same computation as ``keras.ops.ctc_loss`` (both call ``tf.nn.ctc_loss``), but with the
    labels as a SparseTensor, which selects TensorFlow's C++ CTC kernel: with dense labels
    TensorFlow runs a scan over the padded label width, ~20x slower on CPU for our batches.
    """
    logit_length = tf.minimum(output_lengths(audio_length), tf.shape(logits)[1])
    sparse = tf.sparse.from_dense(tf.cast(labels, tf.int32))      # drops the 0 padding
    return tf.nn.ctc_loss(labels=sparse, logits=tf.cast(logits, tf.float32), label_length=None,
                          logit_length=logit_length, logits_time_major=False, blank_index=0)


@keras.saving.register_keras_serializable(package="speechmill")
class FrameMask(keras.layers.Layer):
    """(frames [B, T, D], audio_length [B]) -> bool mask [B, T] of the real (unpadded) frames."""

    def call(self, frames, audio_length):
        return tf.sequence_mask(output_lengths(audio_length), tf.shape(frames)[1])


def build_model(config: ModelConfig = ModelConfig()) -> CTCModel:
    audio = keras.Input(shape=(None,), name="audio", dtype="float32")
    audio_length = keras.Input(shape=(), name="audio_length", dtype="int32")
    features, _ = LogMel(config.sample_rate, config.n_mels, name="log_mel")(audio, audio_length)
    x = keras.layers.Reshape((-1, config.n_mels, 1))(features)
    for i in range(2):
        x = keras.layers.Conv2D(config.conv_channels, 3, strides=2, padding="same", activation="relu",
                                name=f"subsample_{i}")(x)
    x = keras.layers.Reshape((-1, ((config.n_mels + 3) // 4) * config.conv_channels))(x)
    x = keras.layers.Dense(2 * config.rnn_units, activation="relu", name="project")(x)
    x = keras.layers.Dropout(config.dropout)(x)
    mask = FrameMask(name="frame_mask")(x, audio_length)
    for i in range(config.rnn_layers):
        x = keras.layers.Bidirectional(keras.layers.GRU(config.rnn_units, return_sequences=True),
                                       name=f"bigru_{i}")(x, mask=mask)
        x = keras.layers.Dropout(config.dropout)(x)
    logits = keras.layers.Dense(config.vocabulary, dtype="float32", name="logits")(x)
    return CTCModel(inputs={"audio": audio, "audio_length": audio_length}, outputs=logits, name="speechmill_ctc")
