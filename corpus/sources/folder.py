"""A folder of your own recordings, each with its transcript beside it.

Layout: any tree under ``path`` of audio files (anything libsndfile or ffmpeg reads: WAV, FLAC,
Ogg/Opus, MP3, M4A/AAC, WMA, AIFF ...), each with a transcript file of the same stem beside it
(``take1.wav`` + ``take1.txt``, or ``take1.lab`` as HTK/Montreal Forced Aligner tools write
them). The speaker is the folder ``speaker_level`` levels below ``path`` (1 by default:
``path/<speaker>/...``; 0: one speaker, named after ``path``); the speaker is also the group,
so a speaker never spans two splits. Each folder's recordings are work units of up to
``files_per_unit`` files. A recording without a transcript is rejected as ``text:missing``,
unless ``teacher`` names one (``teacher = "whisper"``, a spec as in ``make verify
TEACHER=``): then it is cut at pauses by voice activity detection and each piece is labelled by
the teacher, in bounded windows however long the recording is (speechmill/teachers/label.py:
its rules, and ``label:*`` rejects for what the teacher is unsure of); ``second =
"pocketsphinx"`` (or ``run:PATH``) keeps a piece only where a second recognizer agrees within
``second_max_cer`` (default: the second's own threshold). Such records carry ``label_source =
"teacher:SPEC"`` and info.json's ``labels`` counts them per source;
a transcript without a recording, in a folder that holds recordings, as ``audio:missing``
(text files named README, LICENSE, NOTES ... are documentation, not transcripts). A FIFO or
device is ``audio:not-a-file`` (``text:not-a-file``), and a link that leads out of ``path``
``audio:link-outside`` unless ``follow_links = true``.
Licence: whatever the recordings' owner says; set ``license``.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Iterator
from typing import Any

from speechmill.corpus import storage
from speechmill.corpus.config import ConfigError
from speechmill.corpus.errors import os_name
from speechmill.corpus.inputs.localfile import check_input, read_input
from speechmill.corpus.inputs.textfile import decode_text
from speechmill.corpus.reject import Reject
from speechmill.corpus.sources.base import Source, SourceContext, teaching
from speechmill.corpus.types import Recording, Segment, Unit, slug

LICENSE = "as licensed by the owner of the recordings (set license = ... in the config)"
AUDIO_EXTENSIONS = (
    ".wav",
    ".flac",
    ".ogg",
    ".oga",
    ".opus",
    ".mp3",
    ".m4a",
    ".aac",
    ".wma",
    ".aif",
    ".aiff",
    ".au",
    ".caf",
    ".w64",
    ".webm",
    ".mka",
)
TRANSCRIPT_EXTENSIONS = (".txt", ".lab")
DOCUMENTATION = ("readme", "license", "licence", "copying", "notes", "changelog")  # not transcripts


@dataclasses.dataclass(frozen=True)
class Recordings:
    """Some recordings of one folder: (audio path, transcript path or None) pairs, plus the
    folder's transcripts that have no recording."""

    pairs: tuple[tuple[str, str | None], ...]
    orphans: tuple[str, ...] = ()


def _stem(path: str) -> str:
    return path.rsplit(".", 1)[0]


def _native_id(path: str, root: str) -> str:
    """``root/alice/day1/take 3.wav`` -> ``alice/day1/take_3``."""
    parts = _stem(posixpath.relpath(path, root)).split("/")
    return "/".join(slug(os_name(part)) for part in parts)  # "caf\xe9" -> "caf_xe9"


@dataclasses.dataclass
class FolderSource(Source):
    """``[[source]] type = "folder"``; see the README for every key."""

    path: str
    speaker_level: int = 1
    files_per_unit: int = 200
    license: str = LICENSE
    follow_links: bool = False
    teacher: str = ""  # labels recordings that have no transcript ("" : text:missing)
    second: str = ""  # a second opinion on the teacher's labels
    second_max_cer: float | None = None
    split: str | None = None
    limit: int | None = None

    name = "folder"
    LICENSE = LICENSE
    KEYS = frozenset(
        {
            "path",
            "speaker_level",
            "files_per_unit",
            "license",
            "follow_links",
            "teacher",
            "second",
            "second_max_cer",
        }
    )

    @classmethod
    def from_config(cls, table: dict[str, Any], context: SourceContext) -> FolderSource:
        common = cls.common_keys(table)
        path = cls.existing_path(
            table, "path", context, "a folder of recordings with transcripts beside them"
        )
        level = cls.option(table, "speaker_level", int, 1)
        per_unit = cls.option(table, "files_per_unit", int, 200)
        if level < 0:
            raise ConfigError(f"{cls.where()}: speaker_level must be 0 or more, got {level}")
        if per_unit < 1:
            raise ConfigError(f"{cls.where()}: files_per_unit must be positive, got {per_unit}")
        return cls(
            path=path.rstrip("/"),
            speaker_level=level,
            files_per_unit=per_unit,
            license=cls.option(table, "license", str, LICENSE),
            follow_links=cls.option(table, "follow_links", bool, False),
            **teaching(cls, table),
            **common,
        )

    def units(self) -> list[Unit]:
        files = sorted(m.path for m in storage.match(f"{self.path}/**"))
        folders: dict[str, list[str]] = {}
        for f in files:
            folders.setdefault(posixpath.dirname(f), []).append(f)
        units = []
        for folder, names in sorted(folders.items()):
            by_stem = {
                _stem(n): n
                for n in names
                if n.lower().endswith(TRANSCRIPT_EXTENSIONS)
                and not posixpath.basename(n).lower().startswith(DOCUMENTATION)
            }
            audio = [n for n in names if n.lower().endswith(AUDIO_EXTENSIONS)]
            if not audio:
                continue
            pairs = [(a, by_stem.get(_stem(a))) for a in audio]
            orphans = tuple(sorted(set(by_stem.values()) - {t for _, t in pairs if t}))
            relative = posixpath.relpath(folder, self.path)
            for start in range(0, len(pairs), self.files_per_unit):
                chunk = tuple(pairs[start : start + self.files_per_unit])
                units.append(
                    Unit(
                        self.name,
                        f"{relative}/{start // self.files_per_unit:05d}",
                        Recordings(chunk, orphans if start == 0 else ()),
                    )
                )
        if not units:
            raise ConfigError(
                f"{self.where()}: no audio files ({', '.join(AUDIO_EXTENSIONS)}) under {self.path}"
            )
        return units

    def speaker_of(self, audio_path: str) -> str:
        """The speaker named by the folder ``speaker_level`` levels below the root."""
        folders = posixpath.relpath(posixpath.dirname(audio_path), self.path).split("/")
        folders = [] if folders == ["."] else folders
        if self.speaker_level == 0 or not folders:
            return slug(os_name(posixpath.basename(self.path)))
        return slug(os_name(folders[min(self.speaker_level, len(folders)) - 1]))

    def _read(self, path: str, kind: str) -> bytes:
        """A file of the tree (not a FIFO; a link only within it unless ``follow_links``)."""
        return read_input(path, self.path, kind, self.follow_links)

    def read(self, unit: Unit) -> Iterator[Segment | Recording | Reject]:
        work: Recordings = unit.payload
        for audio, transcript in work.pairs:
            item_id = f"{self.name}/{_native_id(audio, self.path)}"
            if transcript is None and self.teacher:
                try:
                    check_input(audio, self.path, "audio", self.follow_links)
                except Reject as reject:
                    reject.item_id = item_id
                    yield reject
                    continue
                speaker = f"{self.name}/{self.speaker_of(audio)}"
                yield Recording(item_id, speaker, speaker, audio, self.license)
                continue
            if transcript is None:
                yield Reject(
                    "text:missing",
                    f"no {' or '.join(TRANSCRIPT_EXTENSIONS)} file beside the recording",
                    item_id=item_id,
                    where=audio,
                )
                continue
            try:
                samples = self._read(audio, "audio")
                raw = self._read(transcript, "text")
                text = decode_text(raw, transcript, reason="text:encoding")
            except Reject as reject:
                reject.item_id = item_id
                yield reject
                continue
            speaker = f"{self.name}/{self.speaker_of(audio)}"
            yield Segment(
                id=item_id,
                speaker=speaker,
                group=speaker,
                text_raw=" ".join(text.split()),
                audio=samples,
                origin=audio,
                license=self.license,
            )
        for transcript in work.orphans:
            yield Reject(
                "audio:missing",
                "transcript has no recording beside it",
                item_id=f"{self.name}/{_native_id(transcript, self.path)}",
                where=transcript,
            )
