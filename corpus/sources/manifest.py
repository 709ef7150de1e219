"""A prepared corpus described by a NeMo manifest: JSON lines of ``audio_filepath``, ``text``,
``duration`` (and ``offset``, ``speaker`` when the corpus has them).

Layout: ``path`` is one manifest (``train_manifest.json``, one JSON object per line); an
``audio_filepath`` that is not absolute is read relative to the manifest's folder, as NeMo
does. A line with an ``offset`` is the span [offset, offset + duration] of its file (a long
recording cut by the manifest); otherwise the whole file is the utterance. The speaker is the
line's ``speaker`` (or ``speaker_id``) when it has one, else the folder the audio file is in
(``<speaker>/<file>.wav``, LibriSpeech's ``<speaker>/<chapter>/...`` gives the chapter: set
``speaker_level``). Give each manifest its own ``[[source]]`` with ``split = "train"`` (or
dev, test) to keep the corpus's own splits. Only files under ``audio_root`` (default: the
manifest's folder) are read: a path that leads out of it is ``audio:link-outside`` unless
``follow_links = true``. A line that is not a JSON object with ``audio_filepath`` and
``text`` is ``manifest:row``, a file named but absent ``audio:missing``. A worker cuts the
manifest into byte ranges of ``unit_mb``, so the launcher never reads it.
Licence: the licence of the corpus the manifest describes; set ``license``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import posixpath
from collections.abc import Iterator
from typing import Any

from speechmill.corpus import storage
from speechmill.corpus.audio import decode
from speechmill.corpus.config import ConfigError
from speechmill.corpus.inputs.localfile import read_input
from speechmill.corpus.inputs.ranges import byte_ranges, lines_in_range
from speechmill.corpus.reject import Reject
from speechmill.corpus.sources.base import Source, SourceContext
from speechmill.corpus.types import Segment, Unit, slug

LICENSE = "as licensed by the corpus the manifest describes (set license = ... in the config)"
FORMATS = ("nemo",)


@dataclasses.dataclass(frozen=True)
class Manifest:
    """The whole manifest, cut into ManifestRanges by a worker (``expand``)."""

    path: str


@dataclasses.dataclass(frozen=True)
class ManifestRange:
    """The lines of the manifest that start within bytes [start, end)."""

    path: str
    start: int
    end: int


@dataclasses.dataclass
class ManifestSource(Source):
    """``[[source]] type = "manifest"``; see the module docstring for every key."""

    path: str
    audio_root: str = ""
    format: str = "nemo"
    speaker_level: int = 1
    unit_mb: float = 4.0
    license: str = LICENSE
    follow_links: bool = False
    split: str | None = None
    limit: int | None = None

    name = "manifest"
    EXPAND_ROUNDS = 1
    LICENSE = LICENSE
    KEYS = frozenset(
        {"path", "audio_root", "format", "speaker_level", "unit_mb", "license", "follow_links"}
    )

    @classmethod
    def from_config(cls, table: dict[str, Any], context: SourceContext) -> ManifestSource:
        common = cls.common_keys(table)
        path = cls.existing_path(table, "path", context, "a NeMo manifest (JSON lines)")
        kind = cls.option(table, "format", str, "nemo")
        if kind not in FORMATS:
            raise ConfigError(
                f"{cls.where()}: format {kind!r} is not read yet; formats: {', '.join(FORMATS)}"
            )
        unit_mb = cls.option(table, "unit_mb", (int, float), 4.0)
        if not unit_mb > 0:
            raise ConfigError(f"{cls.where()}: unit_mb must be positive, got {unit_mb}")
        level = cls.option(table, "speaker_level", int, 1)
        if level < 1:
            raise ConfigError(f"{cls.where()}: speaker_level must be 1 or more, got {level}")
        root = cls.option(table, "audio_root", str, "") or posixpath.dirname(path) or "."
        return cls(
            path=path,
            audio_root=root.rstrip("/") or "/",
            format=kind,
            speaker_level=level,
            unit_mb=float(unit_mb),
            license=cls.option(table, "license", str, LICENSE),
            follow_links=cls.option(table, "follow_links", bool, False),
            **common,
        )

    def units(self) -> list[Unit]:
        """One unit for the manifest; the workers cut it into byte ranges (``expand``)."""
        return [Unit(self.name, "manifest", Manifest(self.path))]

    def expand(self, unit: Unit) -> Iterator[Unit | Reject]:
        """The manifest -> its ranges of ``unit_mb`` bytes (from the file's size alone)."""
        if not isinstance(unit.payload, Manifest):
            yield unit
            return
        step = int(self.unit_mb * (1 << 20))
        for i, (start, end) in enumerate(byte_ranges(storage.size(self.path), step)):
            yield Unit(self.name, f"lines/{i:05d}", ManifestRange(self.path, start, end))

    def read(self, unit: Unit) -> Iterator[Segment | Reject]:
        work: ManifestRange = unit.payload
        with storage.open_read(work.path) as f:
            for offset, line in lines_in_range(f, work.start, work.end):
                if line.strip():
                    yield from self._line(line, f"{work.path} at byte {offset}", offset)

    def _line(self, line: bytes, where: str, offset: int) -> Iterator[Segment | Reject]:
        fallback = f"{self.name}/line@{offset}"
        try:
            row = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError:
            yield Reject("text:encoding", "line is not UTF-8", item_id=fallback, where=where)
            return
        except ValueError as e:
            yield Reject("manifest:row", f"not JSON ({e})", item_id=fallback, where=where)
            return
        if not isinstance(row, dict) or not isinstance(row.get("audio_filepath"), str):
            yield Reject("manifest:row", "no audio_filepath string", item_id=fallback, where=where)
            return
        if not isinstance(row.get("text"), str):
            yield Reject("manifest:row", "no text string", item_id=fallback, where=where)
            return
        named = row["audio_filepath"]
        audio_path = named if named.startswith("/") or "://" in named else (
            posixpath.join(posixpath.dirname(self.path) or ".", named)
        )  # fmt: skip
        item_id = f"{self.name}/{slug(named.rsplit('.', 1)[0])}"
        span = None
        if "offset" in row:
            span = _span_of(row)
            if span is None:
                yield Reject(
                    "manifest:row", "offset and duration must be finite numbers, duration > 0",
                    item_id=item_id, where=where,
                )  # fmt: skip
                return
            item_id += f"@{span[0]:.2f}"
        try:
            audio = read_input(audio_path, self.audio_root, "audio", self.follow_links)
        except Reject as reject:
            reject.item_id = item_id
            yield reject
            return
        except OSError:
            yield Reject(
                "audio:missing", "the manifest names a file that is not there",
                item_id=item_id, where=audio_path,
            )  # fmt: skip
            return
        samples, rate = None, None
        if span is not None:
            try:
                samples, rate = _cut(audio, *span, where=audio_path)
            except Reject as reject:
                reject.item_id = item_id
                yield reject
                return
        speaker = row.get("speaker", row.get("speaker_id"))
        if speaker is None:
            folders = posixpath.dirname(named).split("/")
            speaker = folders[-self.speaker_level] if len(folders) >= self.speaker_level else ""
        speaker = f"{self.name}/{slug(str(speaker)) or 'unknown'}"
        yield Segment(
            id=item_id,
            speaker=speaker,
            group=speaker,
            text_raw=row["text"],
            audio=audio if samples is None else samples,
            sample_rate=rate,
            origin=audio_path,
            license=self.license,
        )


def _span_of(row: dict) -> tuple[float, float] | None:
    """A line's (offset, duration) in seconds; None unless both are finite, offset >= 0 and
    duration > 0 (a manifest is data: "abc", NaN and booleans are not times)."""
    values = (row.get("offset"), row.get("duration"))
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return None
    start, length = float(values[0]), float(values[1])
    if not (math.isfinite(start) and math.isfinite(length) and start >= 0 and length > 0):
        return None
    return start, length


def _cut(audio: bytes, start: float, length: float, where: str):
    """Samples [start, start + length] seconds of an encoded file, and its rate."""
    samples, rate = decode(audio, where=where)
    first, last = round(start * rate), round((start + length) * rate)
    if last > samples.shape[0] + rate // 100:
        raise Reject(
            "manifest:span",
            f"span {start:g}+{length:g} s is not inside the {samples.shape[0] / rate:.2f} s file",
            where=where,
        )
    return samples[first:last], rate
