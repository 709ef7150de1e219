"""A unit's accepted records for one split, written to a part file, and what a job keeps of it.

``PartWriter`` appends framed TFRecords to a part file (through corpus/storage.py) and notes
each record's end offset, sample count and whether its raw transcript had written forms read
out; ``PartResult`` is that small summary, which the shard plan and the unit cache use.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from typing import BinaryIO

from speechmill.corpus import storage
from speechmill.corpus.schema import Utterance, encode_utterance
from speechmill.corpus.tfrecord import frame

WRITTEN_FORM_RE = re.compile(r"[0-9$£€¥₹%&@/°²³+]")  # what the normalizer reads out


@dataclasses.dataclass(frozen=True)
class PartResult:
    """A unit's accepted utterances for one split, as written to ``path``."""

    source: str
    table: int  # index of the [[source]] table the unit came from
    unit_key: str
    split: str
    path: str
    ends: tuple[int, ...]  # byte offset just after each record
    samples: tuple[int, ...]  # num_samples of each record
    sha1: str = ""  # of the part file's bytes
    spelled: tuple[bool, ...] = ()  # per record: its raw transcript had digits or symbols read out


class PartWriter:
    """Appends framed records to a part file, noting each record's end offset and sample count
    and the file's sha1."""

    def __init__(self, path: str):
        self.path = path
        self.file: BinaryIO = storage.create(path)
        self.ends: list[int] = []
        self.samples: list[int] = []
        self.spelled: list[bool] = []
        self.offset = 0
        self.digest = hashlib.sha1()

    def write(self, utt: Utterance) -> None:
        self.write_framed(
            frame(encode_utterance(utt)),
            utt.num_samples,
            bool(WRITTEN_FORM_RE.search(utt.text_raw)),
        )

    def result(self, source: str, table: int, unit_key: str, split: str) -> PartResult:
        return PartResult(
            source=source,
            table=table,
            unit_key=unit_key,
            split=split,
            path=self.path,
            ends=tuple(self.ends),
            samples=tuple(self.samples),
            sha1=self.digest.hexdigest(),
            spelled=tuple(self.spelled),
        )

    def write_framed(self, data: bytes, num_samples: int, spelled: bool = False) -> None:
        """Append one already framed record."""
        self.file.write(data)
        self.digest.update(data)
        self.offset += len(data)
        self.ends.append(self.offset)
        self.samples.append(num_samples)
        self.spelled.append(spelled)
