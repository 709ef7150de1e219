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
import hashlib
import re
from typing import BinaryIO

from speechmill.corpus import storage
from speechmill.corpus.reject import RejectRecord
from speechmill.corpus.schema import Utterance, record_chunks
from speechmill.corpus.tfrecord import frame_chunks
from speechmill.corpus.types import Note

WRITTEN_FORM_RE = re.compile(r"[0-9$£€¥₹%&@/°²³+]")  # what the normalizer reads out


@dataclasses.dataclass(frozen=True)
class PartIndex:
    """Per record of one part file: end offset, sample count, written forms read out, id."""

    ends: tuple[int, ...]
    samples: tuple[int, ...]
    spelled: tuple[bool, ...]
    ids: tuple[str, ...] = ()  # the records' utterance ids (what repeats are found by)

    def head(self, records: int) -> PartIndex:
        """The index of the first ``records`` records."""
        return PartIndex(
            self.ends[:records], self.samples[:records], self.spelled[:records], self.ids[:records]
        )

    def to_json(self) -> dict:
        return {
            "ends": list(self.ends),
            "samples": list(self.samples),
            "spelled": list(self.spelled),
            "ids": list(self.ids),
        }

    @classmethod
    def from_json(cls, data: dict) -> PartIndex:
        index = cls(
            tuple(int(e) for e in data["ends"]),
            tuple(int(s) for s in data["samples"]),
            tuple(bool(s) for s in data["spelled"]),
            tuple(str(i) for i in data["ids"]),
        )
        if not len(index.ends) == len(index.samples) == len(index.spelled) == len(index.ids):
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
    sha1: str = ""  # of the whole part file

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
    """Appends framed records to a part file, keeping its record index and sha1."""

    def __init__(self, path: str):
        self.path = path
        self.file: BinaryIO = storage.create(path)
        self.ends: list[int] = []
        self.samples: list[int] = []
        self.spelled: list[bool] = []
        self.ids: list[str] = []
        self.offset = 0
        self.digest = hashlib.sha1()

    def write(self, utt: Utterance) -> None:
        self.write_framed(frame_chunks(record_chunks(utt)), utt)

    def write_framed(self, data: list[bytes], utt: Utterance) -> None:
        """Append one framed record of ``utt``, given as the pieces of its bytes."""
        self.append(data, utt.num_samples, bool(WRITTEN_FORM_RE.search(utt.text_raw)), utt.id)

    def append(self, data: list[bytes], samples: int, spelled: bool, item_id: str) -> None:
        """Append one framed record (the pieces of its bytes) and its row of the index."""
        for piece in data:
            self.file.write(piece)
            self.digest.update(piece)
            self.offset += len(piece)
        self.ends.append(self.offset)
        self.samples.append(samples)
        self.spelled.append(spelled)
        self.ids.append(item_id)

    def close(self) -> None:
        self.file.close()

    @property
    def index(self) -> PartIndex:
        return PartIndex(
            tuple(self.ends), tuple(self.samples), tuple(self.spelled), tuple(self.ids)
        )

    def summary(self, split: str, source: str, key: str) -> PartSummary:
        return PartSummary.of(split, self.path, source, key, self.index, self.digest.hexdigest())
