"""An exported model as a function from samples to frame log-probabilities.

``load_recognizer(model, backend="auto")`` takes a training run folder (its ``export/``) or an
export folder and returns a :class:`Recognizer`: ``log_probs(samples)`` maps mono float32
samples at ``sample_rate`` to natural-log character probabilities [T, 1 + len(ALPHABET)] of
the real frames (``frame_seconds`` apart). Backends: ``tflite`` (the export's ``model.tflite``
on LiteRT, TensorFlow not needed; its ops are TFLite builtins) and ``savedmodel`` (the
SavedModel's ``log_probs`` endpoint, needs TensorFlow).

A model from someone else is data only as a builtin-ops ``model.tflite``: a flatbuffer of known
operations that can compute and nothing else. A SavedModel is a TensorFlow program (its graph
can read and write files, as TensorFlow's own security guidance says), so ``auto`` (the default)
loads only the builtin-ops tflite and refuses an export that has none, in one line; the
SavedModel runs only when the user asks for it with ``backend="savedmodel"``. The export's
``export.json`` is untrusted too: the tflite file it names must be a plain name in the export.
"""

from __future__ import annotations

import json
import os

import numpy as np

from speechmill.corpus.errors import UsageError

BACKENDS = ("auto", "tflite", "savedmodel")


class Recognizer:
    backend = ""

    def __init__(self, export: str, facts: dict):
        self.export, self.facts = export, facts
        self.sample_rate: int = facts["sample_rate"]
        self.frame_seconds: float = facts.get("frame_seconds", 0.04)

    def log_probs(self, samples: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class TFLiteRecognizer(Recognizer):
    """model.tflite on LiteRT (ai-edge-litert), with XNNPACK on ``threads`` CPU threads."""

    backend = "tflite"

    def __init__(self, export: str, facts: dict, threads: int | None = None):
        super().__init__(export, facts)
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            from speechmill.corpus.errors import MissingExtra

            raise MissingExtra("ai-edge-litert", "runtime", "the tflite backend") from None
        self.interpreter = Interpreter(
            model_path=os.path.join(export, facts["tflite"]),
            num_threads=threads or os.cpu_count() or 1,
        )
        self.runner = self.interpreter.get_signature_runner("log_probs")

    def log_probs(self, samples: np.ndarray) -> np.ndarray:
        out = self.runner(audio=np.ascontiguousarray(samples, dtype=np.float32))
        return np.asarray(next(iter(out.values())))


class SavedModelRecognizer(Recognizer):
    """The SavedModel's ``log_probs`` endpoint on TensorFlow."""

    backend = "savedmodel"

    def __init__(self, export: str, facts: dict):
        super().__init__(export, facts)
        try:
            import tensorflow as tf
        except ImportError:
            from speechmill.corpus.errors import MissingExtra

            raise MissingExtra("tensorflow", "train", "the savedmodel backend") from None
        self._tf = tf
        self.loaded = tf.saved_model.load(export)  # keep the object alive: it owns the variables

    def log_probs(self, samples: np.ndarray) -> np.ndarray:
        return self.loaded.log_probs(self._tf.constant(samples, self._tf.float32)).numpy()


def export_folder(model: str) -> tuple[str, dict]:
    """A run folder or an export folder -> (export folder, its export.json)."""
    export = (
        os.path.join(model, "export") if os.path.isdir(os.path.join(model, "export")) else model
    )
    path = os.path.join(export, "export.json")
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"{model}: no exported model (a run folder with export/, or an export folder)"
        )
    with open(path) as f:
        return export, json.load(f)


SAVEDMODEL_IS_CODE = (
    "a SavedModel is a TensorFlow program that can read and write your files: pass "
    "--backend savedmodel only for a model you trust (one you trained)"
)


def load_recognizer(model: str, backend: str = "auto", threads: int | None = None) -> Recognizer:
    """A run or export folder -> its Recognizer: the builtin-ops tflite unless ``backend`` is
    "savedmodel" (FileNotFoundError / UsageError in one line when the export has no such file)."""
    export, facts = export_folder(model)
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend != "savedmodel":
        tflite = facts.get("tflite")
        if not tflite:
            raise FileNotFoundError(
                f"{export}: no model.tflite ({facts.get('tflite_error', 'not exported')}); "
                f"{SAVEDMODEL_IS_CODE}"
            )
        if (
            not isinstance(tflite, str)
            or os.path.basename(tflite) != tflite
            or tflite in (".", "..")
        ):
            raise UsageError(f"{export}: export.json names {tflite!r}, not a file of the export")
        if facts.get("tflite_builtin_only") is not True:
            raise UsageError(
                f"{export}: model.tflite needs TensorFlow's Flex ops, so it is not loaded as data; "
                f"{SAVEDMODEL_IS_CODE}"
            )
        return TFLiteRecognizer(export, facts, threads)
    if "log_probs" not in facts.get("endpoints", []):
        raise FileNotFoundError(
            f"{export}: exported before the log_probs endpoint existed; export it again "
            "(python -m speechmill.train.export --run RUN)"
        )
    return SavedModelRecognizer(export, facts)
