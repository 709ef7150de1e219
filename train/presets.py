"""Model sizes and training choices a command line names, without TensorFlow: ``ModelConfig``
(the sizes; defaults are the ``small`` preset), ``PRESETS`` (named sizes), ``DECAYS`` (learning
rate schedules after warm-up). ``speechmill train --help`` and its argument checks read these,
so they answer before TensorFlow is imported; train/model.py builds models from them."""

from __future__ import annotations

import dataclasses

from speechmill.corpus.errors import UserError
from speechmill.corpus.schema import ALPHABET

DECAYS = ("rsqrt", "constant")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Model sizes; the defaults are the ``small`` preset. Fields of the other architecture
    are ignored (``rnn_*`` by a Conformer, ``d_model``/``heads``/``layers``/``kernel_size`` by
    a BiGRU)."""

    architecture: str = "conformer"
    n_mels: int = 80
    conv_channels: int = 32
    d_model: int = 144
    heads: int = 4
    layers: int = 4
    kernel_size: int = 15
    rnn_units: int = 192
    rnn_layers: int = 2
    dropout: float = 0.1
    freq_warp: float = 0.15  # training: spectra stretched by a factor in [1 - w, 1 + w] (VTLP)
    freq_masks: int = 2  # SpecAugment: bands of up to freq_width mel bins (of 80)
    freq_width: int = 13  # lighter than the paper's 27: a 25-minute CPU budget learns faster
    time_masks: int = 2  # SpecAugment: spans of up to time_fraction of the utterance
    time_fraction: float = 0.05
    sample_rate: int = 16000

    @property
    def vocabulary(self) -> int:
        return len(ALPHABET) + 1  # + blank


PRESETS: dict[str, dict] = {
    "small": {},  # CPU trials
    "base": {
        "conv_channels": 128,
        "d_model": 256,
        "layers": 12,
        "kernel_size": 31,
        "freq_width": 27,
        "time_masks": 10,
    },
    "large": {
        "conv_channels": 256,
        "d_model": 512,
        "heads": 8,
        "layers": 16,
        "kernel_size": 31,
        "freq_width": 27,
        "time_masks": 10,
    },
    "bigru": {
        "architecture": "bigru",
        "conv_channels": 32,
        "freq_warp": 0.0,
        "freq_masks": 0,
        "time_masks": 0,
    },
}


class ModelConfigError(UserError, ValueError):
    """A preset or size that cannot make a model."""
