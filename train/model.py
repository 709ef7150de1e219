"""A compact CTC recognizer: log-mel -> 2 strided convolutions (4x time subsampling) -> BiGRU
stack -> per-frame character logits. Token 0 is the CTC blank and the label padding.

``build_model(ModelConfig)`` returns a :class:`CTCModel`, a Keras 3 model whose inputs are
``{"audio": [B, N], "audio_length": [B]}`` and whose targets are ``{"labels": [B, L],
"label_length": [B]}``; its loss is ``tf.nn.ctc_loss`` with sparse labels (TensorFlow's C++
kernel) over the true logit and label lengths, never the padded widths.
``output_lengths(audio_length, sample_rate)`` gives the logit lengths: the feature frames that
``train/features.py`` defines, then this model's subsampling.
"""
from __future__ import annotations

import dataclasses

import keras
import tensorflow as tf

from corpus.schema import ALPHABET
from train.features import LogMel, frames_for


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


SUBSAMPLING = 4        # two stride-2 convolutions: one logit frame per 4 feature frames


def output_lengths(audio_length, sample_rate: int):
    """Logit frames for an audio length: feature frames, then two stride-2 'same' convolutions."""
    return (frames_for(audio_length, sample_rate) + SUBSAMPLING - 1) // SUBSAMPLING


def sample_rate_of(model: keras.Model) -> int:
    """The sample rate a built model's log-mel layer expects."""
    return int(model.get_layer("log_mel").sample_rate)


@keras.saving.register_keras_serializable(package="speechmill")
class CTCModel(keras.Model):
    """Keras model whose loss is CTC over the real (unpadded) lengths."""

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return tf.reduce_mean(ctc_loss(y["labels"], y_pred, x["audio_length"], sample_rate_of(self)))


def ctc_loss(labels, logits, audio_length, sample_rate: int):
    """Per-utterance CTC loss; labels are 0-padded ids, blank is 0.

    Same computation as ``keras.ops.ctc_loss`` (both call ``tf.nn.ctc_loss``), but with the
    labels as a SparseTensor, which selects TensorFlow's C++ CTC kernel: with dense labels
    TensorFlow runs a scan over the padded label width, ~20x slower on CPU for our batches.
    """
    logit_length = tf.minimum(output_lengths(audio_length, sample_rate), tf.shape(logits)[1])
    sparse = tf.sparse.from_dense(tf.cast(labels, tf.int32))      # drops the 0 padding
    return tf.nn.ctc_loss(labels=sparse, logits=tf.cast(logits, tf.float32), label_length=None,
                          logit_length=logit_length, logits_time_major=False, blank_index=0)


@keras.saving.register_keras_serializable(package="speechmill")
class FrameMask(keras.layers.Layer):
    """(frames [B, T, D], audio_length [B]) -> bool mask [B, T] of the real (unpadded) frames."""

    def __init__(self, sample_rate: int = 16000, **kwargs):
        super().__init__(**kwargs)
        self.sample_rate = sample_rate

    def call(self, frames, audio_length):
        return tf.sequence_mask(output_lengths(audio_length, self.sample_rate), tf.shape(frames)[1])

    def get_config(self):
        return {**super().get_config(), "sample_rate": self.sample_rate}


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
    mask = FrameMask(config.sample_rate, name="frame_mask")(x, audio_length)
    for i in range(config.rnn_layers):
        x = keras.layers.Bidirectional(keras.layers.GRU(config.rnn_units, return_sequences=True),
                                       name=f"bigru_{i}")(x, mask=mask)
        x = keras.layers.Dropout(config.dropout)(x)
    logits = keras.layers.Dense(config.vocabulary, dtype="float32", name="logits")(x)
    return CTCModel(inputs={"audio": audio, "audio_length": audio_length}, outputs=logits, name="speechmill_ctc")
