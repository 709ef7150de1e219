"""Beam job: one corpus folder -> a new one with augmented copies of the train split.

    augment(AugmentRequest("build/corpus", "build/augmented",
                           recipe="speed=0.9,1.1;noise=5..20dB@0.5;pitch=-2..2@0.3"), JobRun())

Work units are ranges of 32 train records (found by the workers from the TFRecord headers
alone), so every worker is busy even when the corpus has one train shard; a dev or test shard
is one unit. The job runs on the skeleton every corpus job shares (pipelines/job.py).
Train utterances are written as they are plus one copy per effect chain of the recipe; dev and
test are carried over untouched. Output goes through the same unit cache, shard plan and
atomic publish as a build, so the same guarantees hold (identical output for the same input,
recipe and seed on any worker count; a re-run reuses finished ranges unless ``--fresh``;
one job per output folder). ``info.json`` records the recipe, the seed and the input corpus.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator

from apache_beam.metrics import Metrics

from speechmill.augment.apply import Banks, augment_utterance, load_folder
from speechmill.augment.effects import EffectError
from speechmill.augment.recipe import Recipe, parse_recipe
from speechmill.corpus.config import CorpusSettings
from speechmill.corpus.errors import UsageError
from speechmill.corpus.reader import (
    ShardRange,
    all_shards,
    load_info,
    read_range,
    same_folder,
    shard_records,
)
from speechmill.corpus.reject import Reject, RejectRecord, record_reject
from speechmill.corpus.schema import SCHEMA_VERSION, decode_utterance
from speechmill.corpus.workdir import files_identity, fingerprint, parts_dir, progress_dir
from speechmill.pipelines.corpus_input import CachedRanges, RangeParts, corpus_ranges
from speechmill.pipelines.job import DEFAULT_RUN, CorpusJob, JobRun, run_corpus_job
from speechmill.pipelines.transforms import staging_path

log = logging.getLogger("speechmill.augment")
DEFAULT_RECIPE = "speed=0.9,1.1;noise=5..20dB@0.5;pitch=-2..2@0.3"
BABBLE_UTTERANCES = 40
RECORDS_PER_UNIT = (
    32  # train records per work unit: fixed, so the output never depends on the worker count
)


def babble_bank(shards: list[str], count: int) -> list:
    """The first ``count`` utterances of the train shards, float32, for babble noise."""
    out = []
    for path in shards:
        for record in shard_records(path):
            out.append(decode_utterance(record).audio.astype("float32") / 32768.0)
            if len(out) >= count:
                return out
    return out


class AugmentRanges(CachedRanges):
    """ShardRange -> its UnitResult (originals + copies, rejects); a range an earlier run into
    the same output finished with the same identity is reused."""

    def __init__(
        self,
        recipe: Recipe,
        settings: CorpusSettings,
        parts_dir: str,
        train_shards: list[str],
        noise_dir: str | None,
        rir_dir: str | None,
        job: str,
    ):
        super().__init__("augment", parts_dir, job)
        self.recipe, self.settings = recipe, settings
        self.train_shards, self.noise_dir, self.rir_dir = train_shards, noise_dir, rir_dir

    def setup(self) -> None:
        rate = self.settings.sample_rate
        self.banks = Banks(
            noises=load_folder(self.noise_dir, rate),
            rirs=load_folder(self.rir_dir, rate),
            babble=babble_bank(self.train_shards, BABBLE_UTTERANCES),
        )

    def work(self, work: ShardRange, parts: RangeParts) -> Iterator[RejectRecord]:
        for record in read_range(work):
            utt = decode_utterance(record)
            parts.write(utt, record)
            if work.split != "train":
                continue
            for chain in self.recipe.chains(utt.id, self.settings.seed):
                try:
                    copy = augment_utterance(
                        utt, chain, self.settings.sample_rate, self.banks, self.settings.seed
                    )
                except EffectError as e:
                    yield record_reject(
                        Reject("augment:effect", str(e)),
                        source=utt.source,
                        stage="augment",
                        item_id=utt.id,
                        where=work.path,
                    )
                    continue
                parts.write(copy)
                Metrics.counter("augment", "copies").inc()


@dataclasses.dataclass(frozen=True)
class AugmentRequest:
    """One ``make augment``: the input corpus, the new corpus's folder, the recipe, the seed
    (None: the input corpus's) and the folders of noise recordings and room impulse responses."""

    input: str
    output: str
    recipe: str = DEFAULT_RECIPE
    seed: int | None = None
    noise_dir: str | None = None
    rir_dir: str | None = None


def augment(request: AugmentRequest, run: JobRun = DEFAULT_RUN) -> dict:
    """Augment a corpus; returns the new info.json as a dict."""
    recipe = parse_recipe(request.recipe)
    source_dir, out_dir = request.input.rstrip("/"), request.output.rstrip("/")
    if same_folder(source_dir, out_dir):
        raise UsageError(
            f"--output {out_dir} is the input corpus; write the augmented corpus to another folder "
            "(augmenting in place would replace the input and compound copies on every run)"
        )
    info = load_info(source_dir)
    settings = CorpusSettings(
        **{**info["settings"], **({"seed": request.seed} if request.seed is not None else {})}
    )
    shards = all_shards(source_dir, info)
    train = [path for split, path in shards if split == "train"]
    for folder in (request.noise_dir, request.rir_dir):
        load_folder(folder, settings.sample_rate, max_seconds=0.01)  # fail early on a bad folder
    extra = {
        "augment": {
            "recipe": recipe.text,
            "seed": settings.seed,
            "input": source_dir,
            "noise_dir": request.noise_dir,
            "rir_dir": request.rir_dir,
        },
        "alignment": info.get("alignment", []),
    }
    fingerprint_of_job = fingerprint(
        SCHEMA_VERSION,
        recipe.text,
        settings.seed,
        settings.sample_rate,
        *(
            files_identity([f"{d.rstrip('/')}/**"]) if d else None
            for d in (request.noise_dir, request.rir_dir)
        ),
    )
    job = CorpusJob(
        label="augment",
        out_dir=out_dir,
        settings=settings,
        sources_meta=[{"type": s["type"], "license": s["license"]} for s in info["sources"]],
        units=corpus_ranges(shards, per_unit, progress_dir(staging_path(out_dir))),
        work=AugmentRanges(
            recipe,
            settings,
            parts_dir(out_dir),
            train,
            request.noise_dir,
            request.rir_dir,
            fingerprint_of_job,
        ),
        extra=extra,
    )
    return run_corpus_job(job, run)


def per_unit(split: str) -> int | None:
    """Records per work unit: ranges of train shards, whole dev and test shards."""
    return RECORDS_PER_UNIT if split == "train" else None
