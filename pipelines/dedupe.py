"""The passes after a job's units that drop records: repeated ids and sounds (a fixed-size
sketch of every record's keys, then a GroupByKey of the candidates only) and speaking-rate
outliers per speaker; each unit then meets its drops (corpus/repeats.py, corpus/rates.py)."""

from __future__ import annotations

import dataclasses

import apache_beam as beam
import numpy as np

from speechmill.corpus import rates
from speechmill.corpus.candidates import Seen
from speechmill.corpus.repeats import candidates, repeats, seen_keys, without_drops
from speechmill.corpus.workdir import UnitCache, parts_dir
from speechmill.pipelines.transforms import repeats_dir


class SeenKeys(beam.CombineFn):
    """Pass one of the repeats: every unit's record keys in one fixed-size sketch."""

    def __init__(self, folder: str, sounds: bool):
        super().__init__()
        self.folder, self.sounds = folder, sounds

    def create_accumulator(self) -> Seen:
        return Seen()

    def add_input(self, seen: Seen, result) -> Seen:
        return seen_keys(result, UnitCache(self.folder).index, self.sounds, seen)

    def merge_accumulators(self, accumulators) -> Seen:
        first, *rest = accumulators
        for other in rest:
            first.merge(other)
        return first

    def extract_output(self, seen: Seen) -> Seen:
        return seen.repeated_only()  # all pass two asks: the side input is as small as that


class AddHistograms(beam.CombineFn):
    """A speaker's rate histograms (corpus/rates.py), added."""

    def create_accumulator(self):
        return np.zeros(rates.BINS, dtype=np.int64)

    def add_input(self, total, histogram):
        return total + histogram

    def merge_accumulators(self, accumulators):
        return sum(accumulators, self.create_accumulator())

    def extract_output(self, total):
        return total


@dataclasses.dataclass(frozen=True)
class Dedupe:
    """What a job drops after its units: repeated ids, repeated sounds, rate outliers."""

    ids: bool = False
    sounds: bool = False
    rate_fence: float | None = None  # Tukey's k; None: no rate pass
    rate_min_clips: int = 10

    def __bool__(self) -> bool:
        return self.ids or self.sounds or self.rate_fence is not None


class DropRepeats(beam.PTransform):
    """UnitResults -> the same, with repeated ids, repeated sounds and speaking-rate outliers
    left out and in the ledger (corpus/repeats.py, corpus/rates.py). Only candidates move:
    a fixed-size sketch of every record's keys (pass one, a combiner), then a GroupByKey of
    the keys the sketch says may repeat; the rate pass moves one histogram per speaker and
    unit. Units meet their drops in one CoGroupByKey keyed by unit."""

    def __init__(self, out_dir: str, staging: str, sample_rate: int, dedupe: Dedupe):
        super().__init__()
        self.folder, self.staging = parts_dir(out_dir), repeats_dir(staging)
        self.sample_rate, self.dedupe = sample_rate, dedupe

    def expand(self, results):
        folder, staging, rate, dedupe = self.folder, self.staging, self.sample_rate, self.dedupe
        drops = []
        if dedupe.ids or dedupe.sounds:
            seen = beam.pvalue.AsSingleton(
                results | "Sketch of keys" >> beam.CombineGlobally(SeenKeys(folder, dedupe.sounds))
            )
            drops.append(
                results
                | "Candidate repeats"
                >> beam.FlatMap(
                    lambda r, s: candidates(r, UnitCache(folder).index, dedupe.sounds, s), seen
                )
                | "Group candidates" >> beam.GroupByKey()
                | "Repeats" >> beam.FlatMapTuple(lambda key, found: repeats(key, found, rate))
            )
        if dedupe.rate_fence is not None:
            k, least = dedupe.rate_fence, dedupe.rate_min_clips
            fenced = beam.pvalue.AsDict(
                results
                | "Speaker rates"
                >> beam.FlatMap(lambda r: rates.unit_rates(r, UnitCache(folder).index))
                | "Add speaker rates" >> beam.CombinePerKey(AddHistograms())
                | "Fences" >> beam.MapTuple(lambda s, h: (s, rates.fences(h, k, least)))
                | "Fenced speakers" >> beam.Filter(lambda kv: kv[1] is not None)
            )
            drops.append(
                results
                | "Rate outliers"
                >> beam.FlatMap(
                    lambda r, f: rates.rate_drops(r, UnitCache(folder).index, f), fenced
                )
            )
        # Units meet their drops in a CoGroupByKey, not in a side input of drops keyed by unit:
        # Beam's DaskRunner counted the rate histograms several times over when the fences
        # and the drops were side inputs of one step (tried on 2026-12-07).
        keyed = results | "Key by unit" >> beam.Map(lambda r: (r.digest, r))
        return (
            {
                "result": keyed,
                "drops": drops[0] if len(drops) == 1 else tuple(drops) | beam.Flatten(),
            }
            | "Units and their drops" >> beam.CoGroupByKey()
            | "Without drops"
            >> beam.FlatMap(
                lambda kv: (
                    without_drops(r, kv[1]["drops"], UnitCache(folder).index, staging, rate)
                    for r in kv[1]["result"]
                )
            )
        )
