"""Beam job: sources -> cleaned utterances -> TFRecord shards per split + info.json + ledger.

    info = build(BuildRequest("configs/default.toml", "build/corpus"), JobRun(dask="local:2"))

``speechmill corpus`` (speechmill/commands/corpus.py) reads the flags; every flag it does not
know goes to Beam's PipelineOptions unchanged (``JobRun.beam_args``), so
``--runner=DataflowRunner --project=... --temp_location=gs://...`` works as documented by Beam.
Without ``--runner`` the DirectRunner runs with one worker process per core.

The job runs on the skeleton every corpus job shares (pipelines/job.py):

    Create(coarse units) | ParDo(expand) | Reshuffle | ParDo(expand again)  # chapters, videos ...
      | GroupByKey(unit key): one of each | ParDo(read + clean + write parts)
      -> one UnitResult per unit (totals only)
      | DropRepeats: repeated ids and sounds (candidates from a sketch, then grouped) and
        speaking-rate outliers per speaker to the ledger
      | WriteCorpus: limits, plan per split, records placed where each part lies, shards
        written in parallel, combiners for the facts, ledger pieces, atomic publish
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterator

import apache_beam as beam

from speechmill.corpus.build import build_or_reuse
from speechmill.corpus.config import BuildConfig, ConfigError, load_config
from speechmill.corpus.facts import BuildNotes
from speechmill.corpus.inputs.tts import mark_job
from speechmill.corpus.parts import UnitResult
from speechmill.corpus.reject import Reject, record_reject
from speechmill.corpus.schema import SCHEMA_VERSION
from speechmill.corpus.sources import Source, SourceContext, make_sources
from speechmill.corpus.types import Unit
from speechmill.corpus.workdir import (
    UnitCache,
    fingerprint,
    note_planned,
    parts_dir,
    progress_dir,
)
from speechmill.pipelines.dedupe import Dedupe
from speechmill.pipelines.job import DEFAULT_RUN, CorpusJob, JobRun, run_corpus_job
from speechmill.pipelines.transforms import lean_heap, one_thread_per_worker, staging_path

log = logging.getLogger("speechmill.build")
DEFAULT_CONFIG = "configs/default.toml"
DEFAULT_OUTPUT = "build/corpus"
NOT_SHAPING_PARTS = {
    "shard_mb",
    "max_reject_fraction",
    "cache_dir",
}  # settings a unit's parts do not depend on


class ExpandUnits(beam.DoFn):
    """(source index, unit) -> the units it stands for (a playlist -> its videos, a folder ->
    its chapters, a table -> its ranges; most sources yield the unit itself), and for what could
    not be expanded a UnitResult holding its ledger line. Runs on the workers, in two rounds (a
    URL file's range -> its URLs -> their videos), so a source with many units never lists them
    on the launcher."""

    def __init__(self, sources: list[Source], planned: str | None = None):
        self.sources = sources
        self.planned = planned  # the last round notes each unit's count here for the progress

    def process(self, element) -> Iterator[tuple[int, Unit] | UnitResult]:
        if isinstance(element, UnitResult):  # an earlier round's reject
            yield element
            return
        index, unit = element
        source = self.sources[index]
        count = 0
        for item in source.expand(unit):
            if isinstance(item, Reject):
                record = record_reject(item, source=source.name, stage="expand", where=unit.key)
                digest = fingerprint("expand", index, unit.key, record.to_json())[:20]
                yield UnitResult(digest, unit.key, rejects=(record,), table=index)
            else:
                count += 1
                yield index, item
        if self.planned:
            note_planned(self.planned, f"{index}/{unit.key}", count)


class BuildUnits(beam.DoFn):
    """(source index, unit) -> its UnitResult: built, or reused from the output folder's unit
    cache when it is unchanged (corpus.build). A UnitResult (an expansion's reject) passes."""

    def __init__(self, sources: list[Source], settings, parts_dir: str, tables: list[str]):
        self.sources = sources
        self.settings = settings
        self.parts_dir = parts_dir
        self.tables = tables  # fingerprint of each [[source]] table and the settings

    def setup(self) -> None:
        one_thread_per_worker()  # a worker on a cluster did not start from our launcher
        lean_heap()
        for source in self.sources:
            source.setup()
        self.labels = {
            i: labeller_of(source, self.settings.max_seconds)
            for i, source in enumerate(self.sources)
            if getattr(source, "teacher", "")
        }

    def process(self, element) -> Iterator[UnitResult]:
        if isinstance(element, UnitResult):
            yield element
            return
        index, unit = element
        source = self.sources[index]
        identity = fingerprint(
            self.tables[index], unit.key, repr(unit.payload), source.input_identity(unit)
        )
        yield build_or_reuse(
            source,
            unit,
            self.settings,
            UnitCache(self.parts_dir),
            index,
            identity,
            self.labels.get(index),
        )

    def teardown(self) -> None:
        for source in self.sources:
            source.close()


def labeller_of(source: Source, max_seconds: float):
    """The teacher stage for a source's recordings without transcripts (teachers/label.py)."""
    from speechmill.teachers.label import Labeller

    return Labeller(
        source.teacher,  # type: ignore[attr-defined]
        max_seconds=getattr(source, "max_seconds", None) or max_seconds,
        min_seconds=getattr(source, "min_seconds", None) or 0.0,
        second=getattr(source, "second", ""),
        second_max_cer=getattr(source, "second_max_cer", None),
    )


def teachers_of(config: BuildConfig, sources: list[Source]) -> dict[str, dict]:
    """Every teacher the sources name, loaded once here (a missing or damaged model is one
    line before any work) -> what info.json records of each (backend, model, digest, device)."""
    from speechmill.teachers.base import TeacherError
    from speechmill.teachers.table import load_teacher

    found: dict[str, dict] = {}
    for number, source in enumerate(sources, start=1):
        for key in ("teacher", "second"):
            spec = getattr(source, key, "")
            if spec and spec not in found:
                try:
                    found[spec] = load_teacher(spec).facts()
                except TeacherError as e:
                    raise ConfigError(
                        f"{config.where}: [[source]] #{number} {source.name}: {key} {spec}: {e}"
                    ) from None
    return found


def configured_sources(
    config: BuildConfig, limit: int | None = None
) -> tuple[list[Source], list[tuple[int, Unit]]]:
    """The configured sources and their (table index, unit) pairs as the launcher lists them
    (a source whose units are many lists coarse ones that the workers expand); raises
    ConfigError."""
    settings = config.settings
    context = SourceContext(
        base_dir=config.base_dir, cache_dir=settings.cache_path, sample_rate=settings.sample_rate
    )
    sources = make_sources(config.sources, context, config.where)
    if limit is not None:
        for source in sources:
            source.limit = limit
    units = [(i, u) for i, s in enumerate(sources) for u in s.units()]
    if not units:
        raise ConfigError("the configured sources have no work units")
    return sources, units


def unit_key(element: tuple[int, Unit] | UnitResult) -> tuple[str, tuple[int, Unit] | UnitResult]:
    """An element keyed by what it stands for: a unit twice in the input is one unit."""
    if isinstance(element, UnitResult):
        return f"result/{element.digest}", element
    index, unit = element
    return f"unit/{index}/{unit.key}", element


def first_of(key: str, elements) -> tuple[int, Unit] | UnitResult:
    """One element of a group of equal keys (the same whatever order they came in)."""
    return min(elements, key=lambda e: repr(e[1].payload) if isinstance(e, tuple) else "")


def expanded_units(
    p: beam.Pipeline, sources: list[Source], units: list, rounds: int, planned: str | None
) -> beam.PCollection:
    """The launcher's units expanded by the workers in ``rounds`` rounds, spread over them;
    after a second round (where one URL can reach the same video twice) one of each."""
    units = p | "Units" >> beam.Create(units)
    if rounds:
        units |= "Expand units" >> beam.ParDo(
            ExpandUnits(sources, planned if rounds == 1 else None)
        )
    units |= "Spread units" >> beam.Reshuffle()
    if rounds > 1:
        units = (
            units
            | "Expand again" >> beam.ParDo(ExpandUnits(sources, planned))
            | "Key units" >> beam.Map(unit_key)
            | "Group units" >> beam.GroupByKey()  # one of each, spread over the workers
            | "One of each" >> beam.MapTuple(first_of)
        )
    return units


def build_job(
    config: BuildConfig, out_dir: str, sources: list[Source], units: list[tuple[int, Unit]]
) -> CorpusJob:
    """The build as a job on the common skeleton (pipelines/job.py)."""
    settings = config.settings
    shaping = {k: v for k, v in dataclasses.asdict(settings).items() if k not in NOT_SHAPING_PARTS}
    tables = [
        fingerprint(SCHEMA_VERSION, shaping, table, source.limit)
        for table, source in zip(config.sources, sources)
    ]
    teachers = teachers_of(config, sources)
    tables = [
        fingerprint(
            table,
            [
                teachers[s]
                for s in (getattr(source, "teacher", ""), getattr(source, "second", ""))
                if s
            ],
        )
        if getattr(source, "teacher", "")
        else table
        for table, source in zip(tables, sources)
    ]
    rounds = max(s.EXPAND_ROUNDS for s in sources)
    total = None if rounds else len(units)  # else the workers announce it as they expand
    planned = None if total else progress_dir(staging_path(out_dir))
    return CorpusJob(
        label="corpus",
        out_dir=out_dir,
        settings=settings,
        sources_meta=[
            {"type": name, "license": lic}
            for name, lic in sorted({(s.name, s.license) for s in sources})
        ],
        units=lambda p: expanded_units(p, sources, units, rounds, planned),
        work=BuildUnits(sources, settings, parts_dir(out_dir), tables),
        total_units=total,
        limits={i: s.limit for i, s in enumerate(sources)},
        dedupe=Dedupe(
            ids=True,
            sounds=settings.quality.dedupe_sounds,
            rate_fence=settings.quality.rate_outliers,
            rate_min_clips=settings.quality.rate_min_clips,
        ),
        notes=BuildNotes(),
        extra={"teachers": teachers} if teachers else {},
    )


@dataclasses.dataclass(frozen=True)
class BuildRequest:
    """One ``make corpus``: the config file, the output folder (or URL) and, for quick trials,
    at most ``limit`` utterances per [[source]] table."""

    config: str = DEFAULT_CONFIG
    output: str = DEFAULT_OUTPUT
    limit: int | None = None


def build(request: BuildRequest, run: JobRun = DEFAULT_RUN) -> dict:
    """Build a corpus; returns the published info.json as a dict."""
    mark_job()
    config = load_config(request.config)
    out = request.output
    out_dir = out if "://" in out else os.path.abspath(out)
    sources, units = configured_sources(config, request.limit)
    return run_corpus_job(build_job(config, out_dir, sources, units), run)
