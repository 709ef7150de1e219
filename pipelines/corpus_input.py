"""A finished corpus as the input of a corpus -> corpus job (make augment, make verify).

The corpus is read through corpus/reader.py: its shards are cut into work units of a fixed
number of records (``reader.shard_ranges``: fixed, so a job's output never depends on the
worker count). ``CachedRanges`` is the DoFn both jobs build on: a range an earlier run into the
same output finished with the same identity is reused from ``OUT/.parts``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import apache_beam as beam

from speechmill.corpus.parts import WRITTEN_FORM_RE, PartResult, PartWriter
from speechmill.corpus.reader import ShardRange
from speechmill.corpus.schema import Utterance
from speechmill.corpus.tfrecord import frame
from speechmill.corpus.types import Unit, slug
from speechmill.corpus.workdir import (
    UnitCache,
    UnitDone,
    files_identity,
    fingerprint,
    note_progress,
    unit_digest,
)


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
            self.writers[utt.source].write_framed(
                frame(record), utt.num_samples, bool(WRITTEN_FORM_RE.search(utt.text_raw))
            )

    def close(self) -> None:
        for w in self.writers.values():
            w.file.close()

    def results(self, work: ShardRange) -> list[PartResult]:
        return [
            w.result(source, 0, f"{work.key}/{source}", work.split)
            for source, w in sorted(self.writers.items())
        ]


class CachedRanges(beam.DoFn):
    """ShardRange -> its results (from ``work``, or reused) and its UnitDone marker.

    Subclasses implement ``work(range, parts)``, writing utterances with ``parts.write`` and
    yielding RejectRecords (and Notes); the part files' results are added here. A unit is
    reused when its identity (the job's fingerprint, the range and the input shard's size and
    time) is that of a finished unit in ``parts_dir``."""

    def __init__(
        self, name: str, parts_dir: str, job: str, sample_rate: int, progress: str | None = None
    ):
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
            parts = RangeParts(
                lambda source: cache.part_path(digest, f"{work.split}.{slug(source)}")
            )
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
