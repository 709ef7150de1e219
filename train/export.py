"""Export a trained model as a standalone recognizer: audio at the corpus rate in, text out.

``export(model, path, sample_rate)`` writes a SavedModel with two endpoints that take a 1-D
float32 waveform at the corpus rate: ``transcribe`` (the greedy CTC transcript as a string;
feature extraction, model and decoding inside) and ``log_probs`` ([T, V] natural-log
character probabilities, for beam search with a language model outside). ``model.tflite`` is
the ``log_probs`` endpoint for LiteRT, converted with TFLite builtin ops only (so the runtime
needs neither TensorFlow nor its Flex delegate); a model whose graph needs TensorFlow ops (the
BiGRU's masked loop) is converted with them and marked ``tflite_builtin_only: false``.
``export.json`` says what was written.

    python -m speechmill.train.export --run build/run      # export a run's model.keras again
"""

from __future__ import annotations

import json
import os

import keras
import tensorflow as tf

from speechmill.corpus.schema import ALPHABET
from speechmill.train.encoders import subsampling_of
from speechmill.train.features import HOP_MS, window_samples
from speechmill.train.model import load_model, output_lengths, sample_rate_of

CHARS = tf.constant([""] + list(ALPHABET))


def greedy_text(logits, logit_lengths):
    """[B, T, V] logits -> [B] strings (greedy CTC: best path, repeats merged, blanks dropped)."""
    decoded, _ = keras.ops.ctc_decode(logits, logit_lengths, strategy="greedy", mask_index=0)
    ids = tf.maximum(tf.cast(decoded[0], tf.int32), 0)  # -1 padding -> "" (index 0)
    return tf.strings.reduce_join(tf.gather(CHARS, ids), axis=-1)


def _logits(model, audio):
    """Waveform [N] -> (logits [1, T, V], logit length [1]); shorter than one window: padded to one."""
    rate = sample_rate_of(model)
    audio = tf.reshape(tf.cast(audio, tf.float32), [1, -1])
    audio = tf.pad(audio, [[0, 0], [0, tf.maximum(0, window_samples(rate) - tf.shape(audio)[1])]])
    length = tf.shape(audio)[1:2]
    logits = model({"audio": audio, "audio_length": length}, training=False)
    lengths = output_lengths(length, rate, subsampling_of(model))
    return logits, tf.minimum(lengths, tf.shape(logits)[1])


def transcribe_fn(model):
    """A tf.function-ready callable: waveform [N] float32 -> transcript (scalar string)."""

    def transcribe(audio):
        logits, lengths = _logits(model, audio)
        return greedy_text(logits, lengths)[0]

    return transcribe


def log_probs_fn(model):
    """A tf.function-ready callable: waveform [N] float32 -> [T, V] log-probabilities."""

    def log_probs(audio):
        logits, _ = _logits(model, audio)
        return tf.nn.log_softmax(tf.cast(logits[0], tf.float32), axis=-1)

    return log_probs


def export(model, path: str, sample_rate: int) -> dict:
    archive = keras.export.ExportArchive()
    archive.track(model)
    signature = [tf.TensorSpec([None], tf.float32)]
    archive.add_endpoint("transcribe", transcribe_fn(model), input_signature=signature)
    archive.add_endpoint("log_probs", log_probs_fn(model), input_signature=signature)
    archive.write_out(path, verbose=False)
    facts = {
        "sample_rate": sample_rate,
        "alphabet": ALPHABET,
        "endpoint": "transcribe",
        "endpoints": ["transcribe", "log_probs"],
        "frame_seconds": subsampling_of(model) * HOP_MS / 1000,
        "tflite": None,
        "tflite_builtin_only": None,
    }
    errors = []
    for builtin_only in (True, False):
        try:
            converter = tf.lite.TFLiteConverter.from_saved_model(path, signature_keys=["log_probs"])
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS] + (
                [] if builtin_only else [tf.lite.OpsSet.SELECT_TF_OPS]
            )
            with open(os.path.join(path, "model.tflite"), "wb") as f:
                f.write(converter.convert())
            facts.update(tflite="model.tflite", tflite_builtin_only=builtin_only)
            break
        except Exception as e:  # noqa: BLE001 - the converter raises many types; the SavedModel stands either way
            errors.append(_first_error_line(e))
    if facts["tflite"] is None or errors:
        facts["tflite_error"] = errors[0]
    with open(os.path.join(path, "export.json"), "w") as f:
        json.dump(facts, f, indent=2)
    return facts


def _first_error_line(error: Exception) -> str:
    """The converter's first line that says which op failed, else its first line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    named = [
        line
        for line in lines
        if "op is neither a custom op nor a flex op" in line or "error:" in line
    ]
    return ((named or lines or [type(error).__name__])[0])[:300]


def export_again(run: str) -> dict:
    """Export a training run's ``model.keras`` again into ``RUN/export``; returns export.json."""
    path = os.path.join(run, "model.keras")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{run}: no model.keras")
    model = load_model(path)
    return export(model, os.path.join(run, "export"), sample_rate_of(model))
