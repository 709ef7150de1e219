"""The one skeleton every corpus job runs on: build (``make corpus``), augment and verify.

    job = CorpusJob(label="augment", out_dir=..., settings=..., sources_meta=...,
                    units=lambda p: p | beam.Create(shards) | beam.FlatMap(ranges),
                    work=AugmentRanges(...))
    info = run_corpus_job(job, JobRun(fresh=True, dask="local:2"))

A job supplies its work units (as a Beam step, so a worker can enumerate them), a DoFn that
turns one unit into one :class:`~speechmill.corpus.parts.UnitResult`, and its ``info.json``
extras; the skeleton holds the output lock, makes the staging folder, shows progress, notes
each finished unit, and ends in ``WriteCorpus``
(pipelines/transforms.py): the plan, the shards, the combined facts and the atomic publish.
A job whose output is another format (``make export``) brings its own ``tail`` instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

from speechmill.corpus import storage
from speechmill.corpus.config import CorpusSettings
from speechmill.corpus.parts import UnitResult
from speechmill.corpus.progress import SILENT, Progress
from speechmill.corpus.reader import load_info
from speechmill.corpus.workdir import note_progress, output_lock, progress_dir
from speechmill.pipelines.dedupe import Dedupe, DropRepeats
from speechmill.pipelines.transforms import (
    WriteCorpus,
    fresh_staging,
    run_pipeline,
)


@dataclasses.dataclass(frozen=True)
class CorpusJob:
    """What one job brings to the skeleton."""

    label: str  # "corpus", "augment", "verify": names the progress line
    out_dir: str
    settings: CorpusSettings
    sources_meta: list[dict[str, Any]]  # info.json's sources: type and license
    units: Callable[[beam.Pipeline], beam.PCollection]  # the work units, spread, as Beam steps
    work: beam.DoFn  # one unit -> one UnitResult
    total_units: int | None = None  # for the progress bar, when the launcher knows it
    limits: dict[int, int | None] = dataclasses.field(default_factory=dict)
    extra: dict[str, Any] | None = None  # info.json keys the job adds
    notes: Any = None  # corpus/facts.py accumulator of the units' notes (default: alignment)
    dedupe: Dedupe = Dedupe()  # repeated ids and sounds, rate outliers: to the ledger
    # A job whose output is not a speechmill corpus (make export) brings its own tail, given
    # the staging folder (default: WriteCorpus), and what it published (default: info.json).
    tail: Callable[[str], beam.PTransform] | None = None
    published: Callable[[str], dict] = load_info


def over_corpus(
    label: str,
    source_dir: str,
    out_dir: str,
    info: dict[str, Any],
    settings: CorpusSettings,
    per_unit: Callable[[str], int | None],
    work: beam.DoFn,
    extra: dict[str, Any] | None = None,
    notes: Any = None,
) -> CorpusJob:
    """A corpus -> corpus job (verify, measure): the input's shards cut into ranges of
    ``per_unit(split)`` records by the workers, its sources' types and licences carried over."""
    from speechmill.corpus.reader import all_shards
    from speechmill.pipelines.corpus_input import corpus_ranges
    from speechmill.pipelines.transforms import staging_path

    return CorpusJob(
        label=label,
        out_dir=out_dir,
        settings=settings,
        sources_meta=[{"type": s["type"], "license": s["license"]} for s in info["sources"]],
        units=corpus_ranges(
            all_shards(source_dir, info), per_unit, progress_dir(staging_path(out_dir))
        ),
        work=work,
        extra=extra,
        notes=notes,
    )


@dataclasses.dataclass(frozen=True)
class JobRun:
    """How to run a job, whichever it is: redo everything (``fresh``), on which Dask cluster
    (``local:N`` or ``tcp://host:port``), with which Beam options (``--runner=...``, any flag
    Beam's PipelineOptions takes), and who is told how far it is."""

    fresh: bool = False
    dask: str | None = None
    beam_args: tuple[str, ...] = ()
    progress: Progress = SILENT


DEFAULT_RUN = JobRun()  # the DirectRunner, one worker per core, reusing finished units, silent


def noted(result: UnitResult, folder: str | None, sample_rate: int) -> UnitResult:
    """Count a finished unit in the job's metrics and, when someone watches (``folder``), in
    the progress notes; pass it on."""
    Metrics.counter("units", "done").inc()
    Metrics.counter("utterances", "accepted").inc(result.records)
    for reject in result.rejects:
        Metrics.counter("rejects", reject.reason).inc()
    if folder is not None:
        note_progress(folder, result, sample_rate)
    return result


def run_corpus_job(job: CorpusJob, run: JobRun) -> dict:
    """Run a job to the end under the output's lock; returns the published info.json."""
    with output_lock(job.out_dir):
        staging = fresh_staging(job.out_dir, run.fresh)
        notes = progress_dir(staging)

        def steps(p: beam.Pipeline) -> None:
            results = (
                job.units(p)
                | "Work" >> beam.ParDo(job.work)
                | "Note progress"
                >> beam.Map(
                    noted, notes if run.progress.watches() else None, job.settings.sample_rate
                )
            )
            if job.dedupe:
                results |= "One utterance per id and sound" >> DropRepeats(
                    job.out_dir, staging, job.settings.sample_rate, job.dedupe
                )
            if job.tail is not None:
                results | "Write output" >> job.tail(staging)
                return
            (
                results
                | "Write corpus"
                >> WriteCorpus(
                    job.settings,
                    job.out_dir,
                    staging,
                    job.sources_meta,
                    limits=job.limits,
                    extra=job.extra,
                    notes=job.notes,
                )
            )

        with run.progress.job(notes, job.total_units, job.label):
            run_pipeline(steps, list(run.beam_args), run.dask)
        info = job.published(job.out_dir)  # published: the staging folder only holds notes now
        storage.delete_if_exists(staging)
    return info
