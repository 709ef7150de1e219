"""Mozilla Common Voice: one locale's folder as downloaded and unpacked.

Layout: ``path/clips/*.mp3`` beside tab-separated tables ``validated.tsv``, ``train.tsv``,
``dev.tsv``, ``test.tsv`` (and ``other.tsv``, ``invalidated.tsv``) whose first line names the
columns: ``client_id``, ``path`` (the clip's file name), ``sentence``, ``up_votes``,
``down_votes``, ``age``, ``gender``, ``locale`` ... (later releases add columns; they are read by
name). ``tables`` picks the tables; ``train``/``dev``/``test`` keep their own split (Common
Voice makes them speaker-disjoint), other tables get the stable hash split by speaker.
``client_id`` is the speaker and the group. A clip whose votes are not at least
``min_vote_margin`` more up than down is rejected (``votes:down`` when it has down-votes, else
``votes:unvalidated``). A worker cuts each table into work units by byte ranges of ``unit_mb``
(from its size alone), so a large table is read in parallel, the launcher lists the tables only,
and no unit reads more of it than its own range (plus the header).
Licence: CC0 1.0.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Iterator
from typing import Any, BinaryIO

from speechmill.corpus import storage
from speechmill.corpus.config import ConfigError
from speechmill.corpus.inputs.localfile import read_input
from speechmill.corpus.inputs.ranges import byte_ranges, lines_in_range
from speechmill.corpus.reject import Reject
from speechmill.corpus.schema import SPLITS
from speechmill.corpus.sources.base import Source, SourceContext
from speechmill.corpus.types import Segment, Unit, slug

LICENSE = "CC0 1.0 (Mozilla Common Voice)"
REQUIRED_COLUMNS = ("client_id", "path", "sentence")


@dataclasses.dataclass(frozen=True)
class Table:
    """One whole table, cut into TableRanges by a worker (``expand``)."""

    table: str
    path: str


@dataclasses.dataclass(frozen=True)
class TableRange:
    """The rows of one table that start within bytes [start, end)."""

    table: str  # "train", "validated", ...
    path: str
    start: int
    end: int


def _open(path: str) -> BinaryIO:
    return storage.open_read(path)


def gender_code(value: str) -> str:
    """Common Voice's gender column ("male", "female_feminine", ...) -> "m", "f" or ""."""
    value = value.strip().lower()
    return "f" if value.startswith("female") else "m" if value.startswith("male") else ""


@dataclasses.dataclass
class CommonVoiceSource(Source):
    """``[[source]] type = "commonvoice"``; see the README for every key."""

    path: str
    tables: tuple[str, ...] = ("train", "dev", "test")
    min_vote_margin: int = 1
    unit_mb: float = 4.0
    follow_links: bool = False
    split: str | None = None
    limit: int | None = None

    name = "commonvoice"
    EXPAND_ROUNDS = 1
    LICENSE = LICENSE
    KEYS = frozenset({"path", "tables", "min_vote_margin", "unit_mb", "follow_links"})

    @classmethod
    def from_config(cls, table: dict[str, Any], context: SourceContext) -> CommonVoiceSource:
        common = cls.common_keys(table)
        path = cls.existing_path(
            table, "path", context, "a Common Voice locale folder with clips/ and *.tsv"
        )
        tables = tuple(cls.option(table, "tables", list, ["train", "dev", "test"]))
        if not tables or not all(isinstance(t, str) and t for t in tables):
            raise ConfigError(
                f'{cls.where()}: tables must be a list of table names such as "train", "validated"'
            )
        if "validated" in tables and set(tables) & set(SPLITS):
            raise ConfigError(
                f"{cls.where()}: tables: validated already holds train, dev and test; "
                "list either validated or the split tables"
            )
        unit_mb = cls.option(table, "unit_mb", (int, float), 4.0)
        if not unit_mb > 0:
            raise ConfigError(f"{cls.where()}: unit_mb must be positive, got {unit_mb}")
        for name in tables:
            if not storage.exists(f"{path.rstrip('/')}/{name}.tsv"):
                raise ConfigError(
                    f"{cls.where()}: tables: {path.rstrip('/')}/{name}.tsv does not exist"
                )
        return cls(
            path=path.rstrip("/"),
            tables=tables,
            unit_mb=float(unit_mb),
            min_vote_margin=cls.option(table, "min_vote_margin", int, 1),
            follow_links=cls.option(table, "follow_links", bool, False),
            **common,
        )

    def units(self) -> list[Unit]:
        """One unit per table; the workers cut each into byte ranges (``expand``)."""
        return [
            Unit(self.name, f"table/{table}", Table(table, f"{self.path}/{table}.tsv"))
            for table in self.tables
        ]

    def expand(self, unit: Unit) -> Iterator[Unit | Reject]:
        """A table -> its ranges of ``unit_mb`` bytes (from the file's size alone)."""
        if not isinstance(unit.payload, Table):
            yield unit
            return
        work: Table = unit.payload
        step = int(self.unit_mb * (1 << 20))
        for i, (start, end) in enumerate(byte_ranges(storage.size(work.path), step)):
            yield Unit(
                self.name, f"{work.table}/{i:05d}", TableRange(work.table, work.path, start, end)
            )

    def read(self, unit: Unit) -> Iterator[Segment | Reject]:
        work: TableRange = unit.payload
        split = work.table if work.table in SPLITS else None
        with _open(work.path) as f:
            columns = f.readline().decode("utf-8", errors="replace").rstrip("\r\n").split("\t")
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                raise Reject(
                    "commonvoice:header",
                    f"no column {', '.join(missing)} in the header",
                    where=work.path,
                )
            for offset, line in lines_in_range(f, work.start, work.end, header=True):
                where = f"{work.path} at byte {offset}"
                if not line.strip():
                    continue
                try:
                    fields = line.decode("utf-8").rstrip("\r\n").split("\t")
                except UnicodeDecodeError:
                    yield Reject(
                        "text:encoding",
                        "row is not UTF-8",
                        item_id=f"{self.name}/{work.table}@{offset}",
                        where=where,
                    )
                    continue
                if len(fields) < len(columns):
                    yield Reject(
                        "commonvoice:row",
                        f"{len(fields)} fields, the header names {len(columns)}",
                        item_id=f"{self.name}/{work.table}@{offset}",
                        where=where,
                    )
                    continue
                yield from self._row(dict(zip(columns, fields)), split, where)

    def _row(
        self, row: dict[str, str], split: str | None, where: str
    ) -> Iterator[Segment | Reject]:
        clip = row["path"]
        item_id = f"{self.name}/{slug(clip.rsplit('.', 1)[0])}"
        if "up_votes" in row and "down_votes" in row:
            try:
                up, down = int(row["up_votes"] or 0), int(row["down_votes"] or 0)
            except ValueError:
                yield Reject(
                    "commonvoice:row",
                    f"votes {row['up_votes']!r}/{row['down_votes']!r} are not numbers",
                    item_id=item_id,
                    where=where,
                )
                return
            if up - down < self.min_vote_margin:
                reason = "votes:down" if down else "votes:unvalidated"
                yield Reject(
                    reason,
                    f"{up} up-votes, {down} down-votes (min_vote_margin {self.min_vote_margin})",
                    item_id=item_id,
                    where=where,
                )
                return
        audio_path = f"{self.path}/clips/{posixpath.basename(clip)}"
        try:
            audio = read_input(audio_path, self.path, "audio", self.follow_links)
        except Reject as reject:
            reject.item_id = item_id
            yield reject
            return
        except OSError:
            yield Reject(
                "audio:missing",
                "the clip named in the table is not in clips/",
                item_id=item_id,
                where=audio_path,
            )
            return
        speaker = f"{self.name}/{slug(row['client_id'])[:16]}"
        yield Segment(
            id=item_id,
            speaker=speaker,
            group=speaker,
            text_raw=row["sentence"],
            audio=audio,
            origin=audio_path,
            license=self.license,
            gender=gender_code(row.get("gender", "")),
            split=split,
        )
