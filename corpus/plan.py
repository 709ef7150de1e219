"""The shard plan from per-part totals: which records of which part files make up each shard.

The plan never sees a record. It works in three small steps, each a pure function a Beam step
calls with bounded input:

1. ``limit_table`` (only for a ``[[source]]`` table with a ``limit``): the table's parts in
   unit-key order keep the first ``limit`` utterances; the one part cut short reads its record
   index to learn its new totals.
2. ``plan_split``: a split's parts in a seeded order (a stable hash of seed and unit), each with
   the bytes of the split before it: a :class:`PlacedPart`. The split's shard count comes
   from its byte and record totals.
3. ``place_records``: one placed part and its record index -> its :class:`Piece` of each shard
   it falls into (a record goes to shard ``int(start * shards / total)``, where ``start`` is
   its first byte in the split), so each part is cut where it lies, by whoever holds it.

A shard's pieces, sorted by ``rank``, are its bytes; ``shard_names`` numbers the shards that
received any (a record larger than a shard can leave a raw index empty).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Iterator

from speechmill.corpus.parts import PartIndex, PartSummary, UnitResult
from speechmill.corpus.types import stable_hash


@dataclasses.dataclass(frozen=True, slots=True)
class PartRef:
    """One part of one unit, as totals: what the limit and the plan work on."""

    digest: str  # the unit's: its manifest holds the part's record index
    table: int
    part: PartSummary


def part_refs(result: UnitResult) -> list[PartRef]:
    return [PartRef(result.digest, result.table, p) for p in result.parts]


def limit_table(
    refs: Iterable[PartRef], limit: int, read_index: Callable[[PartRef], PartIndex]
) -> Iterator[PartRef]:
    """The parts of one table keeping its first ``limit`` utterances, units in key order."""
    left = limit
    for ref in sorted(refs, key=lambda r: (r.part.key, r.part.split, r.digest)):
        if left <= 0:
            return
        if ref.part.records > left:
            index = read_index(ref).head(left)
            ref = dataclasses.replace(ref, part=_cut(ref.part, index))
        left -= ref.part.records
        if ref.part.records:
            yield ref


def _cut(part: PartSummary, index: PartIndex) -> PartSummary:
    return PartSummary.of(part.split, part.path, part.source, part.key, index, part.sha1)


@dataclasses.dataclass(frozen=True, slots=True)
class PlacedPart:
    """A part's place in its split: ``rank`` in the order, ``start`` bytes before it."""

    digest: str
    path: str
    split: str
    source: str
    rank: int
    start: int
    records: int  # the part's first ``records`` records are in the corpus
    shards: int  # the split's raw shard count
    total: int  # the split's bytes


def shard_count(total_bytes: int, records: int, shard_mb: float) -> int:
    """Shards of about ``shard_mb`` MB, never more than records, at least one."""
    return max(1, min(records, math.ceil(total_bytes / (shard_mb * 1e6))))


def order_key(ref: PartRef, seed: int) -> tuple[int, str, str]:
    """Where a part goes in its split: seeded, stable, independent of the runner."""
    return stable_hash("order", seed, ref.part.source, ref.part.key), ref.part.key, ref.digest


def plan_split(refs: Iterable[PartRef], seed: int, shard_mb: float) -> Iterator[PlacedPart]:
    """One split's parts -> their places, in order (memory: one small row per part)."""
    ordered = sorted(refs, key=lambda r: order_key(r, seed))
    total = sum(r.part.bytes for r in ordered)
    shards = shard_count(total, sum(r.part.records for r in ordered), shard_mb)
    start = 0
    for rank, ref in enumerate(ordered):
        yield PlacedPart(
            ref.digest,
            ref.part.path,
            ref.part.split,
            ref.part.source,
            rank,
            start,
            ref.part.records,
            shards,
            total,
        )
        start += ref.part.bytes


@dataclasses.dataclass(frozen=True, order=True, slots=True)
class Piece:
    """Bytes [begin, end) of a part file: ``records`` records of ``source``, ``samples``
    samples and ``spelled`` spelled-out transcripts in all."""

    rank: int
    begin: int
    path: str
    end: int
    source: str
    records: int
    samples: int
    spelled: int


def place_records(placed: PlacedPart, index: PartIndex) -> Iterator[tuple[int, Piece]]:
    """(raw shard index, piece) for each shard the part's records fall into."""
    pieces: list[list[int]] = []  # [shard, first byte, end byte, records, samples, spelled]
    begin = 0
    for end, samples, spelled in zip(index.ends[: placed.records], index.samples, index.spelled):
        shard = min(placed.shards - 1, int((placed.start + begin) * placed.shards / placed.total))
        if not pieces or pieces[-1][0] != shard:
            pieces.append([shard, begin, end, 0, 0, 0])
        piece = pieces[-1]
        piece[2], piece[3], piece[4], piece[5] = (
            end,
            piece[3] + 1,
            piece[4] + samples,
            piece[5] + spelled,
        )
        begin = end
    for shard, first, last, records, total, spelled in pieces:
        yield (
            shard,
            Piece(placed.rank, first, placed.path, last, placed.source, records, total, spelled),
        )


def byte_ranges(pieces: Iterable[Piece]) -> list[tuple[str, int, int]]:
    """A shard's pieces in rank order as (path, begin, end) byte ranges, adjacent ones merged."""
    ranges: list[list] = []
    for piece in sorted(pieces):
        if ranges and ranges[-1][0] == piece.path and ranges[-1][2] == piece.begin:
            ranges[-1][2] = piece.end
        else:
            ranges.append([piece.path, piece.begin, piece.end])
    return [(p, b, e) for p, b, e in ranges]


def shard_names(split: str, raw_indices: Iterable[int]) -> dict[int, str]:
    """Raw shard index -> published name, numbering the non-empty shards of a split."""
    kept = sorted(set(raw_indices))
    return {raw: f"{split}-{i:05d}-of-{len(kept):05d}.tfrecord" for i, raw in enumerate(kept)}
