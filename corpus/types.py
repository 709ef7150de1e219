"""Types that the jobs, the sources and augmentation share: work units, segments, notes, and
the stable hashing every seeded choice is made from.

A :class:`Unit` is one piece of work a source lists (a transcript file, a film, a book spoken by
one voice); its ``payload`` is a small frozen dataclass that the source defines. A
:class:`Segment` is an audio span and its transcript as a source found them, before cleaning.
A :class:`Note` carries facts about one input file into ``info.json``.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import numpy as np


@dataclasses.dataclass(frozen=True)
class Unit:
    """One piece of work: a transcript file, an archive, a book spoken by one voice, ..."""

    source: str  # registry name of the source that reads it
    key: str  # unique and stable within a corpus; orders and names parts
    payload: Any = dataclasses.field(
        default=None, hash=False, compare=False
    )  # the source's frozen dataclass


@dataclasses.dataclass(frozen=True, slots=True)
class InputFile:
    """A file of a source's tree, not read yet: the build opens it when it decodes the audio
    (corpus/inputs/localfile.py ``open_input``: the same checks as ``read_input``), so its
    bytes are never copied into memory first."""

    path: str
    root: str  # the tree it must lie in (a link out of it is refused)
    kind: str  # "audio": names the reasons of a refusal
    follow_links: bool = False


@dataclasses.dataclass
class Segment:
    """An audio span and its transcript as a source found them (before cleaning)."""

    id: str  # "<source>/<native id>"
    speaker: str
    group: str
    text_raw: str
    audio: bytes | np.ndarray | InputFile  # encoded bytes, samples at ``sample_rate``, a file
    origin: str
    license: str
    sample_rate: int | None = None  # required when ``audio`` is an array
    synthetic: bool = False
    gender: str = ""
    split: str | None = None  # the source's own split (e.g. LibriSpeech subsets)
    captions: str = ""  # "manual" / "auto" when the transcript is a caption track
    engine: str = ""  # the TTS engine of synthetic speech
    media: str = ""  # the recording the segment is a span of (a film's path, a video's URL)
    media_span: tuple[float, ...] = ()  # (start, end) seconds of the span in ``media``
    label_source: str = ""  # "teacher:SPEC" when a teacher wrote ``text_raw``


@dataclasses.dataclass(frozen=True)
class Recording:
    """A whole recording that came with no transcript: the job's teacher stage (the source's
    ``teacher``, a spec of speechmill/teachers/table.py) cuts it at pauses and labels each
    piece (speechmill/teachers/label.py); a source never labels it itself."""

    id: str  # "<source>/<native id>"; its pieces add "/<start in centiseconds>"
    speaker: str
    group: str
    path: str  # a local file ffmpeg reads
    license: str
    split: str | None = None
    text: str = ""  # a text the recording reads from (a book): aligned to it, not labelled
    media: str = ""  # what its pieces name as their media and origin (a video's URL); "": path


@dataclasses.dataclass(frozen=True)
class Note:
    """Facts about one input file for info.json, e.g. a subtitle file's offset, ratio and score."""

    source: str
    item: str
    facts: dict[str, Any] = dataclasses.field(default_factory=dict, hash=False)


def stable_hash(*parts: object) -> int:
    """A 64-bit hash of the parts that is the same in every process and on every machine."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def slug(text: str) -> str:
    """A file- and id-safe form of a name ("en-gb-x-rp+f3" stays readable)."""
    return "".join(c if c.isalnum() or c in "-_.+" else "_" for c in text).strip("_") or "_"
