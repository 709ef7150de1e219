"""The CTC recognizers: log-mel (frequency-warped in training) -> SpecAugment (training only) ->
4x convolutional subsampling -> an encoder -> per-frame character logits. Token 0 is the CTC
blank and the label padding.

The encoder is a row of train/encoders.py ``ENCODERS``, chosen by ``ModelConfig.architecture``:
``conformer`` (Gulati et al. 2020; presets ``small`` for CPU trials, ``base`` and ``large`` for
GPUs) and ``bigru`` (a BiGRU stack, the first speechmill model). ``PRESETS`` names the sizes;
``config_for(preset, **over)`` makes a config. ``build_model(config)`` returns a
:class:`CTCModel`, a Keras 3 model whose inputs are ``{"audio": [B, N], "audio_length": [B]}``
and whose targets are ``{"labels": [B, L], "label_length": [B]}``; its loss is
``tf.nn.ctc_loss`` with sparse labels (TensorFlow's C++ kernel) over the true logit and label
lengths, never the padded widths. ``output_lengths(audio_length, sample_rate, subsampling)``
gives the logit lengths: the feature frames that ``train/features.py`` defines, then the
encoder's subsampling (``subsampling_of(model)``).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from speechmill.train.encoders import ENCODERS, subsampling_of
from speechmill.train.features import LogMel, frames_for
from speechmill.train.layers import SpecAugment, subsampled_length
from speechmill.train.presets import PRESETS, ModelConfig, ModelConfigError

ARCHITECTURES = tuple(ENCODERS)


def config_for(preset: str = "small", **overrides) -> ModelConfig:
    """The preset's config with ``overrides`` (fields set to None keep the preset's value)."""
    if preset not in PRESETS:
        raise ModelConfigError(
            f"unknown model preset {preset!r}; choose one of {', '.join(PRESETS)}"
        )
    config = ModelConfig(
        **{**PRESETS[preset], **{k: v for k, v in overrides.items() if v is not None}}
    )
    if config.architecture not in ARCHITECTURES:
        raise ModelConfigError(
            f"unknown architecture {config.architecture!r}; choose one of {', '.join(ARCHITECTURES)}"
        )
    problem = ENCODERS[config.architecture].check(config)
    if problem:
        raise ModelConfigError(problem)
    return config


def output_lengths(audio_length, sample_rate: int, subsampling: int = 4):
    """Logit frames for an audio length: feature frames, then the encoder's subsampling
    (``subsampling_of(model)``; both encoders of train/encoders.py subsample by 4)."""
    return subsampled_length(frames_for(audio_length, sample_rate), subsampling)


def sample_rate_of(model: keras.Model) -> int:
    """The sample rate a built model's log-mel layer expects."""
    return int(model.get_layer("log_mel").sample_rate)


@keras.saving.register_keras_serializable(package="speechmill")
class CTCModel(keras.Model):
    """Keras model whose loss is CTC over the real (unpadded) lengths, averaged over the global
    batch (on several replicas each returns its share: train/distribute.py global_mean)."""

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        from speechmill.train.distribute import global_mean

        rate, factor = sample_rate_of(self), subsampling_of(self)
        return global_mean(ctc_loss(y["labels"], y_pred, x["audio_length"], rate, factor))

    micro_batches = 1  # set by training (--accumulate): a step's batch is cut into this many

    def train_step(self, data):
        """One optimizer update from one batch, right on any number of replicas: the batch is
        cut into ``micro_batches`` pieces whose gradients are summed one after another (the
        memory of a piece, the update of the whole batch: gradient accumulation without an
        update that only some steps make); each replica's loss is its share of the mean over
        the global batch; the gradients are summed across replicas here, once, so that the
        optimizer (train/optim.py AdamW) clips and checks the gradient of the global batch."""
        from speechmill.train.distribute import replica_sum

        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        rate, parts, variables = sample_rate_of(self), self.micro_batches, self.trainable_variables
        size = tf.shape(x["audio"])[0]
        count = replica_sum(tf.cast(size, tf.float32))
        grads, loss = None, 0.0
        for i in range(parts):
            lo, hi = size * i // parts, size * (i + 1) // parts
            piece = {k: v[lo:hi] for k, v in x.items()}
            with tf.GradientTape() as tape:
                logits = self(piece, training=True)
                per_example = ctc_loss(
                    y["labels"][lo:hi], logits, piece["audio_length"], rate, subsampling_of(self)
                )
                share = tf.math.divide_no_nan(tf.reduce_sum(per_example), count)
                scaled = self.optimizer.scale_loss(share)
            found = tape.gradient(scaled, variables)
            grads = found if grads is None else [a + b for a, b in zip(grads, found, strict=True)]
            loss += share
        grads = replica_sum(grads)
        self.optimizer.apply_gradients(zip(grads, variables, strict=True))
        replicas = tf.cast(tf.distribute.get_strategy().num_replicas_in_sync, tf.float32)
        self._loss_tracker.update_state(loss * replicas, sample_weight=size)  # this replica's mean
        logs = {"loss": self._loss_tracker.result()}
        if isinstance(self.distribute_strategy, tf.distribute.MultiWorkerMirroredStrategy):
            # Keras 3 reduces step logs across workers by a MEAN along axis 0, which a scalar
            # lacks (tensorflow/tensorflow#72388): a length-1 axis, removed by the reduction
            logs = {name: tf.reshape(value, [1]) for name, value in logs.items()}
        return logs

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Under a tf.distribute strategy Keras (3.x, TensorFlow backend) builds the model's
        training state from the first batch, which it takes out of the training iterator
        (so training on one device and on several would start from different batches) and
        reduces across replicas (which fails on dict inputs on several workers); only shapes
        and dtypes are needed, and they are the model's own: build from those."""
        if self._distribute_strategy is None:
            return None

        def spec(shape, dtype):
            return keras.KerasTensor(shape, dtype)

        batch = (
            {"audio": spec((None, None), "float32"), "audio_length": spec((None,), "int32")},
            {"labels": spec((None, None), "int32"), "label_length": spec((None,), "int32")},
        )
        with self.distribute_strategy.scope():
            self._symbolic_build(data_batch=batch)
        return None


def ctc_loss(labels, logits, audio_length, sample_rate: int, subsampling: int = 4):
    """Per-utterance CTC loss; labels are 0-padded ids, blank is 0.

    Same computation as ``keras.ops.ctc_loss`` (both call ``tf.nn.ctc_loss``), but with the
    labels as a SparseTensor, which selects TensorFlow's C++ CTC kernel: with dense labels
    TensorFlow runs a scan over the padded label width, ~20x slower on CPU for our batches.
    """
    logit_length = tf.minimum(
        output_lengths(audio_length, sample_rate, subsampling), tf.shape(logits)[1]
    )
    sparse = tf.sparse.from_dense(tf.cast(labels, tf.int32))  # drops the 0 padding
    return tf.nn.ctc_loss(
        labels=sparse,
        logits=tf.cast(logits, tf.float32),
        label_length=None,
        logit_length=logit_length,
        logits_time_major=False,
        blank_index=0,
    )


@keras.saving.register_keras_serializable(package="speechmill")
class FrameMask(keras.layers.Layer):
    """(frames [B, T, D], audio_length [B]) -> bool mask [B, T] of the real (unpadded) frames."""

    def __init__(self, sample_rate: int = 16000, subsampling: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.sample_rate, self.subsampling = sample_rate, subsampling

    def call(self, frames, audio_length):
        lengths = output_lengths(audio_length, self.sample_rate, self.subsampling)
        return tf.sequence_mask(lengths, tf.shape(frames)[1])

    def get_config(self):
        return {
            **super().get_config(),
            "sample_rate": self.sample_rate,
            "subsampling": self.subsampling,
        }


def load_model(path: str) -> keras.Model:
    """A saved ``model.keras`` of any preset, with its optimizer (whose learning-rate schedule
    is ours: Keras finds it only once train/optim.py is imported)."""
    from speechmill.train.optim import WarmupDecay

    return keras.models.load_model(path, custom_objects={"WarmupDecay": WarmupDecay})


def build_model(config: ModelConfig | None = None, seed: int | None = None) -> CTCModel:
    """A fresh model for ``config`` (default: the ``small`` preset); ``seed`` seeds
    SpecAugment's masks and the frequency warp."""
    config = config or ModelConfig()
    audio = keras.Input(shape=(None,), name="audio", dtype="float32")
    audio_length = keras.Input(shape=(), name="audio_length", dtype="int32")
    warp_seed = None if seed is None else seed + 1  # not SpecAugment's stream
    features, frames = LogMel(
        config.sample_rate, config.n_mels, config.freq_warp, seed=warp_seed, name="log_mel"
    )(audio, audio_length)
    features = SpecAugment(
        config.freq_masks,
        round(config.freq_width * config.n_mels / 80),
        config.time_masks,
        config.time_fraction,
        seed=seed,
        name="spec_augment",
    )(features, frames)
    encoder = ENCODERS[config.architecture]
    mask_layer = FrameMask(config.sample_rate, encoder.subsampling, name="frame_mask")
    x = encoder.build(features, frames, audio_length, config, mask_layer)
    logits = keras.layers.Dense(config.vocabulary, dtype="float32", name="logits")(x)
    return CTCModel(
        inputs={"audio": audio, "audio_length": audio_length},
        outputs=logits,
        name=f"speechmill_{config.architecture}",
    )
