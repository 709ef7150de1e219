"""The composite transforms and range DoFns on their own, each in a TestPipeline with
assert_that or a read-back of what it wrote: checked against the test corpus's known sentences
(conftest.SENTENCES, the text each recording was spoken from), not against our own writer."""

from __future__ import annotations

import json
from pathlib import Path

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from support.speech import SENTENCES

from speechmill.augment.recipe import parse_recipe
from speechmill.corpus.config import CorpusSettings
from speechmill.corpus.reader import all_shards, load_info, shard_ranges, utterances
from speechmill.corpus.sources.librispeech import LibriSpeechSource
from speechmill.corpus.workdir import UnitCache, parts_dir
from speechmill.pipelines.augment_corpus import AugmentRanges
from speechmill.pipelines.build_corpus import BuildUnits
from speechmill.pipelines.dedupe import Dedupe, DropRepeats
from speechmill.pipelines.export_corpus import ExportRanges, WriteExport
from speechmill.pipelines.transforms import WriteCorpus, fresh_staging

SETTINGS = CorpusSettings(seed=7)
SPOKEN = {utt_id: text.lower() for utt_id, text in SENTENCES.items()}


def built_units(p: beam.Pipeline, librispeech: Path, out: Path, tables: int = 1):
    """The test corpus's units built into OUT/.parts, as ``tables`` identical [[source]] tables."""
    source = LibriSpeechSource(path=str(librispeech), cache_dir=str(out.parent / "cache"))
    units = [(t, u) for t in range(tables) for tree in source.units() for u in source.expand(tree)]
    names = [f"table-{t}" for t in range(tables)]
    return (
        p
        | beam.Create(units)
        | beam.ParDo(BuildUnits([source] * tables, SETTINGS, parts_dir(str(out)), names))
    )


def native(utt_id: str) -> str:
    return utt_id.split("/", 1)[1]


def test_write_corpus_publishes_every_unit_result_once(tmp_path, librispeech):
    out = tmp_path / "corpus"
    staging = fresh_staging(str(out), fresh=True)
    with TestPipeline() as p:
        _ = built_units(p, librispeech, out) | WriteCorpus(
            SETTINGS, str(out), staging, [{"type": "librispeech", "license": "CC-BY-4.0"}]
        )
    info = load_info(str(out))
    texts = {native(u.id): u.text for s in info["splits"] for u in utterances(str(out), info, s)}
    assert texts == SPOKEN
    assert sum(s["examples"] for s in info["splits"].values()) == len(SENTENCES)
    assert info["sources"][0]["license"] == "CC-BY-4.0" and info["rejects"]["total"] == 0


def test_drop_repeats_keeps_one_copy_of_each_id_and_ledgers_the_rest(tmp_path, librispeech):
    """Two tables read one folder: each record's copy repeats both its id and its sound, and is
    one ledger line (the id's: the lowest of its drops)."""
    out = tmp_path / "corpus"
    staging = fresh_staging(str(out), fresh=True)
    with TestPipeline() as p:
        results = built_units(p, librispeech, out, tables=2) | DropRepeats(
            str(out), staging, SETTINGS.sample_rate, Dedupe(ids=True, sounds=True)
        )
        records = results | "Records" >> beam.Map(lambda r: r.records) | beam.CombineGlobally(sum)
        rejects = results | "Rejects" >> beam.FlatMap(
            lambda r: [(x.reason, x.stage, native(x.id)) for x in r.rejects]
        )
        assert_that(records, equal_to([len(SENTENCES)]), label="one copy each")
        assert_that(
            rejects,
            equal_to([("text:duplicate-id", "dedupe", i) for i in SENTENCES]),
            label="the other copy in the ledger",
        )


def test_export_ranges_and_write_export_give_one_manifest_line_per_utterance(
    tmp_path, librispeech_corpus
):
    out = tmp_path / "nemo"
    staging = fresh_staging(str(out), fresh=True)
    corpus = str(librispeech_corpus)
    info = load_info(corpus)
    ranges = [r for split, path in all_shards(corpus, info) for r in shard_ranges(split, path, 4)]
    identity = {"format": "nemo", "input": corpus}
    with TestPipeline() as p:
        results = p | beam.Create(ranges) | beam.ParDo(ExportRanges("nemo", str(out), 16000, "job"))
        _ = results | WriteExport("nemo", str(out), staging, info, identity)
    lines = [
        json.loads(line)
        for split in info["splits"]
        for line in (out / f"{split}_manifest.json").read_text().splitlines()
    ]
    assert {native(line["id"]): line["text"] for line in lines} == SPOKEN
    assert all((out / line["audio_filepath"]).is_file() for line in lines)
    assert json.loads((out / "export.json").read_text())["format"] == "nemo"


def test_augment_ranges_write_each_train_record_and_one_copy_per_chain(
    tmp_path, librispeech_corpus
):
    corpus = str(librispeech_corpus)
    info = load_info(corpus)
    shards = all_shards(corpus, info)
    train = [path for split, path in shards if split == "train"]
    ranges = [r for split, path in shards for r in shard_ranges(split, path, 2)]
    folder = tmp_path / "parts"
    folder.mkdir()
    recipe = parse_recipe("speed=0.9,1.1")
    with TestPipeline() as p:
        results = (
            p
            | beam.Create(ranges)
            | beam.ParDo(AugmentRanges(recipe, SETTINGS, str(folder), train, None, None, "job"))
        )
        ids = results | beam.FlatMap(
            lambda r: [
                (r.parts and p.split, i)
                for p in r.parts
                for i in UnitCache(str(folder)).index(r.digest, p.path).ids
            ]
        )
        train_ids = [native(u.id) for u in utterances(corpus, info, "train")]
        dev_ids = [native(u.id) for u in utterances(corpus, info, "dev")]
        expected = [("dev", f"librispeech/{i}") for i in dev_ids] + [
            ("train", f"librispeech/{i}{suffix}")
            for i in train_ids
            for suffix in ("", "~speed0.9", "~speed1.1")
        ]
        assert_that(ids, equal_to(expected))
