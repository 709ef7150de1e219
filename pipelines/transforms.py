"""Beam wiring that both corpus jobs (build and augment) share.

``WriteCorpus`` is the common tail: gather the small unit results, plan the shards, write them
in parallel, publish atomically (the work is done by the pure functions in corpus/shards.py).
``fresh_staging`` makes a job's work folder, ``beam_options`` fills in runner defaults and
``quiet_logging`` keeps Beam's chatter down.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from speechmill.corpus import storage
from speechmill.corpus.parts import PartResult
from speechmill.corpus.reject import RejectRecord
from speechmill.corpus.shards import (
    ShardSpec,
    apply_limits,
    plan_shards,
    publish,
    write_shard,
)
from speechmill.corpus.types import Note
from speechmill.corpus.workdir import UnitCache, UnitDone, parts_dir, progress_dir


def plan_step(keyed, settings, limits) -> Iterator[Any]:
    """All unit results -> one ShardSpec per shard, then one ("summary", parts, rejects, notes, units)."""
    _, results = keyed
    parts = apply_limits([r for r in results if isinstance(r, PartResult)], limits)
    rejects = [r for r in results if isinstance(r, RejectRecord)]
    notes = [r for r in results if isinstance(r, Note)]
    units = {r.digest for r in results if isinstance(r, UnitDone)}
    yield from plan_shards(parts, settings)
    yield ("summary", parts, rejects, notes, units)


def write_step(item, staging_dir: str):
    if isinstance(item, ShardSpec):
        write_shard(item, staging_dir)
    return item


def publish_step(
    keyed, out_dir: str, staging_dir: str, settings, sources_meta, extra=None, summarize=None
) -> dict:
    _, items = keyed
    specs = sorted((i for i in items if isinstance(i, ShardSpec)), key=lambda s: s.name)
    ((_, parts, rejects, notes, units),) = [i for i in items if isinstance(i, tuple)]
    if summarize is not None:  # the job's notes become its own info.json section
        extra, notes = {**(extra or {}), **summarize(notes)}, []
    info = publish(
        out_dir, staging_dir, specs, parts, rejects, settings, sources_meta, notes, extra
    )
    UnitCache(parts_dir(out_dir)).prune(units)  # units no longer in the config
    return info


def fresh_staging(out_dir: str, fresh: bool = False) -> str:
    """An empty ``OUT/.staging`` for a job's shards and ledger, and ``OUT/.parts`` for its units
    (emptied too when ``fresh``); returns the staging path."""
    staging = f"{out_dir.rstrip('/')}/.staging"
    for folder in [staging] + ([parts_dir(out_dir)] if fresh else []):
        if storage.exists(folder):
            storage.delete([folder])
    storage.mkdirs(staging)
    storage.mkdirs(progress_dir(staging))
    if not storage.exists(parts_dir(out_dir)):
        storage.mkdirs(parts_dir(out_dir))
    return staging


class WriteCorpus(beam.PTransform):
    """Part results and rejects -> shards, ledger and info.json published in ``out_dir``.

    The tail every job shares: gather the small unit results, plan the shards, write them in
    parallel, then publish atomically (see corpus/shards.py). With ``summarize`` (notes -> dict)
    the units' notes become extra info.json keys instead of its ``alignment`` list.
    """

    def __init__(
        self,
        settings,
        out_dir: str,
        staging: str,
        sources_meta: list,
        limits: dict | None = None,
        extra: dict | None = None,
        summarize=None,
    ):
        super().__init__()
        self.settings, self.out_dir, self.staging = settings, out_dir.rstrip("/"), staging
        self.sources_meta, self.limits, self.extra, self.summarize = (
            sources_meta,
            limits or {},
            extra,
            summarize,
        )

    def expand(self, results):
        return (
            results
            | "Key results" >> beam.Map(lambda r: ("corpus", r))
            | "Gather results" >> beam.GroupByKey()
            | "Plan shards" >> beam.FlatMap(plan_step, self.settings, self.limits)
            | "Spread shards" >> beam.Reshuffle()
            | "Write shards" >> beam.Map(write_step, self.staging)
            | "Key shards" >> beam.Map(lambda r: ("corpus", r))
            | "Gather shards" >> beam.GroupByKey()
            | "Publish"
            >> beam.Map(
                publish_step,
                self.out_dir,
                self.staging,
                self.settings,
                self.sources_meta,
                self.extra,
                self.summarize,
            )
        )


def quiet_logging(level: str) -> None:
    """Our messages at ``level``; Beam's at WARNING (worker lines reach the terminal directly,
    the job service would repeat each one)."""
    logging.getLogger().setLevel(level.upper())
    logging.getLogger("apache_beam").setLevel(logging.WARNING)
    logging.getLogger("apache_beam.runners.portability.local_job_service").setLevel(logging.ERROR)
    logging.getLogger("distributed").setLevel(logging.WARNING)


def beam_options(beam_args: list[str], dask_address: str | None) -> PipelineOptions:
    """Beam options: the user's flags, plus defaults for what they left out."""
    args = list(beam_args)

    def given(*prefixes: str) -> bool:
        return any(a.startswith(prefixes) for a in args)

    if not given("--default_sdk_harness_log_level"):
        args.append("--default_sdk_harness_log_level=WARNING")
    if dask_address:
        args += [
            "--runner=apache_beam.runners.dask.dask_runner.DaskRunner",
            f"--dask_client_address={dask_address}",
        ]
        if not given("--dask_partition_size", "--dask_npartitions"):
            args.append("--dask_partition_size=1")  # one work unit per Dask partition
    elif not given("--runner"):
        args.append("--runner=DirectRunner")
        if not given("--direct_num_workers"):
            args.append(f"--direct_num_workers={os.cpu_count() or 1}")
        if not given("--direct_running_mode"):
            args.append("--direct_running_mode=multi_processing")
    return PipelineOptions(args)


def run_pipeline(
    construct: Callable[[beam.Pipeline], None], beam_args: list[str], dask: str | None
) -> None:
    """Make a pipeline, let ``construct(p)`` add the steps, and run it to the end: on Dask when
    ``dask`` is given (``local:N`` starts and later stops a local cluster of N workers,
    ``tcp://host:port`` uses a running one), else on the runner the Beam flags name."""
    cluster = None
    address = dask
    if dask and dask.startswith("local:"):
        from speechmill.pipelines.dask_cluster import start_local_cluster

        cluster = start_local_cluster(int(dask.split(":", 1)[1]))
        address = cluster.scheduler_address
    try:
        p = beam.Pipeline(options=beam_options(beam_args, address))
        construct(p)
        result = p.run()
        try:
            result.wait_until_finish()
        finally:
            client = getattr(
                result, "client", None
            )  # DaskRunner's client: close before the cluster
            if client is not None:
                client.close()
    finally:
        if cluster is not None:
            cluster.close()


def add_job_options(parser, redo: str) -> None:
    """The flags every corpus job takes: --fresh (``redo`` says what it redoes), --progress,
    --log-level, --dask."""
    parser.add_argument(
        "--dask",
        default=None,
        help="run on Dask: local:N starts a local cluster of N workers; tcp://host:port uses one",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help=f"{redo} instead of reusing what an earlier run into OUTPUT finished",
    )
    parser.add_argument(
        "--progress",
        choices=["auto", "bar", "lines", "none"],
        default="auto",
        help="auto: a live bar on a terminal, a line every 10 s otherwise",
    )
    parser.add_argument("--log-level", default="INFO", help="level of speechmill's own messages")
    parser.add_argument(
        "--json", action="store_true", help="print the new info.json instead of the summary line"
    )
