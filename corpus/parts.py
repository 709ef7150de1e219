"""A unit's accepted records, written to part files, and the one result a unit gives a job.

``PartWriter`` appends framed TFRecords to a part file (through corpus/storage.py) and keeps
the part's **record index** (each record's end offset, sample count, whether its raw transcript
had written forms read out, and its id). The index goes to disk with the unit (the unit cache's
manifest), never into the job's elements: a job step sees one :class:`UnitResult` per unit,
whose :class:`PartSummary` rows carry totals only (records, bytes, samples), so the shard plan
and the whole-corpus facts need memory per unit, never per utterance.
"""

from __future__ import annotations

import dataclasses
import re
from typing import BinaryIO

from speechmill.corpus import storage
from speechmill.corpus.measures import MEASURES
from speechmill.corpus.reject import RejectRecord
from speechmill.corpus.schema import Utterance, record_chunks
from speechmill.corpus.tfrecord import frame_chunks
from speechmill.corpus.types import Note

WRITTEN_FORM_RE = re.compile(r"[0-9$£€¥₹%&@/°²³+]")  # what the normalizer reads out


@dataclasses.dataclass(frozen=True, slots=True)
class Row:
    """One record's row of a part's index."""

    samples: int
    spelled: bool  # its raw transcript had written forms read out
    id: str
    speaker: str = ""  # what per-speaker statistics (the speaking-rate fences) go by
    rate: float | None = None  # seconds of speech per transcript character (None: not measured)
    sketch: str = ""  # the audio's MinHash sketch (corpus/fingerprint.py); "": none
    measures: tuple[float | None, ...] = ()  # its measures in MEASURES' order (the histograms)


COLUMNS = ("ends", "samples", "spelled", "ids", "speakers", "rates", "sketches", "measures")


@dataclasses.dataclass(frozen=True)
class PartIndex:
    """Per record of one part file: end offset, sample count, written forms read out, id,
    speaker, speaking rate and audio sketch (the last three empty in an older unit cache)."""

    ends: tuple[int, ...]
    samples: tuple[int, ...]
    spelled: tuple[bool, ...]
    ids: tuple[str, ...] = ()  # the records' utterance ids (what repeats are found by)
    speakers: tuple[str, ...] = ()
    rates: tuple[float | None, ...] = ()
    sketches: tuple[str, ...] = ()
    measures: tuple[tuple[float | None, ...], ...] = ()

    def head(self, records: int) -> PartIndex:
        """The index of the first ``records`` records."""
        return PartIndex(*(getattr(self, c)[:records] for c in COLUMNS))

    def row(self, record: int) -> Row:
        """Record ``record``'s row (what a rewritten part carries over)."""

        def at(column: tuple, default):
            return column[record] if column else default

        return Row(
            self.samples[record],
            self.spelled[record],
            self.ids[record],
            at(self.speakers, ""),
            at(self.rates, None),
            at(self.sketches, ""),
            at(self.measures, ()),
        )

    def to_json(self) -> dict:
        return {c: list(getattr(self, c)) for c in COLUMNS}

    @classmethod
    def from_json(cls, data: dict) -> PartIndex:
        index = cls(
            tuple(int(e) for e in data["ends"]),
            tuple(int(s) for s in data["samples"]),
            tuple(bool(s) for s in data["spelled"]),
            tuple(str(i) for i in data["ids"]),
            tuple(str(s) for s in data.get("speakers", ())),
            tuple(None if r is None else float(r) for r in data.get("rates", ())),
            tuple(str(s) for s in data.get("sketches", ())),
            tuple(tuple(m) for m in data.get("measures", ())),
        )
        lengths = {len(getattr(index, c)) for c in COLUMNS if getattr(index, c)}
        if len(lengths) > 1 or len(index.ids) != len(index.ends):
            raise ValueError("a record index whose columns differ in length")
        return index


@dataclasses.dataclass(frozen=True, slots=True)
class PartSummary:
    """One part file of a unit (one split; in a range job, one source), as totals."""

    split: str
    path: str
    source: str  # of its utterances
    key: str  # orders the part in its split (the unit's key; a range job adds the source)
    records: int
    bytes: int
    samples: int
    spelled: int  # records whose raw transcript had digits or symbols read out
    sha1: str = ""  # of the whole piece, where a job keeps one (an export's piece)

    @classmethod
    def of(
        cls, split: str, path: str, source: str, key: str, index: PartIndex, sha1: str = ""
    ) -> PartSummary:
        return cls(
            split=split,
            path=path,
            source=source,
            key=key,
            records=len(index.ends),
            bytes=index.ends[-1] if index.ends else 0,
            samples=sum(index.samples),
            spelled=sum(index.spelled),
            sha1=sha1,
        )


@dataclasses.dataclass(frozen=True)
class UnitResult:
    """Everything one work unit of any job gives the job: its parts (totals), ledger lines and
    notes. ``table`` is the input the unit came from where a job has several (a build's
    [[source]] tables: what limits and the order of repeated ids go by); jobs over one input
    leave it 0."""

    digest: str  # names the unit's files in the unit cache
    unit_key: str
    parts: tuple[PartSummary, ...] = ()
    rejects: tuple[RejectRecord, ...] = ()
    notes: tuple[Note, ...] = ()
    table: int = 0

    @property
    def records(self) -> int:
        return sum(p.records for p in self.parts)

    @property
    def samples(self) -> int:
        return sum(p.samples for p in self.parts)


class PartWriter:
    """Appends framed records to a part file, keeping its record index (a finished part is
    known again by its size and time, corpus/workdir.py: no hash of its bytes is kept)."""

    def __init__(self, path: str):
        self.path = path
        self.file: BinaryIO = storage.create(path)
        self.ends: list[int] = []
        self.rows: list[Row] = []
        self.offset = 0

    def write(self, utt: Utterance, sketch: str = "") -> None:
        self.write_framed(frame_chunks(record_chunks(utt)), utt, sketch)

    def write_framed(self, data: list[bytes], utt: Utterance, sketch: str = "") -> None:
        """Append one framed record of ``utt``, given as the pieces of its bytes."""
        cps = utt.measures.chars_per_second
        row = Row(
            utt.num_samples,
            bool(WRITTEN_FORM_RE.search(utt.text_raw)),
            utt.id,
            utt.speaker,
            round(1.0 / cps, 5) if cps else None,
            sketch,
            tuple(getattr(utt.measures, name) for name in MEASURES),
        )
        self.append(data, row)

    def append(self, data: list[bytes], row: Row) -> None:
        """Append one framed record (the pieces of its bytes) and its row of the index."""
        for piece in data:
            self.file.write(piece)
            self.offset += len(piece)
        self.ends.append(self.offset)
        self.rows.append(row)

    def close(self) -> None:
        self.file.close()

    @property
    def index(self) -> PartIndex:
        rows = self.rows
        return PartIndex(
            tuple(self.ends),
            tuple(r.samples for r in rows),
            tuple(r.spelled for r in rows),
            tuple(r.id for r in rows),
            tuple(r.speaker for r in rows),
            tuple(r.rate for r in rows),
            tuple(r.sketch for r in rows),
            tuple(r.measures for r in rows),
        )

    def summary(self, split: str, source: str, key: str) -> PartSummary:
        return PartSummary.of(split, self.path, source, key, self.index)
