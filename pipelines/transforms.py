"""Beam wiring that every corpus job (build, augment, verify) shares.

``WriteCorpus`` is the common tail: limits, the shard plan from part totals, shards written
where the parts are, whole-corpus facts by combiners and an atomic publish (the work is done by
the pure functions in corpus/plan.py, corpus/facts.py and corpus/shards.py).
``fresh_staging`` makes a job's work folder and ``beam_options`` fills in runner defaults.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from speechmill.corpus import storage
from speechmill.corpus.facts import UnitFacts
from speechmill.corpus.measure_facts import MeasureFacts
from speechmill.corpus.plan import (
    PartRef,
    PlacedPart,
    limit_table,
    part_refs,
    place_records,
    plan_split,
)
from speechmill.corpus.shards import (
    JobFacts,
    ledger_names,
    ledger_piece,
    ledger_pieces,
    publish,
    write_ledger_piece,
    write_shard,
)
from speechmill.corpus.workdir import UnitCache, parts_dir, progress_dir
from speechmill.pipelines.combiners import Combine


def limit_step(keyed: tuple[int, Any], limits: dict[int, int], folder: str) -> Iterator[PartRef]:
    """(table, its parts) -> the parts that keep the table's first ``limits[table]`` utterances."""
    table, refs = keyed
    cache = UnitCache(folder)
    yield from limit_table(refs, limits[table], lambda r: cache.index(r.digest, r.part.path))


def place_step(placed: PlacedPart, folder: str) -> Iterator[tuple[tuple[str, int], Any]]:
    """A placed part -> ((split, raw shard), piece) for each shard its records fall into."""
    index = UnitCache(folder).index(placed.digest, placed.path)
    for raw, piece in place_records(placed, index):
        yield (placed.split, raw), piece


class PartMeasures(beam.CombineFn):
    """The published parts' measures as histograms per split and source (corpus/measure_facts.py)."""

    def __init__(self, folder: str):
        super().__init__()
        self.folder, self.facts = folder, MeasureFacts()

    def create_accumulator(self):
        return self.facts.create()

    def add_input(self, acc, ref: PartRef):
        index = UnitCache(self.folder).index(ref.digest, ref.part.path).head(ref.part.records)
        return self.facts.add(acc, ref.part.split, ref.part.source, index.measures)

    def merge_accumulators(self, accumulators):
        return self.facts.merge(accumulators)

    def extract_output(self, acc):
        return self.facts.extract(acc)


def publish_step(
    _, out_dir, staging, settings, sources_meta, extra, shards, facts, ledger_written, measures
) -> dict:
    """Everything done -> the published corpus; the unit cache loses units not in this job."""
    if measures:
        extra = {**(extra or {}), "measures": measures}
    ledger = ledger_names(facts["total"])
    job = JobFacts(shards=sorted(shards), rejects=facts["rejects"], sections=facts["sections"])
    info = publish(out_dir, staging, job, ledger, settings, sources_meta, extra)
    UnitCache(parts_dir(out_dir)).prune(set(facts["units"]))  # units no longer in the job
    return info


class WriteCorpus(beam.PTransform):
    """UnitResults -> shards, ledger pieces and info.json published in ``out_dir``.

    The tail every job shares, with no step holding more than one split's part totals:
    limits per [[source]] table (when a table has one), the plan per split, records placed
    where each part lies, shards written in parallel (one row each), the units' facts by a
    combiner (``notes``: the job's accumulator of its units' notes into info.json keys), the
    ledger in sorted pieces, and an atomic publish once all of them are done (corpus/shards.py).
    """

    def __init__(
        self,
        settings,
        out_dir: str,
        staging: str,
        sources_meta: list,
        limits: dict | None = None,
        extra: dict | None = None,
        notes: Any = None,
    ):
        super().__init__()
        self.settings, self.out_dir, self.staging = settings, out_dir.rstrip("/"), staging
        self.sources_meta, self.extra = sources_meta, extra
        self.limits = {t: n for t, n in (limits or {}).items() if n is not None}
        self.facts = UnitFacts(notes)

    def expand(self, results):
        folder, staging, limits = parts_dir(self.out_dir), self.staging, self.limits
        seed, shard_mb = self.settings.seed, self.settings.shard_mb
        refs = results | "Parts" >> beam.FlatMap(part_refs)
        if limits:  # (decided when the graph is made: no limits, no steps)
            limited = (
                refs
                | "Parts of limited tables" >> beam.Filter(lambda r: r.table in limits)
                | "Key by table" >> beam.Map(lambda r: (r.table, r))
                | "Group tables" >> beam.GroupByKey()
                | "Apply limits" >> beam.FlatMap(limit_step, limits, folder)
            )
            free = refs | "Parts of other tables" >> beam.Filter(lambda r: r.table not in limits)
            refs = (limited, free) | "Kept parts" >> beam.Flatten()
        shards = (
            refs
            | "Key by split" >> beam.Map(lambda r: (r.part.split, r))
            | "Group splits" >> beam.GroupByKey()
            | "Plan splits" >> beam.FlatMap(lambda kv: plan_split(kv[1], seed, shard_mb))
            | "Spread parts" >> beam.Reshuffle()
            | "Place records" >> beam.FlatMap(place_step, folder)
            | "Group shards" >> beam.GroupByKey()
            | "Write shards"
            >> beam.MapTuple(lambda key, pieces: write_shard(*key, pieces, staging))
        )
        empty = self.facts.extract(self.facts.create())
        facts = beam.pvalue.AsSingleton(
            results | "Unit facts" >> beam.CombineGlobally(Combine(self.facts)).without_defaults(),
            default_value=empty,
        )
        ledger = (
            results
            | "Rejects" >> beam.FlatMap(lambda r: r.rejects)
            | "Key by ledger piece"
            >> beam.Map(lambda r, f: (ledger_piece(r, ledger_pieces(f["total"])), r), facts)
            | "Group ledger pieces" >> beam.GroupByKey()
            | "Write ledger pieces"
            >> beam.Map(
                lambda kv, f: write_ledger_piece(kv[0], ledger_pieces(f["total"]), kv[1], staging),
                facts,
            )
        )
        return (
            results.pipeline
            | "Publish when done" >> beam.Create([None])
            | "Publish"
            >> beam.Map(
                publish_step,
                self.out_dir,
                staging,
                self.settings,
                self.sources_meta,
                self.extra,
                beam.pvalue.AsList(shards),
                facts,
                beam.pvalue.AsList(ledger),
                beam.pvalue.AsSingleton(
                    refs
                    | "Measure facts"
                    >> beam.CombineGlobally(PartMeasures(folder)).without_defaults(),
                    default_value={},
                ),
            )
        )


def staging_path(out_dir: str) -> str:
    """``OUT/.staging``: a job's shards, ledger and progress notes until it publishes."""
    return f"{out_dir.rstrip('/')}/.staging"


def repeats_dir(staging: str) -> str:
    """Where a job writes the parts it rewrote without dropped records (pipelines/dedupe.py)."""
    return f"{staging.rstrip('/')}/repeats"


def fresh_staging(out_dir: str, fresh: bool = False) -> str:
    """An empty ``OUT/.staging`` for a job's shards and ledger, and ``OUT/.parts`` for its units
    (emptied too when ``fresh``); returns the staging path."""
    staging = staging_path(out_dir)
    for folder in [staging] + ([parts_dir(out_dir)] if fresh else []):
        if storage.exists(folder):
            storage.delete([folder])
    storage.mkdirs(staging)
    storage.mkdirs(progress_dir(staging))
    storage.mkdirs(repeats_dir(staging))
    if not storage.exists(parts_dir(out_dir)):
        storage.mkdirs(parts_dir(out_dir))
    return staging


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


THREAD_POOLS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def one_thread_per_worker() -> None:
    """Beam runs one worker per core: a numeric library's own pool of threads only fights the
    other workers for the cores (OpenBLAS's spinning threads, under the fingerprint's small
    matrix product, took 8 of a default build's 19 CPU seconds). Limits the pools of this
    process (threadpoolctl) and, through the environment, of the workers it starts."""
    from threadpoolctl import threadpool_limits

    for name in THREAD_POOLS:
        os.environ.setdefault(name, "1")
    threadpool_limits(limits=1)


# glibc's malloc for a long job: 2 arenas, not 8 per core (one per thread that allocates, and
# Beam runs many), each keeping its own free memory. On a 200 000-utterance build the largest
# process grew 0.25 KB an utterance over a 20 000 one, 0.17 with 2 arenas. Mapping every block
# of 128 KB or more on its own (MALLOC_MMAP_THRESHOLD_) brings it to 0.07 but costs a default
# build 7-12 % more CPU in page faults, so it is left to the user. (variable, mallopt parameter)
HEAP = {"MALLOC_ARENA_MAX": ("2", -8)}


def lean_heap() -> None:
    """Apply ``HEAP`` to this process (mallopt) and, through the environment, to the workers
    it starts; a value the user set in the environment wins. Nothing on a C library other
    than glibc."""
    import ctypes
    import ctypes.util

    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return
    for name, (value, parameter) in HEAP.items():
        os.environ.setdefault(name, value)
        try:
            mallopt(parameter, int(os.environ[name]))
        except ValueError:
            continue  # the user's own value, not a number: glibc ignores it as well


def run_pipeline(
    construct: Callable[[beam.Pipeline], None], beam_args: list[str], dask: str | None
) -> None:
    """Make a pipeline, let ``construct(p)`` add the steps, and run it to the end: on Dask when
    ``dask`` is given (``local:N`` starts and later stops a local cluster of N workers,
    ``tcp://host:port`` uses a running one), else on the runner the Beam flags name."""
    cluster = None
    address = dask
    one_thread_per_worker()
    lean_heap()
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
