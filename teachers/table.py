"""``TEACHERS``: every teacher backend, one row each: how to load it from a spec's argument, its
CER threshold (measured from right and wrong transcripts of real speech: docs/verify.md), and
whether it writes numbers as spoken words. A spec is ``NAME`` or ``NAME:ARGUMENT``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from speechmill.teachers.base import Teacher, TeacherError


def _whisper(spec: str, argument: str) -> Teacher:
    from speechmill.teachers.whisper import WhisperTeacher

    return WhisperTeacher(spec, argument)


def _sphinx(spec: str, argument: str) -> Teacher:
    from speechmill.teachers.sphinx import SphinxTeacher

    if argument:
        raise TeacherError(f"{spec}: pocketsphinx takes no argument (its bundled model)")
    return SphinxTeacher(spec)


def _run(spec: str, argument: str) -> Teacher:
    from speechmill.teachers.ours import RunTeacher

    return RunTeacher(spec, argument)


@dataclasses.dataclass(frozen=True)
class TeacherRow:
    load: Callable[[str, str], Teacher]
    max_cer: float  # the highest CER of a transcript it keeps
    spoken_words: bool  # writes "nineteen ninety four", never "1994": can choose readings
    summary: str


TEACHERS: dict[str, TeacherRow] = {
    "whisper": TeacherRow(
        _whisper,
        max_cer=0.25,
        spoken_words=False,
        summary="Whisper tiny.en (faster-whisper, int8 on CPU); whisper:NAME_OR_FOLDER for another",
    ),
    "pocketsphinx": TeacherRow(
        _sphinx,
        max_cer=0.40,
        spoken_words=True,
        summary="pocketsphinx 5 with its bundled en-us model: an independent second opinion",
    ),
    "run": TeacherRow(
        _run,
        max_cer=0.5,
        spoken_words=True,
        summary="run:PATH, one of our own exported runs (greedy; no word times)",
    ),
}


def parse_spec(spec: str) -> tuple[str, str]:
    name, _, argument = spec.strip().partition(":")
    if name not in TEACHERS:
        raise TeacherError(
            f"unknown teacher {spec!r}; choose one of {', '.join(TEACHERS)} (NAME or NAME:ARGUMENT)"
        )
    return name, argument


def row_of(spec: str) -> TeacherRow:
    return TEACHERS[parse_spec(spec)[0]]


def load_teacher(spec: str) -> Teacher:
    name, argument = parse_spec(spec)
    return TEACHERS[name].load(spec, argument)
