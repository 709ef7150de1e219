"""Part files -> final shards, ``info.json`` and the rejects ledger, published atomically.

``plan_shards`` decides, from small metadata only, which byte ranges of which part files make
up each shard (deterministic: the order comes from a stable hash of seed and unit).
``write_shard`` copies those ranges into a staged shard. ``publish`` checks the reject
fraction, then swaps the staged shards, ledger and ``info.json`` into the output folder:
``info.json`` is removed first and written last, so a folder with an ``info.json`` is always
a complete corpus, and a re-run replaces the previous build rather than adding to it.
"""

from __future__ import annotations

import collections
import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from speechmill.corpus import storage
from speechmill.corpus.config import CorpusSettings
from speechmill.corpus.errors import DataError
from speechmill.corpus.parts import PartResult
from speechmill.corpus.reject import RejectRecord
from speechmill.corpus.schema import (
    ALPHABET,
    INFO_FILE,
    LEDGER_FILE,
    SCHEMA_VERSION,
    SPLITS,
    dumps_info,
)
from speechmill.corpus.types import Note, stable_hash

COPY_CHUNK = 8 << 20


class TooManyRejects(DataError, RuntimeError):
    """More of the input was rejected than ``max_reject_fraction`` allows."""


@dataclasses.dataclass(frozen=True)
class ShardSpec:
    split: str
    name: str  # e.g. "train-00001-of-00004.tfrecord"
    ranges: tuple[tuple[str, int, int], ...]  # (part path, start byte, end byte)
    examples: int
    samples: int


def apply_limits(parts: Iterable[PartResult], limits: Mapping[int, int | None]) -> list[PartResult]:
    """Keep at most ``limits[table]`` utterances per [[source]] table, taking units in key order."""
    budget = {t: n for t, n in limits.items() if n is not None}
    kept = []
    for part in sorted(parts, key=lambda p: (p.table, p.unit_key, p.split)):
        if part.table in budget:
            n = min(len(part.ends), budget[part.table])
            budget[part.table] -= n
            part = dataclasses.replace(
                part, ends=part.ends[:n], samples=part.samples[:n], spelled=part.spelled[:n]
            )
        if part.ends:
            kept.append(part)
    return kept


def plan_shards(parts: Iterable[PartResult], settings: CorpusSettings) -> list[ShardSpec]:
    """Cut each split's records into shards of about ``shard_mb`` megabytes."""
    by_split: dict[str, list[PartResult]] = collections.defaultdict(list)
    for part in parts:
        by_split[part.split].append(part)
    specs = []
    for split in sorted(by_split):
        ordered = sorted(
            by_split[split],
            key=lambda p: (stable_hash("order", settings.seed, p.source, p.unit_key), p.unit_key),
        )
        total = sum(p.ends[-1] for p in ordered)
        n_records = sum(len(p.ends) for p in ordered)
        count = max(1, min(n_records, math.ceil(total / (settings.shard_mb * 1e6))))
        shards: list[list[tuple[str, int, int, int, int]]] = [[] for _ in range(count)]
        written = 0
        for part in ordered:
            start = 0
            for end, samples in zip(part.ends, part.samples):
                index = min(count - 1, int(written * count / total))
                shards[index].append((part.path, start, end, 1, samples))
                written += end - start
                start = end
        shards = [
            s for s in shards if s
        ]  # a record larger than a shard leaves a gap: no empty files
        count = len(shards)
        for index, records in enumerate(shards):
            ranges: list[list[Any]] = []
            for path, start, end, _, _ in records:
                if ranges and ranges[-1][0] == path and ranges[-1][2] == start:
                    ranges[-1][2] = end
                else:
                    ranges.append([path, start, end])
            specs.append(
                ShardSpec(
                    split=split,
                    name=f"{split}-{index:05d}-of-{count:05d}.tfrecord",
                    ranges=tuple(tuple(r) for r in ranges),
                    examples=len(records),
                    samples=sum(r[4] for r in records),
                )
            )
    return specs


def write_shard(spec: ShardSpec, staging_dir: str) -> str:
    """Copy a shard's byte ranges into ``staging_dir/spec.name``; returns the path."""
    path = f"{staging_dir}/{spec.name}"
    with storage.create(path) as out:
        for part, start, end in spec.ranges:
            with storage.open_read(part) as f:
                f.seek(start)
                left = end - start
                while left:
                    block = f.read(min(COPY_CHUNK, left))
                    if not block:
                        raise OSError(f"{part}: ends before byte {end}")
                    out.write(block)
                    left -= len(block)
    return path


def _write_text(path: str, text: str) -> None:
    with storage.create(path, mime_type="text/plain") as f:
        f.write(text.encode("utf-8"))


def build_info(
    specs: list[ShardSpec],
    parts: list[PartResult],
    rejects: list[RejectRecord],
    settings: CorpusSettings,
    sources: list[dict[str, Any]],
    notes: Sequence[Note] = (),
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``info.json`` document for a build (no timestamps: identical builds, identical files)."""
    rate = settings.sample_rate
    splits = {}
    for split in SPLITS:
        mine = [s for s in specs if s.split == split]
        if mine:
            samples = sum(s.samples for s in mine)
            splits[split] = {
                "examples": sum(s.examples for s in mine),
                "seconds": round(samples / rate, 3),
                "hours": round(samples / rate / 3600, 4),
                "shards": [s.name for s in mine],
            }
    by_source: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for part in parts:
        by_source[part.source]["examples"] += len(part.ends)
        by_source[part.source]["samples"] += sum(part.samples)
        by_source[part.source]["spelled"] += sum(part.spelled)
    rejected: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for r in rejects:
        rejected[r.source][r.reason] += 1
    source_info = [
        {
            **s,
            "examples": by_source[s["type"]]["examples"],
            "hours": round(by_source[s["type"]]["samples"] / rate / 3600, 4),
            "cleaning": {
                "spelled_out": by_source[s["type"]]["spelled"],
                "rejects": dict(sorted(rejected[s["type"]].items())),
            },
        }
        for s in sources
    ]
    reasons = collections.Counter(r.reason for r in rejects)
    return {
        "schema_version": SCHEMA_VERSION,
        "sample_rate": rate,
        "alphabet": ALPHABET,
        "audio": "pcm16le mono",
        "seed": settings.seed,
        "splits": splits,
        "rejects": {
            "total": len(rejects),
            "by_reason": dict(sorted(reasons.items())),
            "ledger": LEDGER_FILE,
        },
        "sources": source_info,
        "settings": dataclasses.asdict(settings),
        "alignment": [
            {"source": n.source, "item": n.item, **n.facts}
            for n in sorted(notes, key=lambda n: (n.source, n.item))
        ],
        **(extra or {}),
    }


def reject_fraction(parts: list[PartResult], rejects: list[RejectRecord]) -> float:
    """Rejected items / (accepted + rejected items); a rejected unit counts as one item."""
    accepted = sum(len(p.ends) for p in parts)
    total = accepted + len(rejects)
    return len(rejects) / total if total else 0.0


def publish(
    out_dir: str,
    staging_dir: str,
    specs: list[ShardSpec],
    parts: list[PartResult],
    rejects: list[RejectRecord],
    settings: CorpusSettings,
    sources: list[dict[str, Any]],
    notes: Sequence[Note] = (),
    extra: Mapping[str, Any] | None = None,
) -> dict:
    """Move a finished build into ``out_dir``; raises TooManyRejects and publishes nothing."""
    rejects = sorted(rejects)
    ledger = "".join(r.to_json() + "\n" for r in rejects)
    _write_text(f"{staging_dir}/{LEDGER_FILE}", ledger)
    fraction = reject_fraction(parts, rejects)
    if fraction > settings.max_reject_fraction or not specs:
        reasons = collections.Counter(r.reason for r in rejects).most_common(5)
        raise TooManyRejects(
            f"speechmill: {fraction:.0%} of the input was rejected (max_reject_fraction "
            f"{settings.max_reject_fraction:.0%}; top reasons {dict(reasons)}); nothing published; "
            f"ledger: {staging_dir}/{LEDGER_FILE}"
        )
    info = build_info(specs, parts, rejects, settings, sources, notes, extra)
    info_path = f"{out_dir}/{INFO_FILE}"
    if storage.exists(info_path):
        storage.delete([info_path])
    new_names = {s.name for s in specs}
    old = [m.path for m in storage.match(f"{out_dir}/*-of-*.tfrecord")]
    stale = [p for p in old if p.rsplit("/", 1)[-1] not in new_names]
    if stale:
        storage.delete(stale)
    for name in sorted(new_names) + [LEDGER_FILE]:
        target = f"{out_dir}/{name}"
        if storage.exists(target):
            storage.delete([target])
        storage.rename(f"{staging_dir}/{name}", target)
    _write_text(f"{staging_dir}/{INFO_FILE}", dumps_info(info))
    storage.rename(f"{staging_dir}/{INFO_FILE}", info_path)
    storage.delete([staging_dir])
    return info
