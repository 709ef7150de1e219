"""The Beam transforms on their own, with TestPipeline + assert_that."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from speechmill.corpus.config import CorpusSettings
from speechmill.corpus.parts import UnitResult
from speechmill.corpus.sources.librispeech import Chapter, Download, LibriSpeechSource
from speechmill.corpus.sources.youtube import YouTubeSource
from speechmill.corpus.types import Unit
from speechmill.pipelines.build_corpus import BuildUnits, ExpandUnits


def test_build_units_writes_parts_and_routes_rejects(tmp_path, librispeech):
    # follow_links: the broken chapter below lies outside the source's folder
    source = LibriSpeechSource(path=str(librispeech), cache_dir=str(tmp_path), follow_links=True)
    units = [(0, u) for tree in source.units() for u in source.expand(tree)]
    broken = Unit("librispeech", "folder/-/missing", Chapter(str(tmp_path / "nope.trans.txt")))
    (tmp_path / "nope.trans.txt").write_text("999-1-0000 A LINE WITH NO AUDIO\n")
    parts_dir = tmp_path / "parts"
    parts_dir.mkdir()
    expected = [
        ((("dev", 3),), ()),
        ((("train", 3),), ()),
        ((("train", 3),), ()),
        ((), ("audio:missing",)),
    ]
    for run in ("built", "reused"):
        with TestPipeline() as p:
            out = (
                p
                | beam.Create(units + [(0, broken)])
                | beam.ParDo(BuildUnits([source], CorpusSettings(), str(parts_dir), ["table-0"]))
            )
            summary = out | beam.Map(
                lambda r: (
                    tuple((p.split, p.records) for p in r.parts),
                    tuple(j.reason for j in r.rejects),
                )
            )
            assert_that(summary, equal_to(expected))
        parts = {p.name: p.stat().st_mtime_ns for p in parts_dir.glob("*.tfrecord")}
        assert len(parts) == 3 and len(list(parts_dir.glob("*.json"))) == 4
        if run == "built":
            first = parts
    assert parts == first  # the second run rewrote nothing


def test_expand_units_passes_plain_units_and_turns_failures_into_rejects(tmp_path, loopback_site):
    librispeech = LibriSpeechSource(path="dev-clean", cache_dir=str(tmp_path))
    youtube = YouTubeSource(
        urls=[f"{loopback_site.url}/missing.html"], retries=0, timeout_seconds=2
    )
    plain = Unit("librispeech", "download/dev-clean", Download("x", None, "dev-clean"))
    with TestPipeline() as p:
        out = (
            p
            | beam.Create([(0, plain), (1, youtube.units()[0])])
            | beam.ParDo(ExpandUnits([librispeech, youtube]))
        )
        summary = out | beam.Map(
            lambda r: (
                ("reject", r.rejects[0].reason, r.rejects[0].stage)
                if isinstance(r, UnitResult)
                else ("unit", r[1].key)
            )
        )
        assert_that(
            summary,
            equal_to([("unit", "download/dev-clean"), ("reject", "youtube:unavailable", "expand")]),
        )
