"""Beam job: a speechmill corpus -> the files another speech stack loads.

    speechmill export --format hf|nemo|lhotse --input build/corpus --output build/export-hf
    speechmill export --format tfds --input build/corpus       # TFDS metadata, in place

``hf``: Parquet shards per split with an ``Audio`` column plus a dataset card;
``nemo``: FLAC files and ``<split>_manifest.json``; ``lhotse``: FLAC files and
``speechmill_{recordings,supervisions,cuts}_<split>.jsonl.gz`` (corpus/export/ has the rows).
``tfds`` writes TFDS's metadata beside the shards (pipelines/tfds_metadata.py), copying nothing.

Runs on the skeleton of every corpus job (pipelines/job.py): units are ranges of
``RECORDS_PER_UNIT`` records of the input's shards (fixed, so the output never depends on the
worker count); a worker writes its range's FLAC files where they end up
(``OUT/audio/<split>/<shard>/<first record>/``) and its piece of each manifest (or its Parquet
file) into ``OUT/.parts``, kept by the unit cache every job shares (corpus/workdir.py); a
re-run reuses every finished range (same input shard, same format) of an interrupted run
unless ``--fresh``. When all ranges are done one step publishes: the pieces are joined per
split in shard order (byte copies: nothing is held per utterance), Parquet files are numbered,
``README.md`` and ``export.json`` are written last, and ``OUT/.parts`` is removed. An output
folder holds one export of one corpus: another corpus (or the same one rebuilt differently)
into it needs ``--fresh``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from typing import Any

import apache_beam as beam

from speechmill.corpus import storage
from speechmill.corpus.config import CorpusSettings
from speechmill.corpus.errors import UsageError
from speechmill.corpus.export import AUDIO_DIR, audio_name, flac_bytes
from speechmill.corpus.export.formats import FORMATS, ExportFormat
from speechmill.corpus.parts import PartSummary, UnitResult
from speechmill.corpus.reader import ShardRange, all_shards, load_info, read_range, same_folder
from speechmill.corpus.schema import INFO_FILE, SCHEMA_VERSION, Utterance, decode_utterance
from speechmill.corpus.types import Unit
from speechmill.corpus.workdir import (
    UnitCache,
    files_identity,
    fingerprint,
    parts_dir,
    progress_dir,
    unit_digest,
)
from speechmill.pipelines.corpus_input import corpus_ranges
from speechmill.pipelines.job import DEFAULT_RUN, CorpusJob, JobRun, run_corpus_job
from speechmill.pipelines.tfds_metadata import write_tfds_metadata
from speechmill.pipelines.transforms import staging_path

log = logging.getLogger("speechmill.export")
RECORDS_PER_UNIT = 256  # fixed: the output never depends on the worker count
EXPORT_FILE = "export.json"
EXPORT_VERSION = 1  # of this job's output layout (part of every unit's identity)
README = "README.md"  # every format's README (the hf dataset card is one)
OURS = (
    AUDIO_DIR,
    *sorted({f.files_dir for f in FORMATS.values() if f.files_dir}),
    README,
    EXPORT_FILE,
    ".parts",
    ".staging",
    ".lock",
)


def unit_folder(work: ShardRange) -> str:
    """Where a unit's FLAC files go, relative to OUT."""
    stem = work.path.rsplit("/", 1)[-1].removesuffix(".tfrecord")
    return f"{AUDIO_DIR}/{work.split}/{stem}/{work.first:07d}"


def export_unit(
    fmt: ExportFormat,
    utts: Iterator[tuple[int, Utterance]],
    out_dir: str,
    folder: str,
    rate: int,
) -> dict[str, bytes]:
    """A unit's (index in shard, utterance) pairs -> its pieces' bytes by kind; a format's
    FLAC files are written to ``OUT/<folder>/`` on the way."""
    rows: dict[str, list[Any]] = {kind: [] for kind in fmt.kinds}
    if fmt.audio_files:
        storage.mkdirs(f"{out_dir}/{folder}")
    for index, utt in utts:
        relative = ""
        if fmt.audio_files:
            relative = f"{folder}/{audio_name(utt, index)}"
            with storage.create(f"{out_dir}/{relative}", "audio/flac") as f:
                f.write(flac_bytes(utt.audio, rate))
        for kind, row in fmt.rows(utt, relative, rate).items():
            rows[kind].append(row)
    return {kind: fmt.piece(kind, rows[kind], rate) for kind in fmt.kinds}


class ExportRanges(beam.DoFn):
    """ShardRange -> its UnitResult: the range's files written and its pieces kept in the unit
    cache (one PartSummary per piece, the records and samples on the first, so progress counts
    each utterance once), or all of it reused from an earlier run."""

    def __init__(self, fmt: str, out_dir: str, sample_rate: int, job: str):
        self.fmt, self.out_dir, self.rate, self.job = FORMATS[fmt], out_dir, sample_rate, job

    def process(self, work: ShardRange) -> Iterator[UnitResult]:
        cache = UnitCache(parts_dir(self.out_dir))
        digest = unit_digest(0, Unit("export", work.key, work))
        identity = fingerprint(self.job, work, files_identity([work.path]))

        def make() -> tuple[UnitResult, dict]:
            records = samples = 0

            def utterances() -> Iterator[tuple[int, Utterance]]:
                nonlocal records, samples
                for i, record in enumerate(read_range(work)):
                    utt = decode_utterance(record)
                    records, samples = records + 1, samples + utt.num_samples
                    yield work.first + i, utt

            data = export_unit(self.fmt, utterances(), self.out_dir, unit_folder(work), self.rate)
            parts = []
            for i, (kind, content) in enumerate(data.items()):
                path = cache.part_path(digest, kind, "piece")
                with storage.create(path) as f:
                    f.write(content)
                first = i == 0
                parts.append(
                    PartSummary(
                        split=work.split,
                        path=path,
                        source=kind,  # a piece's kind where a corpus part names its source
                        key=work.key,
                        records=records if first else 0,
                        bytes=len(content),
                        samples=samples if first else 0,
                        spelled=0,
                        sha1=hashlib.sha1(content).hexdigest(),
                    )
                )
            return UnitResult(digest=digest, unit_key=work.key, parts=tuple(parts)), {}

        yield cache.reuse_or_make(digest, identity, make)


def piece_rows(result: UnitResult) -> Iterator[tuple[str, str, str, str, int, int, int]]:
    """A unit's pieces as small rows: (split, unit key, kind, path, bytes, records, samples)."""
    for p in result.parts:
        yield p.split, p.key, p.source, p.path, p.bytes, p.records, p.samples


def publish_export(
    _: Any, name: str, out_dir: str, staging: str, info: dict, rows: list, identity: dict
) -> dict:
    """Every unit done -> the export's files (a split's pieces of a kind joined in shard order,
    or published one file each), its README and export.json, in that order; the unit pieces
    are removed. Returns export.json."""
    fmt = FORMATS[name]
    rate = int(info["sample_rate"])
    splits: dict[str, dict[str, Any]] = {}
    for split in sorted({r[0] for r in rows}):
        mine = sorted((r for r in rows if r[0] == split), key=lambda r: r[1])
        counted = [r for r in mine if r[2] == fmt.kinds[0]]
        files = []
        for kind in fmt.kinds:
            pieces = [r for r in mine if r[2] == kind]
            if fmt.joined:
                file = fmt.file_name(kind, split, 0, 1)
                storage.copy_ranges([(r[3], 0, r[4]) for r in pieces], f"{staging}/{file}")
                storage.replace(f"{staging}/{file}", f"{out_dir}/{file}")
                files.append(file)
                continue
            for i, r in enumerate(pieces):
                file = fmt.file_name(kind, split, i, len(pieces))
                storage.mkdirs(f"{out_dir}/{file.rsplit('/', 1)[0]}" if "/" in file else out_dir)
                storage.replace(r[3], f"{out_dir}/{file}")
                files.append(file)
        splits[split] = {
            "examples": sum(r[5] for r in counted),
            "seconds": round(sum(r[6] for r in counted) / rate, 3),
            "bytes": sum(r[4] for r in mine),
            "files": files,
        }
    if fmt.files_dir:  # files of an earlier export of this folder that this one did not write
        keep = {f for s in splits.values() for f in s["files"]}
        stale = [
            m.path
            for m in storage.match(f"{out_dir}/{fmt.files_dir}/*")
            if m.path[len(out_dir) + 1 :] not in keep
        ]
        storage.delete(stale)
    _write(f"{staging}/{README}", fmt.readme(info, splits, rate).encode("utf-8"))
    storage.replace(f"{staging}/{README}", f"{out_dir}/{README}")
    export = {"format": name, **identity, "sample_rate": rate, "splits": splits}
    _write(f"{staging}/{EXPORT_FILE}", (json.dumps(export, indent=2) + "\n").encode("utf-8"))
    storage.replace(f"{staging}/{EXPORT_FILE}", f"{out_dir}/{EXPORT_FILE}")
    return export


def _write(path: str, data: bytes) -> None:
    with storage.create(path) as f:
        f.write(data)


class WriteExport(beam.PTransform):
    """UnitResults -> the published export (one step, once every unit is done; it sees one
    small row per piece, never an utterance)."""

    def __init__(self, fmt: str, out_dir: str, staging: str, info: dict, identity: dict):
        super().__init__()
        self.fmt, self.out_dir, self.staging = fmt, out_dir, staging
        self.info, self.identity = info, identity

    def expand(self, results):
        rows = results | "Pieces" >> beam.FlatMap(piece_rows)
        return (
            results.pipeline
            | "Publish when done" >> beam.Create([None])
            | "Publish"
            >> beam.Map(
                publish_export,
                self.fmt,
                self.out_dir,
                self.staging,
                self.info,
                beam.pvalue.AsList(rows),
                self.identity,
            )
        )


def check_output(out_dir: str, identity: dict, fresh: bool) -> None:
    """Refuse an output folder that holds something else, or an export of another corpus
    (without ``--fresh``); with ``--fresh``, remove the earlier export's files."""
    if not storage.exists(out_dir):
        return
    names = top_names(out_dir)
    foreign = sorted(
        n
        for n in names
        if n not in OURS and not n.endswith("_manifest.json") and not n.startswith("speechmill_")
    )
    if foreign:
        raise UsageError(
            f"--output {out_dir} holds files that are not a speechmill export ({', '.join(foreign[:3])}); "
            "export into a new or empty folder"
        )
    path = f"{out_dir}/{EXPORT_FILE}"
    earlier = json.loads(storage.read_bytes(path)) if storage.exists(path) else None
    if fresh:
        storage.delete([f"{out_dir}/{n}" for n in sorted(names) if n != ".lock"])
        return
    if earlier is not None and {k: earlier.get(k) for k in identity} != identity:
        raise UsageError(
            f"--output {out_dir} holds an export of another corpus or format "
            f"({earlier.get('format')} of {earlier.get('input')}); add --fresh to replace it"
        )


def top_names(folder: str) -> set[str]:
    """The names of the files and folders directly in ``folder``. On an object store (where
    listing one level means listing every object below it) only the export's own names are
    looked for, so the launcher never lists the audio files."""
    if "://" not in folder or folder.startswith("file://"):
        return set(os.listdir(folder.removeprefix("file://")))
    return {n for n in OURS if storage.exists(f"{folder}/{n}")}


@dataclasses.dataclass(frozen=True)
class ExportRequest:
    """One ``make export``: a format of FORMATS or "tfds", the corpus, and the output folder
    (none for tfds, which describes the corpus in place)."""

    format: str
    input: str
    output: str | None = None


def export(known: ExportRequest, run: JobRun = DEFAULT_RUN) -> dict:
    """Export a corpus; returns export.json as a dict (for tfds: the corpus's info.json)."""
    source_dir = known.input.rstrip("/")
    info = load_info(source_dir)
    if known.format == "tfds":
        if known.output and not same_folder(known.output.rstrip("/"), source_dir):
            raise UsageError("--format tfds describes the corpus in place: leave out --output")
        write_tfds_metadata(source_dir, info)
        return info
    if not known.output:
        raise UsageError(f"--format {known.format} needs --output (a new folder)")
    out_dir = known.output.rstrip("/")
    if same_folder(source_dir, out_dir):
        raise UsageError(f"--output {out_dir} is the input corpus; export into another folder")
    identity = {
        "format": known.format,
        "input": source_dir,
        "input_info_sha256": hashlib.sha256(
            storage.read_bytes(f"{source_dir}/{INFO_FILE}")
        ).hexdigest(),
        "schema_version": SCHEMA_VERSION,
    }
    check_output(out_dir, identity, run.fresh)
    storage.mkdirs(out_dir)
    settings = CorpusSettings(**info["settings"])
    shards = all_shards(source_dir, info)
    job_identity = fingerprint("export", EXPORT_VERSION, known.format, settings.sample_rate)
    job = CorpusJob(
        label="export",
        out_dir=out_dir,
        settings=settings,
        sources_meta=[],
        units=corpus_ranges(
            shards, lambda _split: RECORDS_PER_UNIT, progress_dir(staging_path(out_dir))
        ),
        work=ExportRanges(known.format, out_dir, settings.sample_rate, job_identity),
        tail=lambda staging: WriteExport(known.format, out_dir, staging, info, identity),
        published=lambda folder: json.loads(storage.read_bytes(f"{folder}/{EXPORT_FILE}")),
    )
    published = run_corpus_job(job, run)
    storage.delete_if_exists(parts_dir(out_dir))  # published: the pieces are in place now
    return published
