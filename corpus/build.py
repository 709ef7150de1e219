"""One work unit -> cleaned utterances written to per-split part files, plus ledger records.

``to_utterance`` turns a source's :class:`Segment` into an :class:`Utterance` (decode, mono,
resample, PCM16, normalize, filter) or raises ``Reject``. ``build_unit`` runs a whole unit
and streams accepted utterances into TFRecord part files (one per split), so memory holds
one utterance at a time; it returns small :class:`PartResult` records that later steps use
to cut the parts into shards by byte ranges. ``build_or_reuse`` takes a finished unit of the
same identity from the output folder's unit cache instead (see corpus/workdir.py).
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
from typing import TYPE_CHECKING, BinaryIO, Callable, Iterator

import numpy as np
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from corpus import audio as audio_lib
from corpus.config import CorpusSettings
from corpus.reject import Reject, RejectRecord, record_reject
from corpus.schema import Utterance, encode_utterance
from corpus.types import Note, Segment, Unit, stable_hash
from corpus.text import normalize
from corpus.tfrecord import frame
from corpus.workdir import UnitCache, UnitDone, unit_digest

if TYPE_CHECKING:
    from corpus.sources import Source


WRITTEN_FORM_RE = re.compile(r"[0-9$£€¥₹%&@/°²³+]")      # what the normalizer reads out


@dataclasses.dataclass(frozen=True)
class PartResult:
    """A unit's accepted utterances for one split, as written to ``path``."""

    source: str
    table: int                  # index of the [[source]] table the unit came from
    unit_key: str
    split: str
    path: str
    ends: tuple[int, ...]       # byte offset just after each record
    samples: tuple[int, ...]    # num_samples of each record
    sha1: str = ""              # of the part file's bytes
    spelled: tuple[bool, ...] = ()   # per record: its raw transcript had digits or symbols read out


def assign_split(group: str, settings: CorpusSettings) -> str:
    """A stable split for a group: the same group always lands in the same split."""
    u = stable_hash("split", settings.seed, group) / 2.0 ** 64
    if u < settings.test_fraction:
        return "test"
    if u < settings.test_fraction + settings.dev_fraction:
        return "dev"
    return "train"


def to_utterance(segment: Segment, source: str, settings: CorpusSettings) -> Utterance:
    """A segment as found -> a clean utterance at the corpus rate; raises Reject."""
    where = segment.origin
    if isinstance(segment.audio, (bytes, bytearray)):
        samples, rate = audio_lib.decode(bytes(segment.audio), where=where, fallback_rate=settings.sample_rate)
    else:
        samples, rate = np.asarray(segment.audio), int(segment.sample_rate or 0)
        if rate <= 0:
            raise ValueError(f"{segment.id}: array audio needs sample_rate")
    pcm = audio_lib.to_corpus_format(samples, rate, settings.sample_rate)
    seconds = pcm.shape[0] / settings.sample_rate
    if seconds < settings.min_seconds:
        raise Reject("duration:short", f"{seconds:.2f} s < min_seconds {settings.min_seconds}", where=where)
    if seconds > settings.max_seconds:
        raise Reject("duration:long", f"{seconds:.2f} s > max_seconds {settings.max_seconds}", where=where)
    text = normalize(segment.text_raw, where=where)
    cps = len(text) / seconds
    if cps > settings.max_chars_per_second:
        raise Reject("rate:fast", f"{cps:.1f} chars/s > {settings.max_chars_per_second} "
                     "(transcript too long for the audio)", where=where)
    if cps < settings.min_chars_per_second:
        raise Reject("rate:slow", f"{cps:.1f} chars/s < {settings.min_chars_per_second} "
                     "(transcript too short for the audio)", where=where)
    return Utterance(id=segment.id, source=source, speaker=segment.speaker, group=segment.group,
                     text=text, text_raw=segment.text_raw, audio=pcm, license=segment.license,
                     origin=segment.origin, synthetic=segment.synthetic, gender=segment.gender,
                     captions=segment.captions)


class PartWriter:
    """Appends framed records to a part file, noting each record's end offset and sample count
    and the file's sha1."""

    def __init__(self, path: str):
        self.path = path
        self.file: BinaryIO = FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED)
        self.ends: list[int] = []
        self.samples: list[int] = []
        self.spelled: list[bool] = []
        self.offset = 0
        self.digest = hashlib.sha1()

    def write(self, utt: Utterance) -> None:
        self.write_framed(frame(encode_utterance(utt)), utt.num_samples, bool(WRITTEN_FORM_RE.search(utt.text_raw)))

    def result(self, source: str, table: int, unit_key: str, split: str) -> PartResult:
        return PartResult(source=source, table=table, unit_key=unit_key, split=split, path=self.path,
                          ends=tuple(self.ends), samples=tuple(self.samples), sha1=self.digest.hexdigest(),
                          spelled=tuple(self.spelled))

    def write_framed(self, data: bytes, num_samples: int, spelled: bool = False) -> None:
        """Append one already framed record."""
        self.file.write(data)
        self.digest.update(data)
        self.offset += len(data)
        self.ends.append(self.offset)
        self.samples.append(num_samples)
        self.spelled.append(spelled)


def build_or_reuse(source: Source, unit: Unit, settings: CorpusSettings, cache: UnitCache, table: int,
                   identity: str) -> Iterator[PartResult | RejectRecord | Note | UnitDone]:
    """A unit's results from the cache when a finished unit of the same identity is there,
    else built (and then stored); always ends with the unit's UnitDone marker."""
    digest = unit_digest(table, unit)
    cached = cache.load(digest, identity)
    if cached is not None:
        yield from cached
    else:
        cache.forget(digest)
        items = []
        for item in build_unit(source, unit, settings, lambda split: cache.part_path(digest, split), table):
            items.append(item)
            yield item
        cache.store(digest, identity, items)
    yield UnitDone(digest)


def build_unit(source: Source, unit: Unit, settings: CorpusSettings, part_path: Callable[[str], str],
               table: int = 0) -> Iterator[PartResult | RejectRecord | Note]:
    """Read one unit, clean every segment, write the survivors to ``part_path(split)``; yield
    parts, rejects and notes."""
    writers: dict[str, PartWriter] = {}
    accepted = 0
    try:
        for item in source.read(unit):
            if isinstance(item, Reject):
                yield record_reject(item, source=source.name, stage="read", where=unit.key)
                continue
            if isinstance(item, Note):
                yield item
                continue
            try:
                utt = to_utterance(item, source.name, settings)
            except Reject as reject:
                yield record_reject(reject, source=source.name, stage="clean", item_id=item.id,
                                    where=item.origin)
                continue
            split = source.split or item.split or assign_split(item.group, settings)
            if split not in writers:
                writers[split] = PartWriter(part_path(split))
            writers[split].write(utt)
            accepted += 1
            if source.limit is not None and accepted >= source.limit:
                break
    except Reject as reject:
        yield record_reject(reject, source=source.name, stage="unit", item_id=f"{source.name}/{unit.key}",
                            where=unit.key)
    finally:
        for writer in writers.values():
            writer.file.close()
    for split, writer in sorted(writers.items()):
        yield writer.result(source.name, table, unit.key, split)
