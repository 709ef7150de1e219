"""A finished corpus as the input of a corpus -> corpus job (make augment, make verify).

The corpus is read through corpus/reader.py. ``corpus_ranges`` makes the job's units as Beam
steps: one element per shard, which the workers cut into ranges of a fixed number of records
(``reader.shard_ranges``: fixed, so a job's output never depends on the worker count), so the
launcher's graph holds the shard list only. ``CachedRanges`` is the DoFn both jobs build on: a
range an earlier run into the same output finished with the same identity is reused from
``OUT/.parts`` (through ``UnitCache.reuse_or_make``, the reuse loop of every job).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import apache_beam as beam

from speechmill.corpus.parts import PartIndex, PartWriter, UnitResult
from speechmill.corpus.reader import ShardRange, shard_ranges
from speechmill.corpus.reject import RejectRecord
from speechmill.corpus.schema import Utterance
from speechmill.corpus.tfrecord import frame_chunks
from speechmill.corpus.types import Note, Unit, slug
from speechmill.corpus.workdir import (
    Made,
    UnitCache,
    files_identity,
    fingerprint,
    note_planned,
    unit_digest,
)


def corpus_ranges(
    shards: list[tuple[str, str]],
    per_unit: Callable[[str], int | None],
    planned: str | None = None,
) -> Callable[[beam.Pipeline], beam.PCollection]:
    """The units of a corpus -> corpus job: (split, shard path) elements that workers cut into
    ShardRanges of ``per_unit(split)`` records (None: the whole shard); each shard's count of
    ranges is noted in ``planned`` for the progress display."""

    def cut(split: str, path: str) -> list[ShardRange]:
        ranges = shard_ranges(split, path, per_unit(split))
        if planned:
            note_planned(planned, path, len(ranges))
        return ranges

    def units(p: beam.Pipeline) -> beam.PCollection:
        return (
            p
            | "Shards" >> beam.Create(shards)
            | "Spread shards" >> beam.Reshuffle()
            | "Cut into ranges" >> beam.FlatMapTuple(cut)
            | "Spread ranges" >> beam.Reshuffle()
        )

    return units


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
            self.writers[utt.source].write_framed(frame_chunks([record]), utt)

    def close(self) -> None:
        for w in self.writers.values():
            w.close()

    def result(
        self, digest: str, work: ShardRange, items: list[RejectRecord | Note]
    ) -> tuple[UnitResult, dict[str, PartIndex]]:
        """The unit's result (one part per source, each keyed ``range/source``) and indexes."""
        ordered = sorted(self.writers.items())
        result = UnitResult(
            digest=digest,
            unit_key=work.key,
            parts=tuple(w.summary(work.split, s, f"{work.key}/{s}") for s, w in ordered),
            rejects=tuple(i for i in items if isinstance(i, RejectRecord)),
            notes=tuple(i for i in items if isinstance(i, Note)),
        )
        return result, {w.path: w.index for _, w in ordered}


class CachedRanges(beam.DoFn):
    """ShardRange -> its UnitResult (from ``work``, or reused).

    Subclasses implement ``work(range, parts)``, writing utterances with ``parts.write`` and
    yielding RejectRecords (and Notes). A unit is reused when its identity (the job's
    fingerprint, the range and the input shard's size and time) is that of a finished unit in
    ``parts_dir``."""

    def __init__(self, name: str, parts_dir: str, job: str):
        self.name, self.parts_dir, self.job = name, parts_dir, job

    def work(self, work: ShardRange, parts: RangeParts) -> Iterator:
        raise NotImplementedError

    def process(self, work: ShardRange) -> Iterator[UnitResult]:
        cache = UnitCache(self.parts_dir)
        digest = unit_digest(0, Unit(self.name, work.key, work))
        identity = fingerprint(self.job, work, files_identity([work.path]))

        def make() -> Made:
            parts = RangeParts(
                lambda source: cache.part_path(digest, f"{work.split}.{slug(source)}")
            )
            try:
                items = list(self.work(work, parts))
            finally:
                parts.close()
            return parts.result(digest, work, items)

        yield cache.reuse_or_make(digest, identity, make)
