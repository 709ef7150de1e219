"""Beam job: sources -> cleaned utterances -> TFRecord shards per split + info.json + ledger.

    python -m speechmill.pipelines.build_corpus --config configs/default.toml --output build/corpus \
        [--limit N] [--dask local:2 | --dask tcp://host:8786] [any Beam option]

Job flags are read here; every other flag goes to Beam's PipelineOptions unchanged, so
``--runner=DataflowRunner --project=... --temp_location=gs://...`` works as documented by
Beam. Without ``--runner`` the DirectRunner runs with one worker process per core.

The graph is linear (every step feeds the next), which every runner, DaskRunner included,
executes completely:

    Create(units) | ParDo(expand) | Reshuffle | ParDo(read+clean+write parts)   # one element per unit
      | GroupByKey(one key)   | FlatMap(plan shards)             # small metadata only
      | Reshuffle | Map(write shard) | GroupByKey(one key) | Map(publish)
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from collections.abc import Iterator

import apache_beam as beam
from apache_beam.metrics import Metrics

from speechmill.corpus.build import build_or_reuse
from speechmill.corpus.config import BuildConfig, ConfigError, load_config
from speechmill.corpus.errors import command
from speechmill.corpus.inputs.tts import mark_job
from speechmill.corpus.options import HelpFormatter
from speechmill.corpus.parts import PartResult
from speechmill.corpus.progress import JobProgress, by_reason, splits_line, wants_json
from speechmill.corpus.reader import load_info
from speechmill.corpus.reject import Reject, RejectRecord, record_reject
from speechmill.corpus.schema import SCHEMA_VERSION, dumps_info
from speechmill.corpus.sources import Source, SourceContext, make_sources
from speechmill.corpus.types import Note, Unit
from speechmill.corpus.workdir import (
    UnitCache,
    UnitDone,
    fingerprint,
    note_progress,
    output_lock,
    parts_dir,
    progress_dir,
)
from speechmill.pipelines.transforms import (
    WriteCorpus,
    add_job_options,
    fresh_staging,
    quiet_logging,
    run_pipeline,
)

log = logging.getLogger("speechmill.build")
DEFAULT_CONFIG = "configs/default.toml"
DEFAULT_OUTPUT = "build/corpus"
NOT_SHAPING_PARTS = {
    "shard_mb",
    "max_reject_fraction",
    "cache_dir",
}  # settings a unit's parts do not depend on


class ExpandUnits(beam.DoFn):
    """(source index, unit) -> the units it stands for (a playlist -> its videos; most sources
    yield the unit itself) and RejectRecords for what could not be expanded."""

    def __init__(self, sources: list[Source]):
        self.sources = sources

    def process(self, element) -> Iterator[tuple[int, Unit] | RejectRecord]:
        index, unit = element
        source = self.sources[index]
        for item in source.expand(unit):
            if isinstance(item, Reject):
                yield record_reject(item, source=source.name, stage="expand", where=unit.key)
            else:
                yield index, item


class BuildUnits(beam.DoFn):
    """(source index, unit) -> PartResult, RejectRecord, Note and UnitDone elements: each unit
    built, or reused from the output folder's unit cache when it is unchanged (corpus.build)."""

    def __init__(
        self,
        sources: list[Source],
        settings,
        parts_dir: str,
        tables: list[str],
        progress: str | None = None,
    ):
        self.sources = sources
        self.settings = settings
        self.parts_dir = parts_dir
        self.tables = tables  # fingerprint of each [[source]] table and the settings
        self.progress = progress  # folder for one progress note per finished unit

    def setup(self) -> None:
        for source in self.sources:
            source.setup()

    def process(self, element) -> Iterator[PartResult | RejectRecord | Note]:
        if isinstance(element, RejectRecord):  # a unit that could not be expanded
            Metrics.counter("rejects", element.reason).inc()
            yield element
            return
        index, unit = element
        source = self.sources[index]
        identity = fingerprint(
            self.tables[index], unit.key, repr(unit.payload), source.input_identity(unit)
        )
        items = []
        for item in build_or_reuse(
            source, unit, self.settings, UnitCache(self.parts_dir), index, identity
        ):
            if isinstance(item, RejectRecord):
                Metrics.counter("rejects", item.reason).inc()
            elif isinstance(item, PartResult):
                Metrics.counter("utterances", item.split).inc(len(item.ends))
            elif isinstance(item, UnitDone):
                Metrics.counter("units", "done").inc()
                if self.progress:
                    note_progress(self.progress, item.digest, items, self.settings.sample_rate)
            items.append(item)
            yield item

    def teardown(self) -> None:
        for source in self.sources:
            source.close()


def configured_sources(
    config: BuildConfig, limit: int | None = None
) -> tuple[list[Source], list[tuple[int, Unit]]]:
    """The configured sources and their (table index, unit) pairs; raises ConfigError."""
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


def build_pipeline(
    p: beam.Pipeline,
    config: BuildConfig,
    out_dir: str,
    sources: list[Source],
    units: list[tuple[int, Unit]],
    fresh: bool = False,
) -> None:
    """Add the whole build to ``p``. Finished units of an earlier run into ``out_dir`` are
    reused unless ``fresh``."""
    settings = config.settings
    staging = fresh_staging(out_dir, fresh)
    limits = {i: s.limit for i, s in enumerate(sources)}
    sources_meta = [
        {"type": name, "license": lic}
        for name, lic in sorted({(s.name, s.license) for s in sources})
    ]
    shaping = {k: v for k, v in dataclasses.asdict(settings).items() if k not in NOT_SHAPING_PARTS}
    tables = [
        fingerprint(SCHEMA_VERSION, shaping, table, source.limit)
        for table, source in zip(config.sources, sources)
    ]
    (
        p
        | "Units" >> beam.Create(units)
        | "Expand units" >> beam.ParDo(ExpandUnits(sources))
        | "Spread units" >> beam.Reshuffle()
        | "Read, clean, write parts"
        >> beam.ParDo(
            BuildUnits(sources, settings, parts_dir(out_dir), tables, progress_dir(staging))
        )
        | "Write corpus" >> WriteCorpus(settings, out_dir, staging, sources_meta, limits)
    )


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        prog="speechmill corpus",
        formatter_class=HelpFormatter,
        description="Build a speechmill corpus (TFRecord shards). Any other --flag goes to Beam's "
        "PipelineOptions (--runner, --direct_num_workers, ...).",
    )
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="TOML config")
    parser.add_argument("--output", default=DEFAULT_OUTPUT, help="output folder or URL")
    parser.add_argument(
        "--limit", type=int, default=None, help="max utterances per source (quick trials)"
    )
    add_job_options(parser, "rebuild every unit")
    return parser.parse_known_args(argv)


def run(argv: list[str] | None = None) -> dict:
    """Build a corpus; returns the published info.json as a dict."""
    known, beam_args = parse_args(argv)
    quiet_logging(known.log_level)
    mark_job()
    config = load_config(known.config)
    out_dir = known.output if "://" in known.output else os.path.abspath(known.output)
    sources, units = configured_sources(config, known.limit)
    with output_lock(out_dir):
        return _run(config, sources, units, out_dir, known, beam_args)


def _run(
    config: BuildConfig,
    sources: list[Source],
    units: list[tuple[int, Unit]],
    out_dir: str,
    known: argparse.Namespace,
    beam_args: list[str],
) -> dict:
    with JobProgress(progress_dir(f"{out_dir}/.staging"), len(units), "corpus", known.progress):
        run_pipeline(
            lambda p: build_pipeline(p, config, out_dir, sources, units, known.fresh),
            beam_args,
            known.dask,
        )
    return load_info(out_dir)


@command("corpus")
def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", level=logging.INFO)
    info = run(argv)
    print(dumps_info(info).rstrip("\n") if wants_json(argv) else summary_line(info))
    return 0


def summary_line(info: dict) -> str:
    rejects = info["rejects"]
    reasons = f" ({by_reason(rejects['by_reason'])})" if rejects["total"] else ""
    return f"speechmill: corpus built: {splits_line(info, shards=True)}; rejects {rejects['total']}{reasons}"


if __name__ == "__main__":
    # Run the module's own import, not __main__: classes pickled for the workers are then
    # found by their module name in every worker process.
    from speechmill.pipelines.build_corpus import main as _main

    sys.exit(_main())
