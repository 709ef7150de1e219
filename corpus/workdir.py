"""An output folder's working state: one writer at a time, and finished units kept for re-runs.

``output_lock(out_dir)`` holds an exclusive ``fcntl.flock`` on ``OUT/.lock`` for a job's whole
run: a second job writing to the same local folder is refused with :class:`OutputBusy`, naming
the holder. The lock dies with its process (a killed job never leaves a stale lock). On object
stores (``gs://``, ``s3://``) there is no such lock: one writer per ``OUT`` is up to the user.

``UnitCache`` keeps each finished work unit in ``OUT/.parts/``: its part files (one per split)
and a manifest with the unit's identity, its results (part offsets and sample counts, rejects,
notes), each part's size and sha1, and the manifest's own sha256. A re-run with the same
identity reuses the unit after checking the manifest's checksum and the part files; anything
that does not verify (an edited offset, count or ledger line, a missing key) rebuilds it. The
identity covers the ``[[source]]`` table, the settings that shape the parts, the unit, and its
inputs' sizes and modification times.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from speechmill.corpus import storage
from speechmill.corpus.errors import DataError
from speechmill.corpus.parts import PartIndex, PartSummary, UnitResult
from speechmill.corpus.reject import RejectRecord
from speechmill.corpus.types import Note, Unit

PARTS_DIR = ".parts"
Made = tuple[UnitResult, dict[str, PartIndex]]  # a made unit: its result, its parts' indexes
INDEX_SUFFIX = ".index.json"  # beside a part file written outside the unit cache
LOCK_FILE = ".lock"


class OutputBusy(DataError, RuntimeError):
    """Another job is writing to the same output folder."""


@contextlib.contextmanager
def output_lock(out_dir: str) -> Iterator[None]:
    """Hold ``OUT/.lock`` for the block; raise OutputBusy when another process holds it."""
    if "://" in out_dir:
        yield
        return
    import fcntl

    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, LOCK_FILE)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "another process"
            raise OutputBusy(
                f"speechmill: {out_dir} is being written by another job ({holder}); "
                "wait for it to finish or choose another output folder"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(
            fd,
            f"pid {os.getpid()} on {socket.gethostname()}, since {time.strftime('%H:%M:%S')}: "
            f"{' '.join(sys.argv[:1])}\n".encode(),
            0,
        )
        yield
    finally:
        os.close(fd)


def parts_dir(out_dir: str) -> str:
    return f"{out_dir.rstrip('/')}/{PARTS_DIR}"


def fingerprint(*parts: Any) -> str:
    """A stable digest of JSON-able parts (dict keys sorted); a file name that is not UTF-8
    (its undecodable bytes held as surrogates, as Python lists it) is digested as its bytes."""
    text = json.dumps(parts, sort_keys=True, default=repr, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def file_sha256(path: str) -> str:
    """A file's sha256, read in 1 MiB blocks (a model file can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def files_identity(paths: list[str]) -> list[tuple[str, int, float]]:
    """(path, size, modification time) of each existing file or match of a glob pattern."""
    out = []
    for pattern in sorted(set(paths)):
        out += [(m.path, m.size, m.mtime) for m in storage.match(pattern)]
    return sorted(out)


def unit_digest(table: int, unit: Unit) -> str:
    """The stable file-name stem of a unit's parts and manifest."""
    return hashlib.sha1(f"{table}\x1f{unit.source}\x1f{unit.key}".encode()).hexdigest()[:20]


class UnitCache:
    """Manifests and part files of finished units in ``folder`` (``OUT/.parts``).

    A manifest (``DIGEST.json``) holds the unit's identity, its :class:`UnitResult` and each
    part's record index; the shard writers read the index from here, so it never travels
    through the job."""

    def __init__(self, folder: str):
        self.folder = folder.rstrip("/")

    def part_path(self, digest: str, name: str, ext: str = "tfrecord") -> str:
        """A unit's part file: ``DIGEST-NAME.EXT`` (a split's records, or an export's piece)."""
        return f"{self.folder}/{digest}-{name}.{ext}"

    def manifest_path(self, digest: str) -> str:
        return f"{self.folder}/{digest}.json"

    def _read(self, digest: str) -> dict | None:
        """The unit's manifest when it is there and its checksum verifies, else None."""
        path = self.manifest_path(digest)
        if not storage.exists(path):
            return None
        try:
            with storage.open_read(path) as f:
                manifest = json.loads(f.read())
        except (ValueError, OSError):
            return None
        if not isinstance(manifest, dict) or manifest.get("checksum") != _checksum(manifest):
            return None
        return manifest

    def load(self, digest: str, identity: str) -> UnitResult | None:
        """The unit's stored result when its manifest verifies, its identity matches and its
        part files are intact, else None (the unit is then rebuilt)."""
        manifest = self._read(digest)
        if manifest is None or manifest.get("identity") != identity:
            return None
        try:
            return self._result(digest, manifest)
        except (KeyError, TypeError, ValueError, AttributeError):
            return None  # a manifest of another version of speechmill

    def _result(self, digest: str, manifest: dict) -> UnitResult | None:
        parts = []
        for part in manifest["parts"]:
            full = f"{self.folder}/{part['name']}"
            if part.get("index") is not None:
                index = PartIndex.from_json(part["index"])
                summary = PartSummary.of(
                    part["split"], full, part["source"], part["key"], index, part["sha1"]
                )
            else:  # a piece that is not records (an export's manifest piece): its totals
                totals = {k: int(part[k]) for k in ("records", "bytes", "samples", "spelled")}
                summary = PartSummary(
                    part["split"], full, part["source"], part["key"], **totals, sha1=part["sha1"]
                )
            if not _unchanged(full, summary.bytes, part.get("mtime"), part["sha1"]):
                return None
            parts.append(summary)
        unit = manifest["unit"]
        return UnitResult(
            digest=digest,
            table=unit["table"],
            unit_key=unit["unit_key"],
            parts=tuple(parts),
            rejects=tuple(RejectRecord(**r) for r in manifest["rejects"]),
            notes=tuple(Note(**n) for n in manifest["notes"]),
        )

    def index(self, digest: str, part_path: str) -> PartIndex:
        """The record index of one part of a finished unit (OSError when it is gone); a part
        a job rewrote outside the cache (corpus/repeats.py) keeps its index beside it."""
        if not part_path.startswith(self.folder + "/"):
            with storage.open_read(part_path + INDEX_SUFFIX) as f:
                return PartIndex.from_json(json.loads(f.read()))
        manifest = self._read(digest)
        name = part_path.rsplit("/", 1)[-1]
        for part in (manifest or {}).get("parts", []):
            if part["name"] == name:
                return PartIndex.from_json(part["index"])
        raise OSError(f"{self.manifest_path(digest)}: no record index for {name}")

    def reuse_or_make(self, digest: str, identity: str, make: Callable[[], Made]) -> UnitResult:
        """The one reuse loop of every job: the unit's stored result when a finished unit of
        the same identity is there, else ``make()`` (which writes the unit's parts and returns
        its result and the record index of each part that holds records), stored."""
        cached = self.load(digest, identity)
        if cached is not None:
            return cached
        self.forget(digest)  # a half-made unit is never reused
        result, indexes = make()
        self.store(result, identity, indexes)
        return result

    def store(self, result: UnitResult, identity: str, indexes: dict[str, PartIndex]) -> None:
        """Write the manifest of a finished unit (atomically: a killed job leaves none);
        ``indexes``: the record index of each part that holds records, by part path (a part
        without one, such as an export's piece, is kept by its totals)."""
        manifest = {
            "identity": identity,
            "unit": {"table": result.table, "unit_key": result.unit_key},
            "parts": [
                {
                    "name": p.path.rsplit("/", 1)[-1],
                    "split": p.split,
                    "source": p.source,
                    "key": p.key,
                    "sha1": p.sha1,
                    "index": indexes[p.path].to_json() if p.path in indexes else None,
                    "records": p.records,
                    "bytes": p.bytes,
                    "samples": p.samples,
                    "spelled": p.spelled,
                    "mtime": _mtime(p.path),
                }
                for p in result.parts
            ],
            "rejects": [dataclasses.asdict(r) for r in result.rejects],
            "notes": [dataclasses.asdict(n) for n in result.notes],
        }
        manifest["checksum"] = _checksum(manifest)
        path = self.manifest_path(result.digest)
        with storage.create(path + ".tmp") as f:
            f.write(json.dumps(manifest, sort_keys=True).encode("utf-8"))
        if storage.exists(path):
            storage.delete([path])
        storage.rename(path + ".tmp", path)

    def forget(self, digest: str) -> None:
        """Remove a unit's manifest (before it is rebuilt, so a half-rebuilt unit is never reused)."""
        path = self.manifest_path(digest)
        if storage.exists(path):
            storage.delete([path])

    def prune(self, keep: set[str]) -> None:
        """Delete the files of units that are not in ``keep`` (gone from the config)."""
        if not storage.exists(self.folder):
            return
        stale = [
            m.path
            for m in storage.match(f"{self.folder}/*")
            if m.path.rsplit("/", 1)[-1].split("-")[0].split(".")[0] not in keep
        ]
        if stale:
            storage.delete(stale)


def _checksum(manifest: dict) -> str:
    """sha256 of a manifest's fields other than its checksum (canonical JSON): an edited or
    damaged manifest does not verify, and its unit is rebuilt."""
    body = {key: value for key, value in manifest.items() if key != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()


def _mtime(path: str) -> float | None:
    """A finished part's modification time, which with its size knows it again on a re-run."""
    found = storage.match(path)
    return found[0].mtime if found else None


def _unchanged(path: str, size: int, mtime: float | None, sha1: str) -> bool:
    """Whether a finished part is still as its manifest says: the same size and modification
    time (a re-run reads none of the bytes it finished, as make and rsync judge a file; a part
    cut short or written again differs), or, for a manifest without a time, the same sha1."""
    if mtime is not None:
        found = storage.match(path)
        return bool(found) and found[0].size == size and found[0].mtime == mtime
    return bool(sha1) and _sha1_of(path, size) == sha1


def _sha1_of(path: str, size: int) -> str | None:
    """sha1 of a file that must be exactly ``size`` bytes long (None when it is not there or not that size)."""
    try:
        match = storage.match(path)
    except (OSError, ValueError):
        return None
    if not match or match[0].size != size:
        return None
    digest = hashlib.sha1()
    with storage.open_read(path) as f:
        for block in iter(lambda: f.read(8 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


PROGRESS_DIR = "progress"


def progress_dir(staging: str) -> str:
    return f"{staging.rstrip('/')}/{PROGRESS_DIR}"


def note_progress(folder: str, result: UnitResult, sample_rate: int) -> None:
    """Record that a unit is done (built or reused) with its utterances, seconds and rejects,
    for the job's progress display (one small file per unit; any runner, any file system)."""
    facts = {
        "utterances": result.records,
        "seconds": round(result.samples / sample_rate, 3),
        "rejects": len(result.rejects),
    }
    with storage.create(f"{folder}/{result.digest}.json") as f:
        f.write(json.dumps(facts).encode("utf-8"))


PLANNED_DIR = "planned"


def note_planned(folder: str, key: str, units: int) -> None:
    """Record that a worker expanded one of the launcher's units into ``units`` work units, so
    the progress display learns the job's total when the launcher could not list it."""
    name = hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]
    with storage.create(f"{folder}/{PLANNED_DIR}/{name}.json") as f:
        f.write(json.dumps({"units": units}).encode("utf-8"))


def read_planned(folder: str) -> int:
    """Work units the workers' expansions have announced so far."""
    total = 0
    try:
        paths = [m.path for m in storage.match(f"{folder}/{PLANNED_DIR}/*.json")]
    except (OSError, ValueError):
        return 0
    for path in paths:
        try:
            with storage.open_read(path) as f:
                total += int(json.loads(f.read()).get("units", 0))
        except (OSError, ValueError):
            continue
    return total


def read_progress(folder: str) -> dict[str, float]:
    """Units done so far and their utterances, seconds and rejects, summed."""
    totals = {"units": 0, "utterances": 0, "seconds": 0.0, "rejects": 0}
    try:
        paths = [m.path for m in storage.match(f"{folder}/*.json")]
    except (OSError, ValueError):
        return totals
    for path in paths:
        try:
            with storage.open_read(path) as f:
                facts = json.loads(f.read())
        except (OSError, ValueError):
            continue  # being written right now: next time
        totals["units"] += 1
        for key in ("utterances", "seconds", "rejects"):
            totals[key] += facts.get(key, 0)
    return totals
