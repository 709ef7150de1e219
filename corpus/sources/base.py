"""What every source provides: shardable work units, and segments read from one unit.

A source is a small picklable object with a ``name``, ``units() -> list[Unit]`` (called once
when the job is built; cheap, no audio read) and ``read(unit) -> Iterator[Segment | Reject]``
(called on a worker). Item-level problems are yielded as :class:`Reject`; a problem that
ends the whole unit is raised as one.
"""
from __future__ import annotations

import dataclasses
import hashlib
from typing import Any, Iterator, Protocol

import numpy as np

from corpus.reject import Reject


@dataclasses.dataclass(frozen=True)
class Unit:
    """One piece of work: a transcript file, an archive, a book spoken by one voice, ..."""

    source: str                  # registry name of the source that reads it
    key: str                     # unique and stable within a corpus; orders and names parts
    payload: dict[str, Any] = dataclasses.field(default_factory=dict, hash=False, compare=False)


@dataclasses.dataclass
class Segment:
    """An audio span and its transcript as a source found them (before cleaning)."""

    id: str                          # "<source>/<native id>"
    speaker: str
    group: str
    text_raw: str
    audio: bytes | np.ndarray        # encoded file bytes, or samples at ``sample_rate``
    origin: str
    license: str
    sample_rate: int | None = None   # required when ``audio`` is an array
    synthetic: bool = False
    gender: str = ""
    split: str | None = None         # the source's own split (e.g. LibriSpeech subsets)
    captions: str = ""               # "manual" / "auto" when the transcript is a caption track


@dataclasses.dataclass(frozen=True)
class Note:
    """Facts about one input file for info.json, e.g. a subtitle file's offset, ratio and score."""

    source: str
    item: str
    facts: dict[str, Any] = dataclasses.field(default_factory=dict, hash=False)


class Source(Protocol):
    name: str
    split: str | None
    limit: int | None

    def units(self) -> list[Unit]: ...

    def read(self, unit: Unit) -> Iterator[Segment | Reject | Note]: ...


def stable_hash(*parts: object) -> int:
    """A 64-bit hash of the parts that is the same in every process and on every machine."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def slug(text: str) -> str:
    """A file- and id-safe form of a name ("en-gb-x-rp+f3" stays readable)."""
    return "".join(c if c.isalnum() or c in "-_.+" else "_" for c in text).strip("_") or "_"
