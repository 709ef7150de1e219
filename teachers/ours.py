"""``run:PATH``: one of our own exported runs as a teacher (its builtin-ops model.tflite on
LiteRT, greedy decoding). It writes spoken words in our alphabet and gives no word times, so
it judges and chooses readings but does not re-time."""

from __future__ import annotations

import numpy as np

from speechmill.teachers.base import SAMPLE_RATE, Heard, TeacherError


class RunTeacher:
    def __init__(self, spec: str, path: str):
        from speechmill.runtime.recognizer import load_recognizer

        if not path:
            raise TeacherError("run:PATH needs the run or export folder after the colon")
        self.name, self.path = spec, path
        try:
            self.recognizer = load_recognizer(path)
        except FileNotFoundError as e:
            raise TeacherError(str(e)) from None
        if self.recognizer.sample_rate != SAMPLE_RATE:
            raise TeacherError(
                f"{path}: the run hears {self.recognizer.sample_rate} Hz; a teacher hears {SAMPLE_RATE} Hz"
            )

    def facts(self) -> dict:
        return {
            "backend": "run",
            "model": self.path,
            "sha256": self.recognizer.facts.get("sha256", ""),
            "device": "cpu",
            "compute_type": "float32",
            "language": "en",
            "decoding": "greedy CTC",
        }

    def hear(self, waves: list[np.ndarray]) -> list[Heard]:
        from speechmill.lm.decode import greedy

        out = []
        for wave in waves:
            text = greedy(self.recognizer.log_probs(np.asarray(wave, dtype=np.float32)))
            out.append(Heard(text, no_speech=0.0 if text.strip() else 1.0))
        return out
