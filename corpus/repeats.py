"""One id, one utterance: repeats of an utterance id anywhere in a corpus become ledger lines.

The same Common Voice clip in two rows, or in ``train.tsv`` and ``test.tsv``, the same folder
read by two ``[[source]]`` tables: every record whose id an earlier record already has is
rejected as ``text:duplicate-id``, whichever units and splits they are in. Three pure steps,
each with bounded input, for a Beam job to wire (pipelines/transforms.py ``DropRepeatedIds``):

1. ``occurrences``: a unit's result and its parts' record indexes -> ``(id, Occurrence)`` per
   record (a stream, keyed for a GroupByKey: memory per id, never per corpus);
2. ``repeats``: one id's occurrences -> a :class:`Drop` for each but the first, keyed by the
   unit that holds it. First is held-out before train (test, then dev: a Common Voice test
   clip repeated in ``train.tsv`` leaves train, and the official test set stays whole), then
   by ``[[source]]`` table, unit key and record;
3. ``without_repeats``: a unit's result and its drops -> the result with the dropped records
   left out of rewritten part files (in the job's staging folder, each with its index beside
   it) and a ledger line for each; a unit without drops passes unchanged.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Iterable, Iterator

from speechmill.corpus import storage
from speechmill.corpus.parts import PartIndex, PartSummary, PartWriter, UnitResult
from speechmill.corpus.reject import RejectRecord
from speechmill.corpus.workdir import INDEX_SUFFIX

log = logging.getLogger("speechmill.rejects")
REASON = "text:duplicate-id"
SPLIT_RANK = {"test": 0, "dev": 1, "train": 2}  # which copy of a repeated id is kept


@dataclasses.dataclass(frozen=True, order=True, slots=True)
class Occurrence:
    """Where one record with a given id is: which of them is first is decided by ``order``."""

    order: tuple[int, int, str, str, int]  # split rank, [[source]] table, unit key, split, record
    digest: str
    path: str
    source: str


@dataclasses.dataclass(frozen=True, order=True, slots=True)
class Drop:
    """Record ``record`` of part ``path`` repeats ``item_id``, which ``kept`` has first."""

    path: str
    record: int
    item_id: str
    kept: str  # "unit key (split)" of the first record with the id


def occurrences(
    result: UnitResult, read_index: Callable[[str, str], PartIndex]
) -> Iterator[tuple[str, Occurrence]]:
    """(id, where) for each record of a unit; ``read_index(digest, part path)``."""
    for part in result.parts:
        index = read_index(result.digest, part.path)
        for record, item_id in enumerate(index.ids):
            rank = SPLIT_RANK.get(part.split, len(SPLIT_RANK))
            order = (rank, result.table, result.unit_key, part.split, record)
            yield item_id, Occurrence(order, result.digest, part.path, part.source)


def repeats(item_id: str, found: Iterable[Occurrence]) -> Iterator[tuple[str, Drop]]:
    """(unit digest, drop) for every occurrence of ``item_id`` after the first."""
    first, *later = sorted(found)
    kept = f"{first.order[2]} ({first.order[3]})"
    for occurrence in later:
        yield occurrence.digest, Drop(occurrence.path, occurrence.order[4], item_id, kept)


def without_repeats(
    result: UnitResult,
    drops: Iterable[Drop],
    read_index: Callable[[str, str], PartIndex],
    folder: str,
    sample_rate: int,
) -> UnitResult:
    """The unit's result without its dropped records: each part that loses any is rewritten to
    ``folder`` (its record index beside it) and each drop is a ledger line."""
    by_part: dict[str, dict[int, Drop]] = {}
    for drop in drops:
        by_part.setdefault(drop.path, {})[drop.record] = drop
    if not by_part:
        return result
    parts, rejects = [], list(result.rejects)
    for part in result.parts:
        dropped = by_part.get(part.path)
        if not dropped:
            parts.append(part)
            continue
        index = read_index(result.digest, part.path)
        kept_part, lines = _rewrite(part, index, dropped, folder, sample_rate)
        rejects += lines
        if kept_part.records:
            parts.append(kept_part)
    return dataclasses.replace(result, parts=tuple(parts), rejects=tuple(sorted(rejects)))


def _rewrite(
    part: PartSummary,
    index: PartIndex,
    dropped: dict[int, Drop],
    folder: str,
    sample_rate: int,
) -> tuple[PartSummary, list[RejectRecord]]:
    path = f"{folder}/{part.path.rsplit('/', 1)[-1]}"
    writer, lines, begin = PartWriter(path), [], 0
    with storage.open_read(part.path) as f:
        for record, end in enumerate(index.ends):
            data = f.read(end - begin)
            begin = end
            drop = dropped.get(record)
            if drop is None:
                writer.append(
                    [data], index.samples[record], index.spelled[record], index.ids[record]
                )
                continue
            line = RejectRecord(
                source=part.source,
                id=drop.item_id,
                stage="dedupe",
                reason=REASON,
                detail=f"the same id as an utterance kept in {drop.kept}",
                where=f"{part.key} ({part.split})",
                seconds=round(index.samples[record] / sample_rate, 3),
            )
            log.warning(line.log_line())
            lines.append(line)
    writer.close()
    with storage.create(path + INDEX_SUFFIX) as f:
        f.write(json.dumps(writer.index.to_json()).encode("utf-8"))
    return writer.summary(part.split, part.source, part.key), lines
