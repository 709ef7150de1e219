"""Beam job: sources -> cleaned utterances -> TFRecord shards per split + info.json + ledger.

    python -m pipelines.build_corpus --config configs/default.toml --output build/corpus \
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
import json
import logging
import os
import sys
from typing import Any, Iterator

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import PipelineOptions

from corpus.build import PartResult, build_unit
from corpus.config import BuildConfig, ConfigError, load_config
from corpus.reject import Reject, RejectRecord, record_reject
from corpus.schema import INFO_FILE
from corpus.shards import ShardSpec, TooManyRejects, apply_limits, plan_shards, publish, write_shard
from corpus.sources import make_source
from corpus.sources.base import Note, Unit

log = logging.getLogger("speechmill.build")
DEFAULT_CONFIG = "configs/default.toml"
DEFAULT_OUTPUT = "build/corpus"


class ExpandUnits(beam.DoFn):
    """(source index, unit) -> the units it stands for (a playlist -> its videos); sources
    without an ``expand`` method pass their units through."""

    def __init__(self, sources: list):
        self.sources = sources

    def process(self, element) -> Iterator[tuple[int, Unit] | RejectRecord]:
        index, unit = element
        source = self.sources[index]
        if not (hasattr(source, "expand") and unit.payload.get("expand")):
            yield element
            return
        for item in source.expand(unit):
            if isinstance(item, Reject):
                yield record_reject(item, source=source.name, stage="expand", where=unit.payload.get("url", ""))
            else:
                yield index, item


class BuildUnits(beam.DoFn):
    """(source index, unit) -> PartResult and RejectRecord elements (see corpus.build)."""

    def __init__(self, sources: list, settings, parts_dir: str):
        self.sources = sources
        self.settings = settings
        self.parts_dir = parts_dir

    def setup(self) -> None:
        for source in self.sources:
            if hasattr(source, "setup"):
                source.setup()

    def process(self, element) -> Iterator[PartResult | RejectRecord | Note]:
        if isinstance(element, RejectRecord):       # a unit that could not be expanded
            Metrics.counter("rejects", element.reason).inc()
            yield element
            return
        index, unit = element
        for item in build_unit(self.sources[index], unit, self.settings, self.parts_dir, table=index):
            if isinstance(item, RejectRecord):
                Metrics.counter("rejects", item.reason).inc()
            elif isinstance(item, PartResult):
                Metrics.counter("utterances", item.split).inc(len(item.ends))
            yield item

    def teardown(self) -> None:
        for source in self.sources:
            if hasattr(source, "close"):
                source.close()


def plan_step(keyed, settings, limits) -> Iterator[Any]:
    """All unit results -> one ShardSpec per shard, then one ("summary", parts, rejects)."""
    _, results = keyed
    parts = apply_limits([r for r in results if isinstance(r, PartResult)], limits)
    rejects = [r for r in results if isinstance(r, RejectRecord)]
    notes = [r for r in results if isinstance(r, Note)]
    yield from plan_shards(parts, settings)
    yield ("summary", parts, rejects, notes)


def write_step(item, staging_dir: str):
    if isinstance(item, ShardSpec):
        write_shard(item, staging_dir)
    return item


def publish_step(keyed, out_dir: str, staging_dir: str, settings, sources_meta, extra=None) -> dict:
    _, items = keyed
    specs = sorted((i for i in items if isinstance(i, ShardSpec)), key=lambda s: s.name)
    (_, parts, rejects, notes), = [i for i in items if isinstance(i, tuple)]
    info = publish(out_dir, staging_dir, specs, parts, rejects, settings, sources_meta, notes, extra)
    return info


def build_pipeline(p: beam.Pipeline, config: BuildConfig, out_dir: str, limit: int | None = None) -> None:
    """Add the whole build to ``p`` (raises ConfigError before adding anything)."""
    settings = config.settings
    sources = [make_source(t, config.base_dir, settings.cache_path) for t in config.sources]
    if limit is not None:
        for source in sources:
            source.limit = limit
    units = [(i, u) for i, s in enumerate(sources) for u in s.units()]
    if not units:
        raise ConfigError("the configured sources have no work units")
    staging = fresh_staging(out_dir)
    limits = {i: s.limit for i, s in enumerate(sources)}
    sources_meta = [{"type": name, "license": lic} for name, lic in sorted({(s.name, _license(s)) for s in sources})]
    (p
     | "Units" >> beam.Create(units)
     | "Expand units" >> beam.ParDo(ExpandUnits(sources))
     | "Spread units" >> beam.Reshuffle()
     | "Read, clean, write parts" >> beam.ParDo(BuildUnits(sources, settings, f"{staging}/parts"))
     | "Write corpus" >> WriteCorpus(settings, out_dir, staging, sources_meta, limits))


def fresh_staging(out_dir: str) -> str:
    """An empty ``OUT/.staging`` (with ``parts/``) for a job's work files; returns its path."""
    staging = f"{out_dir.rstrip('/')}/.staging"
    if FileSystems.exists(staging):
        FileSystems.delete([staging])
    FileSystems.mkdirs(f"{staging}/parts")
    return staging


class WriteCorpus(beam.PTransform):
    """Part results and rejects -> shards, ledger and info.json published in ``out_dir``.

    The tail every job shares: gather the small unit results, plan the shards, write them in
    parallel, then publish atomically (see corpus/shards.py).
    """

    def __init__(self, settings, out_dir: str, staging: str, sources_meta: list, limits: dict | None = None,
                 extra: dict | None = None):
        super().__init__()
        self.settings, self.out_dir, self.staging = settings, out_dir.rstrip("/"), staging
        self.sources_meta, self.limits, self.extra = sources_meta, limits or {}, extra

    def expand(self, results):
        return (results
                | "Key results" >> beam.Map(lambda r: ("corpus", r))
                | "Gather results" >> beam.GroupByKey()
                | "Plan shards" >> beam.FlatMap(plan_step, self.settings, self.limits)
                | "Spread shards" >> beam.Reshuffle()
                | "Write shards" >> beam.Map(write_step, self.staging)
                | "Key shards" >> beam.Map(lambda r: ("corpus", r))
                | "Gather shards" >> beam.GroupByKey()
                | "Publish" >> beam.Map(publish_step, self.out_dir, self.staging, self.settings, self.sources_meta,
                                        self.extra))


def quiet_logging(level: str) -> None:
    """Our messages at ``level``; Beam's at WARNING (worker lines reach the terminal directly,
    the job service would repeat each one)."""
    logging.getLogger().setLevel(level.upper())
    logging.getLogger("apache_beam").setLevel(logging.WARNING)
    logging.getLogger("apache_beam.runners.portability.local_job_service").setLevel(logging.ERROR)
    logging.getLogger("distributed").setLevel(logging.WARNING)


def _license(source) -> str:
    module = sys.modules.get(type(source).__module__)
    return getattr(module, "LICENSE", "")


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description="Build a speechmill corpus (TFRecord shards).")
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="TOML config (default: %(default)s)")
    parser.add_argument("--output", default=DEFAULT_OUTPUT, help="output folder or URL (default: %(default)s)")
    parser.add_argument("--limit", type=int, default=None, help="max utterances per source (quick trials)")
    parser.add_argument("--dask", default=None,
                        help="run on Dask: local:N starts a local cluster of N workers; tcp://host:port uses one")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_known_args(argv)


def beam_options(beam_args: list[str], dask_address: str | None) -> PipelineOptions:
    """Beam options: the user's flags, plus defaults for what they left out."""
    args = list(beam_args)

    def given(*prefixes: str) -> bool:
        return any(a.startswith(prefixes) for a in args)

    if not given("--default_sdk_harness_log_level"):
        args.append("--default_sdk_harness_log_level=WARNING")
    if dask_address:
        args += ["--runner=apache_beam.runners.dask.dask_runner.DaskRunner", f"--dask_client_address={dask_address}"]
        if not given("--dask_partition_size", "--dask_npartitions"):
            args.append("--dask_partition_size=1")   # one work unit per Dask partition
    elif not given("--runner"):
        args.append("--runner=DirectRunner")
        if not given("--direct_num_workers"):
            args.append(f"--direct_num_workers={os.cpu_count() or 1}")
        if not given("--direct_running_mode"):
            args.append("--direct_running_mode=multi_processing")
    return PipelineOptions(args)


def run(argv: list[str] | None = None) -> dict:
    """Build a corpus; returns the published info.json as a dict."""
    known, beam_args = parse_args(argv)
    quiet_logging(known.log_level)
    config = load_config(known.config)
    out_dir = known.output if "://" in known.output else os.path.abspath(known.output)
    cluster = None
    dask_address = known.dask
    if known.dask and known.dask.startswith("local:"):
        from pipelines.dask_cluster import start_local_cluster
        cluster = start_local_cluster(int(known.dask.split(":", 1)[1]))
        dask_address = cluster.scheduler_address
    try:
        p = beam.Pipeline(options=beam_options(beam_args, dask_address))
        build_pipeline(p, config, out_dir, known.limit)
        result = p.run()
        try:
            result.wait_until_finish()
        finally:
            client = getattr(result, "client", None)     # DaskRunner's client: close before the cluster
            if client is not None:
                client.close()
    finally:
        if cluster is not None:
            cluster.close()
    with FileSystems.open(f"{out_dir}/{INFO_FILE}") as f:
        return json.loads(f.read())


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", level=logging.INFO)
    try:
        info = run(argv)
    except ConfigError as e:
        print(f"speechmill: config error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # a Beam runner wraps worker errors; show our one line when it is ours
        message = next((line for line in str(e).splitlines() if line.startswith("speechmill:")), None)
        if message is None and isinstance(e, TooManyRejects):
            message = str(e)
        if message is None:
            raise
        print(message, file=sys.stderr)
        return 1
    print(summary_line(info))
    return 0


def summary_line(info: dict) -> str:
    splits = ", ".join(f"{name} {s['examples']} utt / {s['hours']:.2f} h in {len(s['shards'])} shard(s)"
                       for name, s in info["splits"].items())
    return f"speechmill: corpus built: {splits}; rejects {info['rejects']['total']} {info['rejects']['by_reason']}"


if __name__ == "__main__":
    sys.exit(main())
