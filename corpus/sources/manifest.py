"""A prepared corpus described by a manifest: NeMo's JSON lines of ``audio_filepath``,
``text``, ``duration`` (and ``offset``, ``speaker``, ``gender`` when the corpus has them), or
lhotse's cuts (``format = "lhotse"``).

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
manifest into byte ranges of ``unit_mb``, so the launcher never reads it; a gzipped manifest
(``.gz``) has no byte ranges and is read, as a stream, by one worker.

``format = "lhotse"``: ``path`` is a cuts manifest (``*_cuts_*.jsonl`` or ``.jsonl.gz``);
each supervision of a cut is an utterance: the span [cut start + supervision start, +
duration] of the cut's channel of its recording's one ``file`` source (relative paths from
the manifest's folder, as for NeMo), with the supervision's text, speaker and gender. A cut
line holds its recording, so no worker has to join two manifests; lhotse recordings +
supervisions become cuts with ``lhotse cut simple -r RECORDINGS -s SUPERVISIONS CUTS``, and
``speechmill export --format lhotse`` writes cuts beside them.
Licence: the licence of the corpus the manifest describes; set ``license``.
"""

from __future__ import annotations

import dataclasses
import gzip
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
FORMATS = ("nemo", "lhotse")
MAX_LINE = 1 << 20  # bytes: a longer manifest line is rejected, never held


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
        if self.path.endswith(".gz"):  # a compressed stream has no byte ranges: one worker
            yield Unit(self.name, "lines/00000", ManifestRange(self.path, 0, -1))
            return
        step = int(self.unit_mb * (1 << 20))
        for i, (start, end) in enumerate(byte_ranges(storage.size(self.path), step)):
            yield Unit(self.name, f"lines/{i:05d}", ManifestRange(self.path, start, end))

    def read(self, unit: Unit) -> Iterator[Segment | Reject]:
        work: ManifestRange = unit.payload
        with storage.open_read(work.path) as f:
            lines = gzip_lines(f) if work.end < 0 else lines_in_range(f, work.start, work.end)
            for offset, line in lines:
                if line.strip():
                    yield from self._line(line, f"{work.path} at byte {offset}", offset)

    def _line(self, line: bytes, where: str, offset: int) -> Iterator[Segment | Reject]:
        fallback = f"{self.name}/line@{offset}"
        if len(line) > MAX_LINE:
            yield Reject(
                "manifest:row", f"line over {MAX_LINE >> 20} MiB", item_id=fallback, where=where
            )
            return
        try:
            row = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError:
            yield Reject("text:encoding", "line is not UTF-8", item_id=fallback, where=where)
            return
        except ValueError as e:
            yield Reject("manifest:row", f"not JSON ({e})", item_id=fallback, where=where)
            return
        entries = (
            nemo_entries(row, self.name) if self.format == "nemo" else cut_entries(row, self.name)
        )
        for entry in entries:
            if isinstance(entry, Reject):
                entry.item_id = entry.item_id or fallback
                entry.where = where
                yield entry
            else:
                yield from self._segment(entry, where)

    def _segment(self, entry: Entry, where: str) -> Iterator[Segment | Reject]:
        """An entry -> its Segment (the audio read, and cut to the entry's span)."""
        named = entry.audio
        audio_path = named if named.startswith("/") or "://" in named else (
            posixpath.join(posixpath.dirname(self.path) or ".", named)
        )  # fmt: skip
        item_id = entry.item_id
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
        if entry.span is not None:
            try:
                samples, rate = _cut(audio, *entry.span, where=audio_path, channel=entry.channel)
            except Reject as reject:
                reject.item_id = item_id
                yield reject
                return
        speaker = entry.speaker
        if speaker is None:
            folders = posixpath.dirname(named).split("/")
            speaker = folders[-self.speaker_level] if len(folders) >= self.speaker_level else ""
        speaker = f"{self.name}/{slug(str(speaker)) or 'unknown'}"
        yield Segment(
            id=item_id,
            speaker=speaker,
            group=speaker,
            text_raw=entry.text,
            audio=audio if samples is None else samples,
            sample_rate=rate,
            origin=audio_path,
            license=self.license,
            gender=entry.gender,
        )


@dataclasses.dataclass(frozen=True)
class Entry:
    """One utterance a manifest line names: its audio file (as written), span, text, speaker."""

    item_id: str
    audio: str
    text: str
    span: tuple[float, float] | None  # (offset, duration) s; None: the whole file
    speaker: Any = None  # None: the folder the audio file is in
    gender: str = ""
    channel: int = 0


def _gender(value: Any) -> str:
    """ "f" or "m" from a manifest's gender field (f, female, m, male in any case), else ""."""
    text = str(value or "").strip().lower()
    return {"f": "f", "female": "f", "m": "m", "male": "m"}.get(text, "")


def nemo_entries(row: Any, name: str) -> list[Entry | Reject]:
    """A NeMo manifest line (``audio_filepath``, ``text``; ``offset``, ``duration``,
    ``speaker``/``speaker_id``, ``gender`` when present) -> its Entry (or a Reject)."""
    if not isinstance(row, dict) or not isinstance(row.get("audio_filepath"), str):
        return [Reject("manifest:row", "no audio_filepath string")]
    if not isinstance(row.get("text"), str):
        return [Reject("manifest:row", "no text string")]
    named = row["audio_filepath"]
    item_id = f"{name}/{slug(named.rsplit('.', 1)[0])}"
    span = None
    if "offset" in row:
        span = _span_of(row.get("offset"), row.get("duration"))
        if span is None:
            return [
                Reject(
                    "manifest:row",
                    "offset and duration must be finite numbers, duration > 0",
                    item_id=item_id,
                )  # fmt: skip
            ]
        item_id += f"@{span[0]:.2f}"
    speaker = row.get("speaker", row.get("speaker_id"))
    return [Entry(item_id, named, row["text"], span, speaker, _gender(row.get("gender")))]


def cut_entries(row: Any, name: str) -> list[Entry | Reject]:
    """A lhotse cut (``recording`` with one file source, ``supervisions`` with ``text``,
    ``start`` within the cut and ``duration``) -> one Entry per supervision."""
    recording = row.get("recording") if isinstance(row, dict) else None
    supervisions = row.get("supervisions") if isinstance(row, dict) else None
    if not isinstance(recording, dict) or not isinstance(supervisions, list):
        return [
            Reject(
                "manifest:row",
                "not a lhotse cut with a recording and supervisions (join recordings and "
                "supervisions into cuts: lhotse cut simple -r RECORDINGS -s SUPERVISIONS CUTS)",
            )
        ]
    sources = recording.get("sources")
    if not (
        isinstance(sources, list)
        and len(sources) == 1
        and isinstance(sources[0], dict)
        and sources[0].get("type") == "file"
        and isinstance(sources[0].get("source"), str)
    ):
        return [Reject("manifest:row", "the recording is not one audio file (sources type file)")]
    cut_start = row.get("start", 0.0)
    channel = row.get("channel", 0)
    if not isinstance(channel, int) or isinstance(channel, bool) or channel < 0:
        return [Reject("manifest:row", "the cut's channel is not one channel number")]
    entries: list[Entry | Reject] = []
    for sup in supervisions:
        if not isinstance(sup, dict) or not isinstance(sup.get("id"), str):
            entries.append(Reject("manifest:row", "a supervision without an id"))
            continue
        item_id = f"{name}/{slug(sup['id'])}"
        if not isinstance(sup.get("text"), str):
            entries.append(Reject("manifest:row", "a supervision without text", item_id=item_id))
            continue
        start = sup.get("start")
        span = _span_of(
            cut_start + start if _number(cut_start) and _number(start) else None,
            sup.get("duration"),
        )
        if span is None:
            entries.append(
                Reject(
                    "manifest:row",
                    "start and duration must be finite numbers, duration > 0",
                    item_id=item_id,
                )  # fmt: skip
            )
            continue
        speaker = sup.get("speaker")
        entries.append(
            Entry(
                item_id,
                sources[0]["source"],
                sup["text"],
                span,
                speaker,
                _gender(sup.get("gender")),
                channel,
            )  # fmt: skip
        )
    return entries


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def gzip_lines(f: Any) -> Iterator[tuple[int, bytes]]:
    """(offset in the decompressed stream, line) of a gzipped manifest, read as a stream
    (a line over MAX_LINE is cut there, and then rejected)."""
    offset = 0
    with gzip.GzipFile(fileobj=f) as stream:
        try:
            while line := stream.readline(MAX_LINE + 1):
                if len(line) > MAX_LINE and not line.endswith(b"\n"):
                    while (rest := stream.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                        pass  # skip the rest of an overlong line
                yield offset, line
                offset += len(line)
        except (OSError, EOFError) as error:
            raise Reject("manifest:gzip", f"cannot decompress ({error})") from None


def _span_of(offset: Any, duration: Any) -> tuple[float, float] | None:
    """(offset, duration) in seconds; None unless both are finite, offset >= 0 and
    duration > 0 (a manifest is data: "abc", NaN and booleans are not times)."""
    if not (_number(offset) and _number(duration)):
        return None
    start, length = float(offset), float(duration)
    if not (math.isfinite(start) and math.isfinite(length) and start >= 0 and length > 0):
        return None
    return start, length


def _cut(audio: bytes, start: float, length: float, where: str, channel: int = 0):
    """Samples [start, start + length] seconds of one channel of an encoded file, and its rate."""
    samples, rate = decode(audio, where=where)
    if samples.ndim == 2:
        if channel >= samples.shape[1]:
            raise Reject("manifest:row", f"no channel {channel} in the file", where=where)
        samples = samples[:, channel]
    first, last = round(start * rate), round((start + length) * rate)
    if last > samples.shape[0] + rate // 100:
        raise Reject(
            "manifest:span",
            f"span {start:g}+{length:g} s is not inside the {samples.shape[0] / rate:.2f} s file",
            where=where,
        )
    return samples[first:last], rate
