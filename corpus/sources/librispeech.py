"""LibriSpeech: a local folder, a .tar.gz archive read as a stream, or a subset downloaded.

Folder layout: ``[LibriSpeech/]<subset>/<speaker>/<chapter>/<speaker>-<chapter>.trans.txt``
beside ``<speaker>-<chapter>-<nnnn>.flac``, and ``SPEAKERS.TXT`` at the root. A folder is
one work unit per chapter, matched by a worker (the launcher lists the folder only); an
archive is one unit read front to back. The official subset
(dev-*, test-*, train-*) gives the split unless the config sets ``split``; ``group`` is the
speaker, so a speaker never spans two splits.
"""

from __future__ import annotations

import collections
import dataclasses
import os
import posixpath
import re
from collections.abc import Iterator
from typing import Any

from speechmill.corpus import storage
from speechmill.corpus.config import ConfigError, resolve_path
from speechmill.corpus.inputs.archive import (
    DEFAULT_MAX_MEMBER_BYTES,
    TAR_SUFFIXES,
    iter_members,
)
from speechmill.corpus.inputs.fetch import fetch
from speechmill.corpus.inputs.localfile import read_input
from speechmill.corpus.inputs.textfile import decode_text
from speechmill.corpus.reject import Reject
from speechmill.corpus.sources.base import Source, SourceContext
from speechmill.corpus.types import InputFile, Segment, Unit
from speechmill.corpus.workdir import files_identity

LICENSE = "CC BY 4.0 (LibriSpeech, OpenSLR SLR12)"
DEFAULT_MIRROR = "https://www.openslr.org/resources/12/{subset}.tar.gz"
# Official checksums from the resource's md5sum.txt.
SUBSET_MD5 = {
    "dev-clean": "42e2234ba48799c1f50f24a7926300a1",
    "dev-other": "c8d0bcc9cca99d4f8b62fcc847357931",
    "test-clean": "32fa31d27d2e1cad72775fee3f4849a9",
    "test-other": "fb5a50374b501bb3bac4815ee91d3135",
    "train-clean-100": "2a93770f6d5c6c964bc36631d331a522",
    "train-clean-360": "c0e676e450a7ff2f54aeade5171606fa",
    "train-other-500": "d1a0fd59409feb2c614ce4d30c387708",
}
_SUBSET_RE = re.compile(r"^(dev|test|train)-(clean|other)(-\d+)?$")
MAX_PENDING_BYTES = 512 << 20  # archive audio waiting for its transcript before it is rejected


def split_of_path(path: str) -> str | None:
    """The official split named by a subset folder in ``path`` ("dev-clean" -> "dev")."""
    for part in reversed(path.replace("\\", "/").split("/")):
        m = _SUBSET_RE.match(part)
        if m:
            return m.group(1)
    return None


def parse_transcripts(text: str) -> tuple[dict[str, str], dict[str, int]]:
    """``<utt-id> <TRANSCRIPT>`` lines (space or tab after the id) -> ({utt-id: transcript},
    {utt-id: line count} of ids given by more than one line; those are left out of the first)."""
    out: dict[str, str] = {}
    counts: collections.Counter = collections.Counter()
    for line in text.splitlines():
        fields = line.strip().split(None, 1)
        if fields:
            counts[fields[0]] += 1
            out[fields[0]] = fields[1].strip() if len(fields) > 1 else ""
    duplicates = {utt_id: n for utt_id, n in counts.items() if n > 1}
    return {k: v for k, v in out.items() if k not in duplicates}, duplicates


def duplicate_rejects(duplicates: dict[str, int], source: str, where: str) -> Iterator[Reject]:
    """One ``text:duplicate-id`` per line of an id that several transcript lines give."""
    for utt_id, count in sorted(duplicates.items()):
        for line in range(1, count + 1):
            yield Reject(
                "text:duplicate-id",
                f"{count} transcript lines give this id (line {line} of {count}); "
                "none can be trusted",
                item_id=f"{source}/{utt_id}",
                where=where,
            )


def parse_speakers(text: str) -> dict[str, str]:
    """SPEAKERS.TXT (``ID | SEX | SUBSET | MINUTES | NAME``) -> {speaker: "f"/"m"}."""
    out = {}
    for line in text.splitlines():
        if line.startswith(";") or "|" not in line:
            continue
        fields = [f.strip() for f in line.split("|")]
        if len(fields) >= 2 and fields[1].upper() in ("F", "M"):
            out[fields[0]] = fields[1].lower()
    return out


def _read_bytes(path: str) -> bytes:
    with storage.open_read(path) as f:
        return f.read()


def _is_file(path: str) -> bool:
    """A path that names a file (a folder has no size of its own in FileSystems.match)."""
    if "://" not in path:
        return os.path.isfile(path)
    return not path.endswith("/") and bool(storage.match(path))


def _match(pattern: str) -> list[str]:
    return sorted(m.path for m in storage.match(pattern))


@dataclasses.dataclass(frozen=True)
class Chapter:
    """A chapter folder: its ``trans.txt`` and the reader's gender."""

    transcript: str
    gender: str = ""


@dataclasses.dataclass(frozen=True)
class Tree:
    """A folder of chapters (a chapter, a speaker, a subset, LibriSpeech/ or the folder above
    it), matched into Chapter units by a worker."""

    root: str


@dataclasses.dataclass(frozen=True)
class Archive:
    """A local (or remote) ``.tar.gz`` read front to back."""

    path: str


@dataclasses.dataclass(frozen=True)
class Download:
    """A subset fetched from the mirror into the cache, then read as an archive."""

    url: str
    md5: str | None
    subset: str


class ArchiveMatcher:
    """Pairs an archive's audio members with their transcript lines as they stream past (a
    chapter's transcript can come before or after its audio): audio whose transcript has not
    come yet waits, up to MAX_PENDING_BYTES, and what never finds its pair is a ledger line.
    ``segment(utt_id, text, audio, origin, gender, split)`` makes a matched pair a Segment."""

    def __init__(self, name: str, archive: str, segment):
        self.name, self.archive, self.segment = name, archive, segment
        self.transcripts: dict[str, dict[str, str]] = {}  # chapter folder -> lines
        self.pending: dict[str, tuple[str, bytes, str]] = {}  # utt id -> (member, flac, split)
        self.pending_bytes = 0
        self.seen: set[str] = set()
        self.dropped: set[str] = set()  # ids rejected as duplicates
        self.genders: dict[str, str] = {}

    def _missing(self, utt_id: str, member: str, reason: str, detail: str) -> Reject:
        return Reject(
            reason, detail, item_id=f"{self.name}/{utt_id}", where=f"{self.archive}!{member}"
        )

    def _pair(self, utt_id: str, text: str, audio: bytes, member: str, split) -> Segment:
        self.seen.add(utt_id)
        gender = self.genders.get(utt_id.split("-")[0], "")
        return self.segment(utt_id, text, audio, f"{self.archive}!{member}", gender, split)

    def speakers(self, data: bytes) -> None:
        self.genders = parse_speakers(data.decode("utf-8", errors="replace"))

    def transcript(self, member: str, data: bytes) -> Iterator[Segment | Reject]:
        """A chapter's transcript: its waiting audio is paired, its repeated ids rejected."""
        origin = f"{self.archive}!{member}"
        try:
            lines, duplicates = parse_transcripts(decode_text(data, origin, reason="text:encoding"))
        except Reject as reject:
            yield reject
            return
        yield from duplicate_rejects(duplicates, self.name, origin)
        for utt_id in duplicates:
            if utt_id in self.pending:
                self.pending_bytes -= len(self.pending.pop(utt_id)[1])
        self.transcripts[posixpath.dirname(member)] = lines
        self.dropped.update(duplicates)
        for utt_id in sorted(lines):
            if utt_id in self.pending:
                waiting, audio, split = self.pending.pop(utt_id)
                self.pending_bytes -= len(audio)
                yield self._pair(utt_id, lines[utt_id], audio, waiting, split)

    def audio(self, member: str, data: bytes, split) -> Iterator[Segment | Reject]:
        """An utterance's FLAC: paired now when its chapter's transcript came, else it waits."""
        utt_id = posixpath.basename(member)[: -len(".flac")]
        lines = self.transcripts.get(posixpath.dirname(member))
        if utt_id in self.dropped:
            return
        if lines is not None and utt_id in lines:
            yield self._pair(utt_id, lines[utt_id], data, member, split)
        elif lines is not None:
            yield self._missing(utt_id, member, "text:missing", "audio file has no transcript line")
        else:
            self.pending[utt_id] = (member, data, split)
            self.pending_bytes += len(data)
            while self.pending_bytes > MAX_PENDING_BYTES:  # the oldest waits no longer
                old_id, (old_member, old, _) = next(iter(self.pending.items()))
                del self.pending[old_id]
                self.pending_bytes -= len(old)
                yield self._missing(
                    old_id,
                    old_member,
                    "text:missing",
                    "no transcript before the audio-buffer limit",
                )

    def truncated(self) -> Iterator[Reject]:
        """The archive broke off: the audio still waiting lost its transcript with it."""
        for utt_id, (member, _, _) in sorted(self.pending.items()):
            yield self._missing(
                utt_id,
                member,
                "archive:truncated",
                "audio read, but its transcript lay past the damage",
            )

    def unmatched(self) -> Iterator[Reject]:
        """At the end: audio without a transcript line, transcript lines without audio."""
        for utt_id, (member, _, _) in sorted(self.pending.items()):
            yield self._missing(utt_id, member, "text:missing", "audio file has no transcript line")
        for folder, lines in sorted(self.transcripts.items()):
            for utt_id in sorted(set(lines) - self.seen):
                yield self._missing(
                    utt_id, folder, "audio:missing", "transcript line has no audio file"
                )


@dataclasses.dataclass
class LibriSpeechSource(Source):
    """``[[source]] type = "librispeech"``; see the README for every key."""

    path: str
    split: str | None = None
    limit: int | None = None
    mirror: str = DEFAULT_MIRROR
    md5: str | None = None
    cache_dir: str = ""
    max_member_bytes: int = DEFAULT_MAX_MEMBER_BYTES
    follow_links: bool = False

    name = "librispeech"
    EXPAND_ROUNDS = 1
    LICENSE = LICENSE
    KEYS = frozenset({"path", "mirror", "md5", "max_member_mb", "follow_links"})

    @classmethod
    def from_config(cls, table: dict[str, Any], context: SourceContext) -> LibriSpeechSource:
        common = cls.common_keys(table)
        path = cls.option(table, "path", str)
        if path is None:
            raise ConfigError(f"{cls.where()}: needs path (a folder, a .tar.gz or a subset name)")
        if path not in SUBSET_MD5 and not _SUBSET_RE.match(path):
            path = resolve_path(path, context.base_dir)
            if not storage.exists(path):
                raise ConfigError(
                    f"{cls.where()}: {path} does not exist "
                    f"(nor is it a subset name: {', '.join(SUBSET_MD5)})"
                )
            if not path.lower().endswith(TAR_SUFFIXES) and _is_file(path):
                raise ConfigError(
                    f"{cls.where()}: {path}: unsupported archive type; give a folder or a "
                    f"{', '.join(TAR_SUFFIXES)} archive (unpack a .zip first)"
                )
        max_mb = cls.option(
            table, "max_member_mb", (int, float), DEFAULT_MAX_MEMBER_BYTES / (1 << 20)
        )
        if not max_mb > 0:
            raise ConfigError(f"{cls.where()}: max_member_mb must be positive, got {max_mb}")
        return cls(
            path=path,
            mirror=cls.option(table, "mirror", str, DEFAULT_MIRROR),
            md5=cls.option(table, "md5", str),
            cache_dir=context.cache_dir,
            max_member_bytes=int(max_mb * (1 << 20)),
            follow_links=cls.option(table, "follow_links", bool, False),
            **common,
        )

    # ---------------------------------------------------------------- units

    def units(self) -> list[Unit]:
        if _SUBSET_RE.match(self.path) and not storage.exists(self.path):
            url = self.mirror.format(subset=self.path)
            md5 = self.md5 if self.md5 is not None else SUBSET_MD5.get(self.path)
            return [Unit(self.name, f"download/{self.path}", Download(url, md5, self.path))]
        if self.path.lower().endswith(TAR_SUFFIXES):
            return [Unit(self.name, f"archive/{posixpath.basename(self.path)}", Archive(self.path))]
        root = self.path.rstrip("/")
        return [Unit(self.name, f"tree/{posixpath.basename(root)}", Tree(root))]

    def expand(self, unit: Unit) -> Iterator[Unit | Reject]:
        """A folder -> one unit per chapter, matched on a worker (a subset's thousands of
        chapters are never listed on the launcher)."""
        if not isinstance(unit.payload, Tree):
            yield unit
            return
        root = unit.payload.root
        # the root may be a chapter, a speaker, a subset, LibriSpeech/ or the folder above it
        transcripts = sorted(
            {
                p
                for depth in ("", "/*", "/*/*", "/*/*/*", "/*/*/*/*")
                for p in _match(f"{root}{depth}/*.trans.txt")
            }
        )
        if not transcripts:
            yield Reject(
                "librispeech:empty", f"no *.trans.txt under {root}", item_id=unit.key, where=root
            )
            return
        genders = self._speaker_genders(root)
        for path in transcripts:
            speaker = posixpath.basename(path).split("-")[0]
            chapter = posixpath.basename(path).split(".")[0]
            yield Unit(
                self.name,
                f"folder/{split_of_path(path) or '-'}/{chapter}",
                Chapter(path, genders.get(speaker, "")),
            )

    def input_identity(self, unit: Unit) -> list:
        """A chapter depends on every file in its folder (the FLACs are not in the payload)."""
        if isinstance(unit.payload, Chapter):
            return files_identity([f"{posixpath.dirname(unit.payload.transcript)}/*"])
        return super().input_identity(unit)

    def _speaker_genders(self, root: str) -> dict[str, str]:
        candidates = [f"{root}/SPEAKERS.TXT", f"{root}/LibriSpeech/SPEAKERS.TXT"]
        parent = root
        for _ in range(3):  # a subset, speaker or chapter folder: SPEAKERS.TXT is above it
            parent = posixpath.dirname(parent)
            candidates.append(f"{parent}/SPEAKERS.TXT")
        for path in candidates:
            if storage.exists(path):
                return parse_speakers(_read_bytes(path).decode("utf-8", errors="replace"))
        return {}

    # ---------------------------------------------------------------- reading

    def _segment(
        self,
        utt_id: str,
        text: str,
        audio: bytes | InputFile,
        origin: str,
        gender: str,
        split: str | None,
    ) -> Segment:
        speaker = f"{self.name}/{utt_id.split('-')[0]}"
        return Segment(
            id=f"{self.name}/{utt_id}",
            speaker=speaker,
            group=speaker,
            text_raw=text,
            audio=audio,
            origin=origin,
            license=self.license,
            gender=gender,
            split=split,
        )

    def read(self, unit: Unit) -> Iterator[Segment | Reject]:
        work = unit.payload
        if isinstance(work, Chapter):
            yield from self._read_chapter(work.transcript, work.gender)
        elif isinstance(work, Download):
            archive = fetch(work.url, self.cache_dir, md5=work.md5)
            yield from self._read_archive(archive, split_of_path(work.subset))
        else:
            yield from self._read_archive(
                work.path, split_of_path(posixpath.basename(work.path).split(".")[0])
            )

    def _read_chapter(self, transcript_path: str, gender: str) -> Iterator[Segment | Reject]:
        folder = posixpath.dirname(transcript_path)
        raw = read_input(transcript_path, self.path, "text", self.follow_links)
        lines, duplicates = parse_transcripts(
            decode_text(raw, transcript_path, reason="text:encoding")
        )
        yield from duplicate_rejects(duplicates, self.name, transcript_path)
        flacs = {posixpath.basename(p)[: -len(".flac")]: p for p in _match(f"{folder}/*.flac")}
        split = split_of_path(transcript_path)
        for utt_id in sorted((set(lines) | set(flacs)) - set(duplicates)):
            item = f"{self.name}/{utt_id}"
            if utt_id not in flacs:
                yield Reject(
                    "audio:missing",
                    "transcript line has no audio file",
                    item_id=item,
                    where=transcript_path,
                )
            elif utt_id not in lines:
                yield Reject(
                    "text:missing",
                    "audio file has no transcript line",
                    item_id=item,
                    where=flacs[utt_id],
                )
            else:  # opened (with read_input's checks) when the build decodes it
                audio = InputFile(flacs[utt_id], self.path, "audio", self.follow_links)
                yield self._segment(utt_id, lines[utt_id], audio, flacs[utt_id], gender, split)

    def _read_archive(self, archive: str, split: str | None) -> Iterator[Segment | Reject]:
        """Stream an archive's members through an ArchiveMatcher (audio waits in memory, up to
        a bound, until its chapter's transcript arrives)."""
        matcher = ArchiveMatcher(self.name, archive, self._segment)
        with storage.open_read(archive) as f:
            try:
                for member in iter_members(f, archive, self.max_member_bytes):
                    if isinstance(member, Reject):
                        yield member
                        continue
                    name, data = member
                    base = posixpath.basename(name)
                    if base == "SPEAKERS.TXT":
                        matcher.speakers(data)
                    elif base.endswith(".trans.txt"):
                        yield from matcher.transcript(name, data)
                    elif base.endswith(".flac"):
                        yield from matcher.audio(name, data, split or split_of_path(name))
            except Reject:
                yield from matcher.truncated()
                raise
        yield from matcher.unmatched()
