"""One id, one sound, one utterance: repeats anywhere in a corpus become ledger lines.

The same Common Voice clip in two rows, or in ``train.tsv`` and ``test.tsv``, the same folder
read by two ``[[source]]`` tables (``text:duplicate-id``); the same recording as a WAV in one
folder and an MP3 in another, a film in two encodings (``audio:duplicate``). Pure steps, each
with bounded input, for a Beam job to wire (pipelines/transforms.py ``DropRepeats``):

1. ``record_keys``: a unit's records -> their keys (``id:ID`` and, with ``sounds``, each
   fingerprint key of corpus/fingerprint.py). Pass one adds them to a fixed-size sketch
   (corpus/candidates.py); pass two (``candidates``) keeps the (key, Occurrence) of only the
   keys the merged sketch says may repeat, for a GroupByKey: memory per key, never per corpus.
2. ``repeats``: one key's occurrences -> a :class:`Drop` for each that repeats an earlier
   one, keyed by the unit that holds it. Earlier is held-out before train (test, then dev: a
   Common Voice test clip repeated in ``train.tsv`` leaves train, and the official test set
   stays whole), then by ``[[source]]`` table, unit key and record. For an id, every later
   occurrence; for a sound key, every later record whose fingerprint matches an earlier one's
   (``same_sound``), naming the earliest it matches. Matches are not chained: a record goes
   when it sounds like any earlier record, whether that one stays or not (A~B, B~C, A!~C: B
   and C both go, A stays), so what stays never sounds like anything else that stays.
3. ``without_drops``: a unit's result and its drops (of any kind: rate outliers too,
   corpus/rates.py) -> the result with the dropped records left out of rewritten part files
   (in the job's staging folder, each with its index beside it) and a ledger line for each;
   a record dropped for several reasons gets one line (the lowest :class:`Drop`).
"""

from __future__ import annotations

import dataclasses
import functools
import heapq
import json
import logging
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from speechmill.corpus import fingerprint, storage
from speechmill.corpus.candidates import Seen
from speechmill.corpus.parts import PartIndex, PartSummary, PartWriter, UnitResult
from speechmill.corpus.print_files import record_words
from speechmill.corpus.reject import RejectRecord
from speechmill.corpus.workdir import INDEX_SUFFIX

log = logging.getLogger("speechmill.rejects")
ID_REASON, SOUND_REASON = "text:duplicate-id", "audio:duplicate"
SPLIT_RANK = {"test": 0, "dev": 1, "train": 2}  # which copy of a repeat is kept
MAX_COMPARED = 64  # earlier records of a key one record is compared with (a key of many: noise)
MAX_SCANNED = 1_000  # earlier records of a key looked at for those it is compared with
MAX_GROUP = 10_000  # records of one sound key held and compared, the first in keep order
ReadIndex = Callable[[str, str], PartIndex]


@dataclasses.dataclass(frozen=True, order=True, slots=True)
class Occurrence:
    """Where one record with a given key is: which of them is first is decided by ``order``."""

    order: tuple[int, int, str, str, int]  # split rank, [[source]] table, unit key, split, record
    digest: str
    path: str
    source: str
    item_id: str = ""
    span: tuple[int, int] = (0, 0)  # its bytes in the part file
    samples: int = 0
    sketch: str = ""  # its sound keys: a pair is compared under the first key they share

    @property
    def where(self) -> str:
        return f"{self.order[2]} ({self.order[3]})"


@dataclasses.dataclass(frozen=True, order=True, slots=True)
class Drop:
    """Record ``record`` of part ``path`` leaves the corpus for ``reason``."""

    path: str
    record: int
    priority: tuple  # of several drops of one record, the lowest is the ledger's line
    item_id: str
    reason: str
    detail: str
    stage: str = "dedupe"


def record_keys(result: UnitResult, read_index: ReadIndex, sounds: bool) -> Iterator[str]:
    """Every key of every record of a unit (pass one)."""
    for part in result.parts:
        index = read_index(result.digest, part.path)
        for record, item_id in enumerate(index.ids):
            yield f"id:{item_id}"
            if sounds and index.sketches:
                yield from fingerprint.keys(index.sketches[record])


def seen_keys(result: UnitResult, read_index: ReadIndex, sounds: bool, seen: Seen) -> Seen:
    for key in record_keys(result, read_index, sounds):
        seen.add(key)
    return seen


def candidates(
    result: UnitResult, read_index: ReadIndex, sounds: bool, seen: Seen
) -> Iterator[tuple[str, Occurrence]]:
    """(key, where) for each key of a unit's records that may repeat elsewhere (pass two)."""
    for part in result.parts:
        index = read_index(result.digest, part.path)
        rank = SPLIT_RANK.get(part.split, len(SPLIT_RANK))
        for record, item_id in enumerate(index.ids):
            keys = [f"id:{item_id}"]
            if sounds and index.sketches:
                keys += fingerprint.keys(index.sketches[record])
            span = (index.ends[record - 1] if record else 0, index.ends[record])
            occurrence = Occurrence(
                (rank, result.table, result.unit_key, part.split, record),
                result.digest,
                part.path,
                part.source,
                item_id,
                span,
                index.samples[record],
                index.sketches[record] if sounds and index.sketches else "",
            )
            for key in keys:
                if seen.maybe_repeated(key):
                    yield key, occurrence


def repeats(key: str, found: Iterable[Occurrence], sample_rate: int) -> Iterator[tuple[str, Drop]]:
    """(unit digest, drop) for every occurrence of ``key`` that repeats an earlier one. Memory
    is bounded whatever the key's count: an id's occurrences are read twice (the first, then
    the rest; a GroupByKey's values can be), a sound key's first ``MAX_GROUP`` in keep order
    are compared, a pair of records under the first key they share only (the one comparison
    of a pair however many keys they share), each record with up to ``MAX_COMPARED`` of the
    ``MAX_SCANNED`` before it (a key so common is noise)."""
    if key.startswith("id:"):
        first = min(found)
        detail = f"the same id as an utterance kept in {first.where}"
        for o in found:
            if o != first:
                yield o.digest, Drop(o.path, o.order[4], (0,), o.item_id, ID_REASON, detail)
        return
    ordered = heapq.nsmallest(MAX_GROUP, found)
    number = int(key.split(":")[1])

    def print_of(o: Occurrence) -> fingerprint.Indexed:
        return record_prints(o.path, o.order[4], o.span, sample_rate)

    words = _sketch_words(ordered)
    for j, o in enumerate(ordered[1:], start=1):
        compared, lo = 0, max(0, j - MAX_SCANNED)
        met_before = (words[lo:j, :number] == words[j, :number]).any(axis=1)
        for i in np.flatnonzero(~met_before):  # the pair meets under its first shared key only
            earlier = ordered[lo + i]
            if earlier.item_id == o.item_id or not fingerprint.could_be_same(
                earlier.samples, o.samples
            ):
                continue
            if compared == MAX_COMPARED:
                break
            compared += 1
            if fingerprint.same_sound(print_of(earlier), print_of(o)):
                detail = f"the same sound as {earlier.item_id}, kept in {earlier.where}"
                priority = (1, *earlier.order)  # the earliest it sounds like is named
                yield o.digest, Drop(o.path, o.order[4], priority, o.item_id, SOUND_REASON, detail)
                break


def _sketch_words(ordered: list[Occurrence]) -> np.ndarray:
    """(records, SKETCH_KEYS) the words of each record's sketch (``fingerprint.keys``); a
    record's missing word is a number no word equals, nor another record's missing word."""
    out = np.arange(len(ordered), dtype=np.int64)[:, None] + np.full(
        (1, fingerprint.SKETCH_KEYS), 1 << 32, dtype=np.int64
    )
    for row, o in enumerate(ordered):
        found = np.frombuffer(bytes.fromhex(o.sketch), dtype=">u4")[: fingerprint.SKETCH_KEYS]
        out[row, : len(found)] = found
    return out


@functools.lru_cache(maxsize=512)  # a worker's recent records (a record has up to 32 keys)
def record_prints(
    path: str, record: int, span: tuple[int, int], sample_rate: int
) -> fingerprint.Indexed:
    """A record's fingerprint, indexed for comparing: the words the build kept beside its part,
    else (a part made before them) from its audio."""
    words = record_words(path, record)
    if words is None:
        words = fingerprint.prints(record_audio(path, span), sample_rate)
    return fingerprint.indexed(words)


def record_audio(path: str, span: tuple[int, int]) -> np.ndarray:
    """A record's PCM16 samples, read from its part file."""
    import io

    from speechmill.corpus.schema import decode_utterance
    from speechmill.corpus.tfrecord import read_records

    with storage.open_read(path) as f:
        f.seek(span[0])
        data = f.read(span[1] - span[0])
    (record,) = read_records(io.BytesIO(data), where=path)
    return decode_utterance(record).audio


def without_drops(
    result: UnitResult,
    drops: Iterable[Drop],
    read_index: ReadIndex,
    folder: str,
    sample_rate: int,
) -> UnitResult:
    """The unit's result without its dropped records: each part that loses any is rewritten to
    ``folder`` (its record index beside it) and each dropped record is one ledger line."""
    by_part: dict[str, dict[int, Drop]] = {}
    for drop in drops:
        records = by_part.setdefault(drop.path, {})
        if drop.record not in records or drop < records[drop.record]:
            records[drop.record] = drop
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
                writer.append([data], index.row(record))
                continue
            line = RejectRecord(
                source=part.source,
                id=drop.item_id,
                stage=drop.stage,
                reason=drop.reason,
                detail=drop.detail,
                where=f"{part.key} ({part.split})",
                seconds=round(index.samples[record] / sample_rate, 3),
            )
            log.warning(line.log_line())
            lines.append(line)
    writer.close()
    with storage.create(path + INDEX_SUFFIX) as f:
        f.write(json.dumps(writer.index.to_json()).encode("utf-8"))
    return writer.summary(part.split, part.source, part.key), lines
