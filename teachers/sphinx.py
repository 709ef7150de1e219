"""pocketsphinx 5 with its bundled US English model: a second, independent opinion (an HMM
recognizer with a 3-gram language model, nothing in common with Whisper), and the judge of
readings: its dictionary and language model write spoken words ("nineteen ninety four"),
never digits, so :meth:`SphinxTeacher.choose` can ask it which of a transcript's readings the
audio says, by recognizing with a grammar whose only sentences are those readings."""

from __future__ import annotations

import re

import numpy as np

from speechmill.teachers.base import SAMPLE_RATE, Heard, TeacherError, Word

FRAMES_PER_SECOND = 100  # pocketsphinx's default frame rate
FILLERS = re.compile(r"^(<s>|</s>|<sil>|\[\w+\]|\+\+?\w+\+\+?)$")


def _decoder(**options):
    try:
        from pocketsphinx import Decoder
    except ImportError:
        raise TeacherError(
            "the pocketsphinx teacher needs pocketsphinx: pip install 'speechmill[teacher]'"
        ) from None
    return Decoder(samprate=SAMPLE_RATE, loglevel="FATAL", **options)


def _pcm(wave: np.ndarray) -> bytes:
    return (np.clip(np.asarray(wave, dtype=np.float32), -1.0, 1.0) * 32767).astype("<i2").tobytes()


class SphinxTeacher:
    def __init__(self, spec: str = "pocketsphinx"):
        self.name = spec
        self.decoder = _decoder()
        self._chooser = None

    def facts(self) -> dict:
        import pocketsphinx

        return {
            "backend": "pocketsphinx",
            "model": "bundled en-us (pocketsphinx "
            + getattr(pocketsphinx, "__version__", "5")
            + ")",
            "sha256": "",
            "device": "cpu",
            "compute_type": "float32",
            "language": "en",
            "decoding": "Viterbi beam search with the bundled 3-gram LM",
        }

    def hear(self, waves: list[np.ndarray]) -> list[Heard]:
        return [self._one(w) for w in waves]

    def _one(self, wave: np.ndarray) -> Heard:
        d = self.decoder
        d.start_utt()
        d.process_raw(_pcm(wave), full_utt=True)
        d.end_utt()
        words = tuple(
            Word(
                re.sub(r"\(\d+\)$", "", s.word),
                round(s.start_frame / FRAMES_PER_SECOND, 3),
                round((s.end_frame + 1) / FRAMES_PER_SECOND, 3),
                float(min(1.0, s.prob)),
            )
            for s in d.seg()
            if not FILLERS.match(s.word)
        )
        text = " ".join(w.text for w in words)
        return Heard(text, words, no_speech=0.0 if words else 1.0)

    def choose(self, wave: np.ndarray, readings: tuple[str, ...]) -> int | None:
        """The index of the reading the audio says, recognized with a grammar of only these
        readings; None when a word is not in the dictionary or nothing was recognized."""
        if len(readings) < 2:
            return 0 if readings else None
        if self._chooser is None:
            self._chooser = _decoder()
        d = self._chooser
        if any(d.lookup_word(w) is None for r in readings for w in r.split()):
            return None
        alternatives = " | ".join(f"( {r} )" for r in readings)
        d.add_jsgf_string(
            "readings", f"#JSGF V1.0;\ngrammar readings;\npublic <r> = {alternatives};\n"
        )
        d.activate_search("readings")
        d.start_utt()
        d.process_raw(_pcm(wave), full_utt=True)
        d.end_utt()
        hyp = d.hyp()
        said = " ".join(re.sub(r"\(\d+\)$", "", w) for w in (hyp.hypstr.split() if hyp else ()))
        return readings.index(said) if said in readings else None
