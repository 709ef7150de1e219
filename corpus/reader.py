"""The one corpus reader: ``info.json``, shard paths, records and byte ranges of a finished corpus.

Everything that reads a corpus (training's tf.data input, ``inspect``, ``report``, ``make lm``,
``make augment``, ``make verify``) goes through here, over corpus/storage.py (local files, or
any file system Beam knows when it is installed), without TensorFlow.

    info = load_info(folder)                       # checked: schema version, rate, alphabet
    for utt in utterances(folder, info, "dev"): ...
    for line in rejects(folder, info): ...         # the ledger, piece by piece
    for work in shard_ranges(split, path, 32): ... read_range(work)
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
from collections.abc import Iterator
from typing import Any

from speechmill.corpus import storage
from speechmill.corpus.errors import CorruptCorpus
from speechmill.corpus.schema import (
    INFO_FILE,
    LEDGER_FILE,
    CorpusMismatch,
    Utterance,
    check_info,
    check_layout,
    decode_utterance,
)
from speechmill.corpus.tfrecord import read_records, record_offsets


def load_info(
    folder: str, *, sample_rate: int | None = None, alphabet: str | None = None
) -> dict[str, Any]:
    """A finished corpus's checked ``info.json``; FileNotFoundError, CorpusMismatch or
    CorruptCorpus otherwise."""
    path = f"{folder.rstrip('/')}/{INFO_FILE}"
    if not storage.exists(path):
        raise FileNotFoundError(f"{folder}: no {INFO_FILE}; not a finished speechmill corpus")
    try:
        info = json.loads(storage.read_bytes(path))
    except (ValueError, UnicodeDecodeError) as error:
        raise CorruptCorpus(f"{path}: not valid JSON ({error})") from None
    if not isinstance(info, dict):
        raise CorruptCorpus(f"{path}: not a JSON object")
    check_info(info, sample_rate=sample_rate, alphabet=alphabet, where=folder)
    check_layout(info, where=folder)
    return info


def shard_paths(folder: str, info: dict[str, Any], split: str) -> list[str]:
    """The shard files of one split, as info.json lists them; CorpusMismatch when it has no such split."""
    if split not in info["splits"]:
        raise CorpusMismatch(
            f"{folder}: no {split} split; it has {', '.join(info['splits']) or 'none'}"
        )
    return [f"{folder.rstrip('/')}/{name}" for name in info["splits"][split]["shards"]]


def all_shards(folder: str, info: dict[str, Any]) -> list[tuple[str, str]]:
    """(split, path) of every shard of a corpus, splits in name order."""
    return [
        (split, path)
        for split in sorted(info["splits"])
        for path in shard_paths(folder, info, split)
    ]


def shard_records(path: str) -> Iterator[bytes]:
    """The serialized records of one shard, checksums checked (ValueError names file and byte)."""
    with storage.open_read(path) as f:
        yield from read_records(f, path)


def utterances(folder: str, info: dict[str, Any], split: str) -> Iterator[Utterance]:
    """Every utterance of a split, shard by shard, in order ([] for a split the corpus lacks)."""
    if split not in info["splits"]:
        return
    for path in shard_paths(folder, info, split):
        for record in shard_records(path):
            yield decode_utterance(record)


def ledger_paths(folder: str, info: dict[str, Any]) -> list[str]:
    """The rejects ledger's files: its pieces as info.json lists them (one ``rejects.jsonl``
    for a corpus built before the ledger came in pieces)."""
    names = info.get("rejects", {}).get("ledger", LEDGER_FILE)
    names = [names] if isinstance(names, str) else list(names)
    for name in names:  # info.json may come from someone else: a name, never a path
        if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
            raise CorruptCorpus(f"{folder}: info.json names a ledger file {name!r}")
    return [f"{folder.rstrip('/')}/{name}" for name in names]


def rejects(folder: str, info: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every ledger line of a corpus as a dict, piece by piece (streamed: one line in memory)."""
    for path in ledger_paths(folder, info):
        if not storage.exists(path):
            raise CorruptCorpus(f"{path}: a ledger piece info.json lists is missing")
        with storage.open_read(path) as f:
            for number, line in enumerate(io.TextIOWrapper(f, encoding="utf-8"), 1):
                try:
                    yield json.loads(line)
                except ValueError:
                    raise CorruptCorpus(f"{path}:{number}: not a JSON ledger line") from None


def corrupt_shards(folder: str, info: dict[str, Any]) -> list[str]:
    """One line per shard of the corpus whose records fail their checksums (file and byte)."""
    problems = []
    for _, path in all_shards(folder, info):
        try:
            for _ in shard_records(path):
                pass
        except (ValueError, OSError) as error:
            problems.append(str(error))
    return problems


@dataclasses.dataclass(frozen=True)
class ShardRange:
    """Records ``first``.. of one shard, bytes [start, end): one work unit of a corpus -> corpus job."""

    split: str
    path: str
    start: int
    end: int
    first: int

    @property
    def key(self) -> str:
        return f"{self.split}/{self.path.rsplit('/', 1)[-1]}/{self.first:07d}"


def shard_ranges(split: str, path: str, per_unit: int | None) -> list[ShardRange]:
    """A shard cut into units of at most ``per_unit`` records (None: the whole shard), found
    from the TFRecord headers alone."""
    size = storage.size(path)
    with storage.open_read(path) as f:
        offsets = record_offsets(f, size, path)
    step = per_unit or max(1, len(offsets) - 1)
    return [
        ShardRange(split, path, offsets[i], offsets[min(i + step, len(offsets) - 1)], i)
        for i in range(0, len(offsets) - 1, step)
    ]


def read_range(work: ShardRange) -> Iterator[bytes]:
    """The serialized records of one range (its bytes are read in one piece)."""
    with storage.open_read(work.path) as f:
        f.seek(work.start)
        yield from read_records(io.BytesIO(f.read(work.end - work.start)), work.path)


def same_folder(a: str, b: str) -> bool:
    """Do two folder paths or URLs name the same folder?"""
    if "://" in a or "://" in b:
        return a.rstrip("/") == b.rstrip("/")
    return os.path.realpath(a) == os.path.realpath(b)
