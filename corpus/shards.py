"""Placed parts -> final shards, the rejects ledger in pieces and ``info.json``, published atomically.

``write_shard`` copies a shard's pieces (corpus/plan.py) into a staged file; ``write_ledger_piece``
writes one sorted piece of the ledger (a reject goes to piece ``stable_hash(line) % pieces``,
with as many pieces as ``LEDGER_LINES`` lines need). ``publish`` checks the reject fraction from
the combined facts (corpus/facts.py), then moves the staged shards and ledger into the output
folder under their final names: ``info.json`` is removed first and written last, so a folder
with an ``info.json`` is always a complete corpus, and a re-run replaces the previous build
rather than adding to it. Nothing here holds more than one shard's pieces, one ledger piece or
one row per shard.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any

from speechmill.corpus import storage
from speechmill.corpus.config import CorpusSettings
from speechmill.corpus.errors import DataError
from speechmill.corpus.facts import ShardStat, source_totals
from speechmill.corpus.plan import Piece, byte_ranges, shard_names
from speechmill.corpus.reject import RejectRecord
from speechmill.corpus.schema import (
    ALPHABET,
    INFO_FILE,
    LEDGER_PIECE,
    SCHEMA_VERSION,
    SPLITS,
    TFDS_FILES,
    dumps_info,
)
from speechmill.corpus.types import stable_hash

LEDGER_LINES = 100_000  # about this many lines per ledger piece


class TooManyRejects(DataError, RuntimeError):
    """More of the input was rejected than ``max_reject_fraction`` allows."""


def staged_shard(staging_dir: str, split: str, raw: int) -> str:
    return f"{staging_dir}/shard.{split}.{raw:09d}.tfrecord"


def write_shard(split: str, raw: int, pieces: Iterable[Piece], staging_dir: str) -> ShardStat:
    """Copy a shard's pieces, in rank order, into its staged file; returns its row."""
    pieces = sorted(pieces)
    storage.copy_ranges(byte_ranges(pieces), staged_shard(staging_dir, split, raw))
    sources: dict[str, list[int]] = {}
    for p in pieces:
        row = sources.setdefault(p.source, [0, 0, 0])
        row[0], row[1], row[2] = row[0] + p.records, row[1] + p.samples, row[2] + p.spelled
    return ShardStat(
        split,
        raw,
        sum(p.records for p in pieces),
        sum(p.samples for p in pieces),
        tuple((s, *row) for s, row in sorted(sources.items())),
    )


def ledger_pieces(rejects: int) -> int:
    """How many pieces a ledger of ``rejects`` lines is written in (at least one)."""
    return max(1, math.ceil(rejects / LEDGER_LINES))


def ledger_names(rejects: int) -> list[str]:
    """The file names of a ledger of ``rejects`` lines, in order."""
    count = ledger_pieces(rejects)
    return [LEDGER_PIECE.format(index=i, count=count) for i in range(count)]


def ledger_piece(record: RejectRecord, pieces: int) -> int:
    return stable_hash("ledger", record.to_json()) % pieces


def write_ledger_piece(
    index: int, count: int, records: Iterable[RejectRecord], staging_dir: str
) -> str:
    """One piece of the ledger, its lines sorted; returns its file name."""
    name = LEDGER_PIECE.format(index=index, count=count)
    with storage.create(f"{staging_dir}/{name}", mime_type="text/plain") as f:
        for record in sorted(records):
            f.write((record.to_json() + "\n").encode("utf-8"))
    return name


def _write_text(path: str, text: str) -> None:
    with storage.create(path, mime_type="text/plain") as f:
        f.write(text.encode("utf-8"))


@dataclasses.dataclass(frozen=True)
class JobFacts:
    """What the job found: its shards, rejects (UnitFacts) and the sections from its notes."""

    shards: list[ShardStat]
    rejects: Mapping[str, Mapping[str, int]]  # UnitFacts: source -> reason -> count
    sections: Mapping[str, Any]  # info.json keys from the job's notes (e.g. "alignment")

    @property
    def sources(self) -> dict[str, dict[str, int]]:
        """Per source: examples, samples, spelled (summed over the shards' rows)."""
        return source_totals(self.shards)

    @property
    def accepted(self) -> int:
        return sum(s["examples"] for s in self.sources.values())

    @property
    def rejected(self) -> int:
        return sum(sum(r.values()) for r in self.rejects.values())

    def by_reason(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for reasons in self.rejects.values():
            for reason, n in reasons.items():
                out[reason] = out.get(reason, 0) + n
        return dict(sorted(out.items()))


def names_of(shards: list[ShardStat]) -> dict[tuple[str, int], str]:
    """(split, raw index) -> the published file name of every written shard."""
    out = {}
    for split in sorted({s.split for s in shards}):
        for raw, name in shard_names(split, [s.raw for s in shards if s.split == split]).items():
            out[(split, raw)] = name
    return out


def build_info(
    facts: JobFacts,
    settings: CorpusSettings,
    sources: list[dict[str, Any]],
    ledger: list[str],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``info.json`` document for a job (no timestamps: identical jobs, identical files)."""
    rate = settings.sample_rate
    names = names_of(facts.shards)
    totals = facts.sources
    splits = {}
    for split in SPLITS:
        mine = [s for s in facts.shards if s.split == split]
        if mine:
            samples = sum(s.samples for s in mine)
            splits[split] = {
                "examples": sum(s.records for s in mine),
                "seconds": round(samples / rate, 3),
                "hours": round(samples / rate / 3600, 4),
                "shards": [names[(split, s.raw)] for s in mine],
                "shard_examples": [s.records for s in mine],
            }
    empty = {"examples": 0, "samples": 0, "spelled": 0}
    source_info = [
        {
            **s,
            "examples": totals.get(s["type"], empty)["examples"],
            "hours": round(totals.get(s["type"], empty)["samples"] / rate / 3600, 4),
            "cleaning": {
                "spelled_out": totals.get(s["type"], empty)["spelled"],
                "rejects": dict(sorted(facts.rejects.get(s["type"], {}).items())),
            },
        }
        for s in sources
    ]
    return {
        "schema_version": SCHEMA_VERSION,
        "sample_rate": rate,
        "alphabet": ALPHABET,
        "audio": "pcm16le mono",
        "seed": settings.seed,
        "splits": splits,
        "rejects": {"total": facts.rejected, "by_reason": facts.by_reason(), "ledger": ledger},
        "sources": source_info,
        "settings": dataclasses.asdict(settings),
        "alignment": [],
        **facts.sections,
        **(extra or {}),
    }


def reject_fraction(accepted: int, rejected: int) -> float:
    """Rejected items / (accepted + rejected items); a rejected unit counts as one item."""
    total = accepted + rejected
    return rejected / total if total else 0.0


def publish(
    out_dir: str,
    staging_dir: str,
    facts: JobFacts,
    ledger: list[str],
    settings: CorpusSettings,
    sources: list[dict[str, Any]],
    extra: Mapping[str, Any] | None = None,
) -> dict:
    """Move a finished job into ``out_dir``; raises TooManyRejects and publishes nothing.
    ``ledger``: the staged ledger pieces' names (a missing piece is written empty)."""
    for name in ledger:
        if not storage.exists(f"{staging_dir}/{name}"):
            _write_text(f"{staging_dir}/{name}", "")
    fraction = reject_fraction(facts.accepted, facts.rejected)
    if fraction > settings.max_reject_fraction or not facts.shards:
        reasons = sorted(facts.by_reason().items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        raise TooManyRejects(
            f"speechmill: {fraction:.0%} of the input was rejected (max_reject_fraction "
            f"{settings.max_reject_fraction:.0%}; top reasons {dict(reasons)}); nothing published; "
            f"ledger: {staging_dir}/{ledger[0]}; where that much is expected (harvested media), "
            f"raise max_reject_fraction ([corpus] in the config; --max-reject-fraction or "
            f"MAX_REJECT= for make verify)"
        )
    info = build_info(facts, settings, sources, ledger, extra)
    info_path = f"{out_dir}/{INFO_FILE}"
    for stale_meta in (info_path, *(f"{out_dir}/{name}" for name in TFDS_FILES)):
        if storage.exists(stale_meta):  # TFDS's files describe the shards being replaced
            storage.delete([stale_meta])
    moves = {
        staged_shard(staging_dir, s, raw): name for (s, raw), name in names_of(facts.shards).items()
    }
    moves.update({f"{staging_dir}/{name}": name for name in ledger})
    keep = set(moves.values())
    old = [m.path for m in storage.match(f"{out_dir}/*-of-*.tfrecord")]
    old += [m.path for m in storage.match(f"{out_dir}/rejects*.jsonl")]
    stale = [p for p in old if p.rsplit("/", 1)[-1] not in keep]
    if stale:
        storage.delete(stale)
    for staged, name in sorted(moves.items(), key=lambda kv: kv[1]):
        target = f"{out_dir}/{name}"
        if storage.exists(target):
            storage.delete([target])
        storage.rename(staged, target)
    _write_text(f"{staging_dir}/{INFO_FILE}", dumps_info(info))
    storage.rename(f"{staging_dir}/{INFO_FILE}", info_path)
    return info  # the launcher removes the staging folder once its progress display is done
