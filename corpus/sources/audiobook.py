"""Long recordings of a book (a LibriVox reading of a Project Gutenberg book), labelled with the
book's own words.

Keys: ``audio`` (a recording, a folder of them or a glob, in name order; anything ffmpeg reads),
``text`` (the book: Project Gutenberg layout or plain text, any encoding; its licence header
and footer, contents, headings and notes are removed by the book cleaner the gutenberg source
uses), ``speaker`` (the reader; default the recording's ``artist`` tag, as LibriVox's MP3s
carry the reader's name there, else its folder's name), ``teacher`` (the
recognizer that hears the recording, default ``whisper``), ``max_seconds`` (longest utterance,
default the corpus's), ``min_seconds`` (an utterance shorter than this is joined to the next
over a pause of up to 2 s, default 1). A work unit is one recording. The build's teacher stage hears it in
bounded windows (an hours-long file is fine), cuts it at pauses (0.3 s or more of silence by
the VAD) and aligns what it heard to the book (speechmill/teachers/book.py,
corpus/book_align.py: where in the book the recording is, anywhere in it; then word by word
between anchors). An utterance's transcript is the book's words for its span, kept where the
teacher heard those words in that order (a single word heard otherwise is the teacher's error;
the book's word stands); words added, left out or in another order are ``align:mismatch`` with
both texts, speech in no part of the book (a LibriVox preamble, a reader's note) is
``align:not-in-text``, and text the reader skipped is never a label. The speaker is the reader
and the group is the book, so a book never spans two splits. Records carry ``label_source =
"book:teacher:whisper"``.
Licence: LibriVox recordings are public domain, and so are Project Gutenberg's texts in the
USA; set ``license`` for others.
"""

from __future__ import annotations

import dataclasses
import glob
import os
from collections.abc import Iterator
from typing import Any

from speechmill.corpus import storage
from speechmill.corpus.config import ConfigError, resolve_path
from speechmill.corpus.errors import os_name
from speechmill.corpus.inputs.localfile import check_input
from speechmill.corpus.inputs.media import media_tag
from speechmill.corpus.reject import Reject
from speechmill.corpus.sources.base import Source, SourceContext
from speechmill.corpus.sources.folder import AUDIO_EXTENSIONS
from speechmill.corpus.types import Recording, Unit, slug

LICENSE = "public domain (LibriVox recordings; Project Gutenberg texts in the USA)"


@dataclasses.dataclass(frozen=True)
class Reading:
    """One recording of the book, and where it stands in reading order."""

    path: str
    order: int


@dataclasses.dataclass
class AudiobookSource(Source):
    """``[[source]] type = "audiobook"``; see the module docstring for every key."""

    audio: list[str]
    text: str
    speaker: str = ""
    teacher: str = "whisper"
    max_seconds: float | None = None
    min_seconds: float | None = None
    license: str = LICENSE
    split: str | None = None
    limit: int | None = None

    name = "audiobook"
    LICENSE = LICENSE
    KEYS = frozenset(
        {"audio", "text", "speaker", "teacher", "max_seconds", "min_seconds", "license"}
    )

    @classmethod
    def from_config(cls, table: dict[str, Any], context: SourceContext) -> AudiobookSource:
        common = cls.common_keys(table)
        text = cls.existing_path(table, "text", context, "the book the recordings read")
        pattern = cls.option(table, "audio", str)
        if pattern is None:
            raise ConfigError(f"{cls.where()}: needs audio (a recording, a folder or a glob)")
        audio = recordings(resolve_path(pattern, context.base_dir))
        if not audio:
            raise ConfigError(f"{cls.where()}: audio {pattern}: no recordings there")
        longest = cls.option(table, "max_seconds", (int, float))
        if longest is not None and not 1 <= longest <= 60:
            raise ConfigError(f"{cls.where()}: max_seconds must be from 1 to 60, got {longest}")
        shortest = cls.option(table, "min_seconds", (int, float), 1.0)
        if not 0 <= shortest <= (longest or 60):
            raise ConfigError(
                f"{cls.where()}: min_seconds must be from 0 to max_seconds, got {shortest}"
            )
        return cls(
            audio=audio,
            text=text,
            speaker=cls.option(table, "speaker", str, ""),
            teacher=cls.option(table, "teacher", str, "whisper"),
            max_seconds=None if longest is None else float(longest),
            min_seconds=float(shortest),
            license=cls.option(table, "license", str, LICENSE),
            **common,
        )

    def units(self) -> list[Unit]:
        return [
            Unit(self.name, f"{self.book()}/{k:04d}", Reading(path, k))
            for k, path in enumerate(self.audio)
        ]

    def book(self) -> str:
        return slug(os_name(os.path.splitext(os.path.basename(self.text))[0]))

    def read(self, unit: Unit) -> Iterator[Recording | Reject]:
        work: Reading = unit.payload
        stem = slug(os_name(os.path.splitext(os.path.basename(work.path))[0]))
        item_id = f"{self.name}/{self.book()}/{stem}"
        try:
            check_input(work.path, os.path.dirname(work.path), "audio")
        except Reject as reject:
            reject.item_id = item_id
            yield reject
            return
        reader = (
            self.speaker
            or media_tag(work.path, ("artist", "album_artist", "composer"))
            or os.path.basename(os.path.dirname(work.path))
            or "reader"
        )
        yield Recording(
            id=item_id,
            speaker=f"{self.name}/{slug(os_name(reader))}",
            group=f"{self.name}/{self.book()}",
            path=work.path,
            license=self.license,
            text=self.text,
        )


def recordings(where: str) -> list[str]:
    """A recording, the recordings in a folder (not below it) or those a glob matches, in
    name order."""
    if os.path.isdir(where):
        found = [os.path.join(where, n) for n in os.listdir(where)]
    elif any(c in where for c in "*?["):
        found = glob.glob(where)
    else:
        found = [where] if storage.exists(where) else []
    return sorted(p for p in found if p.lower().endswith(AUDIO_EXTENSIONS) and os.path.isfile(p))
