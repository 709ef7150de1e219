"""Beam job: one corpus folder -> a new one with augmented copies of the train split.

    python -m speechmill.pipelines.augment_corpus --input build/corpus --output build/augmented \
        [--recipe "speed=0.9,1.1;noise=5..20dB@0.5;pitch=-2..2@0.3"] [--seed N] \
        [--noise-dir DIR] [--rir-dir DIR] [any Beam option]

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

import argparse
import logging
import sys
from collections.abc import Iterator

from apache_beam.metrics import Metrics

from speechmill.augment.apply import Banks, augment_utterance, load_folder
from speechmill.augment.effects import EffectError
from speechmill.augment.recipe import Recipe, parse_recipe
from speechmill.corpus.config import CorpusSettings
from speechmill.corpus.errors import UsageError, command
from speechmill.corpus.options import HelpFormatter
from speechmill.corpus.progress import splits_line, wants_json
from speechmill.corpus.reader import (
    ShardRange,
    all_shards,
    load_info,
    read_range,
    same_folder,
    shard_records,
)
from speechmill.corpus.reject import Reject, RejectRecord, record_reject
from speechmill.corpus.schema import SCHEMA_VERSION, decode_utterance, dumps_info
from speechmill.corpus.workdir import files_identity, fingerprint, parts_dir, progress_dir
from speechmill.pipelines.corpus_input import CachedRanges, RangeParts, corpus_ranges
from speechmill.pipelines.job import CorpusJob, JobRun, run_corpus_job
from speechmill.pipelines.tfds_metadata import tfds_line
from speechmill.pipelines.transforms import add_job_options, quiet_logging, staging_path

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


def parse_args(argv: list[str] | None):
    parser = argparse.ArgumentParser(
        prog="speechmill augment",
        formatter_class=HelpFormatter,
        description="Augment the train split of a speechmill corpus into a new corpus. Any other --flag "
        "goes to Beam's PipelineOptions.",
    )
    parser.add_argument("--input", required=True, help="corpus folder made by make corpus")
    parser.add_argument("--output", required=True, help="output folder (a new corpus)")
    parser.add_argument("--recipe", default=DEFAULT_RECIPE, help="augmentation recipe")
    parser.add_argument(
        "--seed", type=int, default=None, help="seed (None: the input corpus's seed)"
    )
    parser.add_argument(
        "--noise-dir", default=None, help="folder of noise recordings (e.g. MUSAN noise)"
    )
    parser.add_argument("--rir-dir", default=None, help="folder of room impulse responses")
    add_job_options(parser, "redo every range")
    return parser.parse_known_args(argv)


def run(argv: list[str] | None = None) -> dict:
    """Augment a corpus; returns the new info.json as a dict."""
    known, beam_args = parse_args(argv)
    quiet_logging(known.log_level)
    recipe = parse_recipe(known.recipe)
    source_dir, out_dir = known.input.rstrip("/"), known.output.rstrip("/")
    if same_folder(source_dir, out_dir):
        raise UsageError(
            f"--output {out_dir} is the input corpus; write the augmented corpus to another folder "
            "(augmenting in place would replace the input and compound copies on every run)"
        )
    info = load_info(source_dir)
    settings = CorpusSettings(
        **{**info["settings"], **({"seed": known.seed} if known.seed is not None else {})}
    )
    shards = all_shards(source_dir, info)
    train = [path for split, path in shards if split == "train"]
    for folder in (known.noise_dir, known.rir_dir):
        load_folder(folder, settings.sample_rate, max_seconds=0.01)  # fail early on a bad folder
    extra = {
        "augment": {
            "recipe": recipe.text,
            "seed": settings.seed,
            "input": source_dir,
            "noise_dir": known.noise_dir,
            "rir_dir": known.rir_dir,
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
            for d in (known.noise_dir, known.rir_dir)
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
            known.noise_dir,
            known.rir_dir,
            fingerprint_of_job,
        ),
        extra=extra,
    )
    return run_corpus_job(job, JobRun(known.fresh, known.progress, known.dask), beam_args)


def per_unit(split: str) -> int | None:
    """Records per work unit: ranges of train shards, whole dev and test shards."""
    return RECORDS_PER_UNIT if split == "train" else None


@command("augment")
def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", level=logging.INFO)
    info = run(argv)
    line = tfds_line(parse_args(argv)[0].output, info)  # the folder is a TFDS dataset too
    if wants_json(argv):
        print(dumps_info(info).rstrip("\n"))
        return 0
    print(
        f"speechmill: augmented corpus built with recipe {info['augment']['recipe']!r}: {splits_line(info)}"
    )
    print(line)
    return 0


if __name__ == "__main__":
    # Run the module's own import, not __main__: classes pickled for the workers are then
    # found by their module name in every worker process.
    from speechmill.pipelines.augment_corpus import main as _main

    sys.exit(_main())
