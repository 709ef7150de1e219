"""Reading a finished corpus as the input of a corpus -> corpus job (make augment, make verify).

``read_input(folder)`` checks the folder's ``info.json``; ``shard_ranges`` cuts a shard into
work units of a fixed number of records found from the TFRecord headers alone (fixed, so a
job's output never depends on the worker count); ``read_range`` yields a unit's records.
``CachedRanges`` is the DoFn both jobs build on: a range an earlier run into the same output
finished with the same identity is reused from ``OUT/.parts``. ``same_folder`` tells whether an output would overwrite its input.
"""
from __future__ import annotations

import dataclasses
import io
import json
import os
from typing import Callable, Iterator

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from corpus.build import WRITTEN_FORM_RE, PartResult, PartWriter
from corpus.schema import INFO_FILE, Utterance, check_info
from corpus.tfrecord import frame, read_records, record_offsets
from corpus.types import Unit, slug
from corpus.workdir import UnitCache, UnitDone, files_identity, fingerprint, note_progress, unit_digest


def open_file(path: str):
    """A binary file through Beam's FileSystems (local, gs://, s3://, ...)."""
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def read_input(folder: str) -> dict:
    """A finished corpus's checked info.json; FileNotFoundError or CorpusMismatch otherwise."""
    if not FileSystems.exists(f"{folder}/{INFO_FILE}"):
        raise FileNotFoundError(f"{folder}: no {INFO_FILE}; not a finished speechmill corpus")
    with open_file(f"{folder}/{INFO_FILE}") as f:
        info = json.loads(f.read())
    check_info(info, where=folder)
    return info


def input_shards(folder: str, info: dict) -> list[tuple[str, str]]:
    """(split, path) of every shard of a corpus, splits in name order."""
    return [(split, f"{folder}/{name}") for split, s in sorted(info["splits"].items()) for name in s["shards"]]


@dataclasses.dataclass(frozen=True)
class ShardRange:
    """Records ``first``.. of one input shard, bytes [start, end): one work unit."""

    split: str
    path: str
    start: int
    end: int
    first: int

    @property
    def key(self) -> str:
        return f"{self.split}/{self.path.rsplit('/', 1)[-1]}/{self.first:07d}"


def shard_ranges(split: str, path: str, per_unit: int | None) -> list[ShardRange]:
    """An input shard cut into units of at most ``per_unit`` records (None: the whole shard)."""
    size = FileSystems.match([path])[0].metadata_list[0].size_in_bytes
    with open_file(path) as f:
        offsets = record_offsets(f, size, path)
    step = per_unit or max(1, len(offsets) - 1)
    return [ShardRange(split, path, offsets[i], offsets[min(i + step, len(offsets) - 1)], i)
            for i in range(0, len(offsets) - 1, step)]


def read_range(work: ShardRange) -> Iterator[bytes]:
    """The serialized records of one unit (its bytes are read in one piece)."""
    with open_file(work.path) as f:
        f.seek(work.start)
        yield from read_records(io.BytesIO(f.read(work.end - work.start)), work.path)


def same_folder(a: str, b: str) -> bool:
    """Do two folder paths or URLs name the same folder?"""
    if "://" in a or "://" in b:
        return a.rstrip("/") == b.rstrip("/")
    return os.path.realpath(a) == os.path.realpath(b)


class RangeParts:
    """A unit's output: one part file per source, opened on first use."""

    def __init__(self, part_path: Callable[[str], str]):
        self.part_path = part_path
        self.writers: dict[str, PartWriter] = {}

    def write(self, utt: Utterance, record: bytes | None = None) -> None:
        """Append ``utt`` to its source's part; ``record``: its serialized bytes when unchanged."""
        if utt.source not in self.writers:
            self.writers[utt.source] = PartWriter(self.part_path(utt.source))
        if record is None:
            self.writers[utt.source].write(utt)
        else:
            self.writers[utt.source].write_framed(frame(record), utt.num_samples, bool(WRITTEN_FORM_RE.search(utt.text_raw)))

    def close(self) -> None:
        for w in self.writers.values():
            w.file.close()

    def results(self, work: "ShardRange") -> list[PartResult]:
        return [w.result(source, 0, f"{work.key}/{source}", work.split) for source, w in sorted(self.writers.items())]


class CachedRanges(beam.DoFn):
    """ShardRange -> its results (from ``work``, or reused) and its UnitDone marker.

    Subclasses implement ``work(range, parts)``, writing utterances with ``parts.write`` and
    yielding RejectRecords (and Notes); the part files' results are added here. A unit is
    reused when its identity (the job's fingerprint, the range and the input shard's size and
    time) is that of a finished unit in ``parts_dir``."""

    def __init__(self, name: str, parts_dir: str, job: str, sample_rate: int, progress: str | None = None):
        self.name, self.parts_dir, self.job = name, parts_dir, job
        self.sample_rate, self.progress = sample_rate, progress

    def work(self, work: ShardRange, parts: RangeParts) -> Iterator:
        raise NotImplementedError

    def process(self, work: ShardRange) -> Iterator:
        cache = UnitCache(self.parts_dir)
        digest = unit_digest(0, Unit(self.name, work.key, work))
        identity = fingerprint(self.job, work, files_identity([work.path]))
        items = cache.load(digest, identity)
        if items is None:
            cache.forget(digest)
            parts = RangeParts(lambda source: cache.part_path(digest, f"{work.split}.{slug(source)}"))
            try:
                items = list(self.work(work, parts))
            finally:
                parts.close()
            items += parts.results(work)
            cache.store(digest, identity, items)
        yield from items
        if self.progress:
            note_progress(self.progress, digest, items, self.sample_rate)
        yield UnitDone(digest)
