"""Export a trained model as a standalone recognizer: 16 kHz audio in, text out.

``export(model, path, sample_rate)`` writes a SavedModel whose ``transcribe`` endpoint takes a
1-D float32 waveform at the corpus rate and returns the greedy CTC transcript as a string
(feature extraction, model and decoding all inside), plus ``model.tflite`` when the TFLite
converter accepts the graph; ``export.json`` says which.
"""
from __future__ import annotations

import json
import os

import keras
import tensorflow as tf

from corpus.schema import ALPHABET
from train.features import window_samples
from train.model import output_lengths, sample_rate_of

CHARS = tf.constant([""] + list(ALPHABET))


def greedy_text(logits, logit_lengths):
    """[B, T, V] logits -> [B] strings (greedy CTC: best path, repeats merged, blanks dropped)."""
    decoded, _ = keras.ops.ctc_decode(logits, logit_lengths, strategy="greedy", mask_index=0)
    ids = tf.maximum(tf.cast(decoded[0], tf.int32), 0)              # -1 padding -> "" (index 0)
    return tf.strings.reduce_join(tf.gather(CHARS, ids), axis=-1)


def transcribe_fn(model):
    """A tf.function-ready callable: waveform [N] float32 -> transcript (scalar string)."""
    rate = sample_rate_of(model)

    def transcribe(audio):
        audio = tf.reshape(tf.cast(audio, tf.float32), [1, -1])
        audio = tf.pad(audio, [[0, 0], [0, tf.maximum(0, window_samples(rate) - tf.shape(audio)[1])]])
        length = tf.shape(audio)[1:2]
        logits = model({"audio": audio, "audio_length": length}, training=False)
        return greedy_text(logits, tf.minimum(output_lengths(length, rate), tf.shape(logits)[1]))[0]
    return transcribe


def export(model, path: str, sample_rate: int) -> dict:
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("transcribe", transcribe_fn(model), input_signature=[tf.TensorSpec([None], tf.float32)])
    archive.write_out(path, verbose=False)
    facts = {"sample_rate": sample_rate, "alphabet": ALPHABET, "endpoint": "transcribe", "tflite": None}
    try:
        converter = tf.lite.TFLiteConverter.from_saved_model(path, signature_keys=["transcribe"])
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS]
        with open(os.path.join(path, "model.tflite"), "wb") as f:
            f.write(converter.convert())
        facts["tflite"] = "model.tflite"
    except Exception as e:  # the converter raises many types; the SavedModel stands either way
        facts["tflite_error"] = str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
    with open(os.path.join(path, "export.json"), "w") as f:
        json.dump(facts, f, indent=2)
    return facts
