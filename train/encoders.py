"""The encoders, one row each: what sits between the log-mel features and the character logits.

A row names the ``ModelConfig`` fields it reads (the others are ignored: a flat config keeps
every saved ``config.json`` loadable), its time subsampling (feature frames per logit frame,
which CTC lengths, export's ``frame_seconds`` and verify's word times read through
``subsampling_of(model)``), a check of a config, and the function that builds it. A model's
name is ``speechmill_<encoder>``, so a saved model says which row made it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import keras

from speechmill.train.layers import AddPositions, ConformerBlock, Subsample

SHARED_FIELDS = ("architecture", "n_mels", "conv_channels", "dropout", "sample_rate")


@dataclasses.dataclass(frozen=True)
class Encoder:
    name: str
    help: str
    subsampling: int  # feature frames per logit frame
    fields: tuple[str, ...]  # the ModelConfig fields it reads besides SHARED_FIELDS
    check: Callable[[Any], str | None]  # a config -> why it cannot be built, or None
    build: Callable[..., Any]  # (features, frames, audio_length, config, mask_layer) -> x


def _conformer(features, frames, audio_length, config, mask_layer):
    x, _ = Subsample(config.conv_channels, name="subsample")(features, frames)
    mask = mask_layer(x, audio_length)
    x = keras.layers.Dense(config.d_model, name="project")(x)
    x = keras.layers.Dropout(config.dropout)(AddPositions(name="positions")(x, mask))
    for i in range(config.layers):
        x = ConformerBlock(
            config.d_model,
            config.heads,
            4,
            config.kernel_size,
            config.dropout,
            name=f"conformer_{i}",
        )(x, mask)
    return x


def _bigru(features, frames, audio_length, config, mask_layer):
    """The first speechmill model, layer for layer (earlier runs load unchanged)."""
    x = keras.layers.Reshape((-1, config.n_mels, 1))(features)
    for i in range(2):
        x = keras.layers.Conv2D(
            config.conv_channels,
            3,
            strides=2,
            padding="same",
            activation="relu",
            name=f"subsample_{i}",
        )(x)
    x = keras.layers.Reshape((-1, ((config.n_mels + 3) // 4) * config.conv_channels))(x)
    mask = mask_layer(x, audio_length)
    x = keras.layers.Dense(2 * config.rnn_units, activation="relu", name="project")(x)
    x = keras.layers.Dropout(config.dropout)(x)
    for i in range(config.rnn_layers):
        x = keras.layers.Bidirectional(
            keras.layers.GRU(config.rnn_units, return_sequences=True), name=f"bigru_{i}"
        )(x, mask=mask)
        x = keras.layers.Dropout(config.dropout)(x)
    return x


def _conformer_check(config) -> str | None:
    if config.d_model % config.heads:
        return f"--d-model {config.d_model} is not a multiple of --heads {config.heads}"
    return None


ENCODERS: dict[str, Encoder] = {
    "conformer": Encoder(
        name="conformer",
        help="Conformer (Gulati et al. 2020): presets small for CPU trials, base and large for GPUs",
        subsampling=4,  # Subsample: two stride-2 convolutions
        fields=("d_model", "heads", "layers", "kernel_size"),
        check=_conformer_check,
        build=_conformer,
    ),
    "bigru": Encoder(
        name="bigru",
        help="a BiGRU stack, the first speechmill model",
        subsampling=4,  # two stride-2 convolutions
        fields=("rnn_units", "rnn_layers"),
        check=lambda _config: None,
        build=_bigru,
    ),
}


def encoder_of(model: keras.Model) -> Encoder:
    """The row that built a model (its name is speechmill_<encoder>)."""
    return ENCODERS[model.name.removeprefix("speechmill_")]


def subsampling_of(model: keras.Model) -> int:
    """Feature frames per logit frame of a built or loaded model."""
    return encoder_of(model).subsampling
