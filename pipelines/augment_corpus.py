"""Beam job: one corpus folder -> a new one with augmented copies of the train split.

    python -m pipelines.augment_corpus --input build/corpus --output build/augmented \
        [--recipe "speed=0.9,1.1;noise=5..20dB@0.5;pitch=-2..2@0.3"] [--seed N] \
        [--noise-dir DIR] [--rir-dir DIR] [any Beam option]

Every input shard is one work unit. Train utterances are written as they are plus one copy per
effect chain of the recipe; dev and test are carried over untouched. Output goes through the
same part files, shard plan and atomic publish as a build, so the same guarantees hold
(identical output for the same input, recipe and seed; a re-run replaces the corpus).
``info.json`` records the recipe, the seed and the input corpus.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import Iterator

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from augment.apply import Banks, augment_utterance, load_folder
from augment.effects import EffectError
from augment.recipe import Recipe, parse_recipe
from corpus.build import PartResult, PartWriter, part_path
from corpus.config import CorpusSettings
from corpus.reject import Reject, RejectRecord, record_reject
from corpus.schema import INFO_FILE, check_info, decode_utterance, encode_utterance
from corpus.types import Unit
from corpus.tfrecord import frame, read_records
from pipelines.transforms import WriteCorpus, beam_options, fresh_staging, quiet_logging

log = logging.getLogger("speechmill.augment")
DEFAULT_RECIPE = "speed=0.9,1.1;noise=5..20dB@0.5;pitch=-2..2@0.3"
BABBLE_UTTERANCES = 40


def _open(path: str):
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def babble_bank(shards: list[str], count: int) -> list:
    """The first ``count`` utterances of the train shards, float32, for babble noise."""
    out = []
    for path in shards:
        with _open(path) as f:
            for record in read_records(f, path):
                out.append(decode_utterance(record).audio.astype("float32") / 32768.0)
                if len(out) >= count:
                    return out
    return out


class AugmentShards(beam.DoFn):
    """(split, shard path) -> PartResults (originals + copies) and RejectRecords."""

    def __init__(self, recipe: Recipe, settings: CorpusSettings, parts_dir: str, train_shards: list[str],
                 noise_dir: str | None, rir_dir: str | None):
        self.recipe, self.settings, self.parts_dir = recipe, settings, parts_dir
        self.train_shards, self.noise_dir, self.rir_dir = train_shards, noise_dir, rir_dir

    def setup(self) -> None:
        rate = self.settings.sample_rate
        self.banks = Banks(noises=load_folder(self.noise_dir, rate), rirs=load_folder(self.rir_dir, rate),
                           babble=babble_bank(self.train_shards, BABBLE_UTTERANCES))

    def process(self, element) -> Iterator[PartResult | RejectRecord]:
        split, path = element
        name = path.rsplit("/", 1)[-1]
        writers: dict[str, PartWriter] = {}

        def writer(source: str) -> PartWriter:
            if source not in writers:
                writers[source] = PartWriter(part_path(self.parts_dir, Unit(source, name), split))
            return writers[source]

        try:
            with _open(path) as f:
                for record in read_records(f, path):
                    utt = decode_utterance(record)
                    writer(utt.source).write_framed(frame(record), utt.num_samples)
                    if split != "train":
                        continue
                    for chain in self.recipe.chains(utt.id, self.settings.seed):
                        try:
                            copy = augment_utterance(utt, chain, self.settings.sample_rate, self.banks,
                                                     self.settings.seed)
                        except EffectError as e:
                            yield record_reject(Reject("augment:effect", str(e)), source=utt.source,
                                                stage="augment", item_id=utt.id, where=path)
                            continue
                        writer(copy.source).write_framed(frame(encode_utterance(copy)), copy.num_samples)
                        Metrics.counter("augment", "copies").inc()
        finally:
            for w in writers.values():
                w.file.close()
        for source, w in sorted(writers.items()):
            yield PartResult(source=source, table=0, unit_key=f"{split}/{name}/{source}", split=split,
                             path=w.path, ends=tuple(w.ends), samples=tuple(w.samples))


def same_folder(a: str, b: str) -> bool:
    """Do two folder paths or URLs name the same folder?"""
    if "://" in a or "://" in b:
        return a.rstrip("/") == b.rstrip("/")
    return os.path.realpath(a) == os.path.realpath(b)


def parse_args(argv: list[str] | None):
    parser = argparse.ArgumentParser(description="Augment the train split of a speechmill corpus.")
    parser.add_argument("--input", required=True, help="corpus folder made by make corpus")
    parser.add_argument("--output", required=True, help="output folder (a new corpus)")
    parser.add_argument("--recipe", default=DEFAULT_RECIPE, help="augmentation recipe (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=None, help="seed (default: the input corpus's seed)")
    parser.add_argument("--noise-dir", default=None, help="folder of noise recordings (e.g. MUSAN noise)")
    parser.add_argument("--rir-dir", default=None, help="folder of room impulse responses")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_known_args(argv)


def run(argv: list[str] | None = None) -> dict:
    """Augment a corpus; returns the new info.json as a dict."""
    known, beam_args = parse_args(argv)
    quiet_logging(known.log_level)
    recipe = parse_recipe(known.recipe)
    source_dir, out_dir = known.input.rstrip("/"), known.output.rstrip("/")
    if same_folder(source_dir, out_dir):
        raise ValueError(f"--output {out_dir} is the input corpus; write the augmented corpus to another folder "
                         "(augmenting in place would replace the input and compound copies on every run)")
    if not FileSystems.exists(f"{source_dir}/{INFO_FILE}"):
        raise FileNotFoundError(f"{source_dir}: no {INFO_FILE}; not a finished speechmill corpus")
    with _open(f"{source_dir}/{INFO_FILE}") as f:
        info = json.loads(f.read())
    check_info(info, where=source_dir)
    settings = CorpusSettings(**{**info["settings"], **({"seed": known.seed} if known.seed is not None else {})})
    units = [(split, f"{source_dir}/{name}") for split, s in sorted(info["splits"].items()) for name in s["shards"]]
    train = [path for split, path in units if split == "train"]
    for folder in (known.noise_dir, known.rir_dir):
        load_folder(folder, settings.sample_rate, max_seconds=0.01)    # fail early on a bad folder
    staging = fresh_staging(out_dir)
    extra = {"augment": {"recipe": recipe.text, "seed": settings.seed, "input": source_dir,
                         "noise_dir": known.noise_dir, "rir_dir": known.rir_dir},
             "alignment": info.get("alignment", [])}
    sources_meta = [{"type": s["type"], "license": s["license"]} for s in info["sources"]]
    with beam.Pipeline(options=beam_options(beam_args, None)) as p:
        (p
         | "Shards" >> beam.Create(units)
         | "Spread shards" >> beam.Reshuffle()
         | "Augment" >> beam.ParDo(AugmentShards(recipe, settings, f"{staging}/parts", train,
                                                 known.noise_dir, known.rir_dir))
         | "Write corpus" >> WriteCorpus(settings, out_dir, staging, sources_meta, extra=extra))
    with _open(f"{out_dir}/{INFO_FILE}") as f:
        return json.loads(f.read())


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", level=logging.INFO)
    try:
        info = run(argv)
    except (EffectError, FileNotFoundError, ValueError) as e:
        print(f"speechmill: augment: {e}", file=sys.stderr)
        return 2
    splits = ", ".join(f"{n} {s['examples']} utt / {s['hours']:.2f} h" for n, s in info["splits"].items())
    print(f"speechmill: augmented corpus built with recipe {info['augment']['recipe']!r}: {splits}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
