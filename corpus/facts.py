"""Whole-corpus facts as associative accumulators: the bodies of the jobs' Beam combiners.

Each class has ``create``, ``add``, ``merge`` and ``extract`` (pipelines/combiners.py wraps
them as ``beam.CombineFn``), so every runner computes them in parallel, in any grouping, with
the same result; none keeps anything per utterance. Per split and per source totals come from
the shards' :class:`ShardStat` rows (one per shard, summed by ``source_totals``):

- :class:`UnitFacts`: rejects by source and reason, the digests of the job's units, and the
  job's sections of info.json from its units' notes;
- :class:`AlignmentNotes`: the sources' notes (one per subtitle or caption file) for
  ``info.json``'s ``alignment`` list;
- :class:`ScoreHistogram`: verify's counts and a fixed-bin score histogram per source, whose
  quantiles are the same however the scores were grouped.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Iterable
from typing import Any

from speechmill.corpus.parts import UnitResult
from speechmill.corpus.types import Note

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
SCORE_BIN = 1000  # scores are counted in bins of 1/1000


class UnitFacts:
    """UnitResult -> ``{"rejects": {source: {reason: n}}, "total": rejects, "units": digests,
    "sections": info.json keys}``; ``notes`` is the job's accumulator of the units' notes
    (default :class:`AlignmentNotes`)."""

    def __init__(self, notes: Any = None):
        self.notes = notes if notes is not None else AlignmentNotes()

    def create(self) -> tuple[collections.Counter, set[str], Any]:
        return collections.Counter(), set(), self.notes.create()

    def add(self, acc, result: UnitResult):
        rejects, units, notes = acc
        rejects.update((r.source, r.reason) for r in result.rejects)
        units.add(result.digest)
        for note in result.notes:
            notes = self.notes.add(notes, note)
        return rejects, units, notes

    def merge(self, accs):
        accs = list(accs)
        rejects: collections.Counter = collections.Counter()
        units: set[str] = set()
        for r, u, _ in accs:
            rejects.update(r)
            units |= u
        return rejects, units, self.notes.merge([n for _, _, n in accs])

    def extract(self, acc) -> dict[str, Any]:
        rejects: dict[str, dict[str, int]] = {}
        for (source, reason), n in sorted(acc[0].items()):
            rejects.setdefault(source, {})[reason] = n
        return {
            "rejects": rejects,
            "total": sum(acc[0].values()),
            "units": sorted(acc[1]),
            "sections": self.notes.extract(acc[2]),
        }


@dataclasses.dataclass(frozen=True, order=True, slots=True)
class ShardStat:
    """One written shard: its plan index, records and samples, and per source (name,
    records, samples, spelled-out transcripts)."""

    split: str
    raw: int  # the plan's shard index (published names number the non-empty ones)
    records: int
    samples: int
    sources: tuple[tuple[str, int, int, int], ...] = ()


def source_totals(shards: Iterable[ShardStat]) -> dict[str, dict[str, int]]:
    """Per source: examples, samples and spelled-out transcripts, summed over the shards."""
    out: dict[str, list[int]] = {}
    for shard in shards:
        for source, records, samples, spelled in shard.sources:
            row = out.setdefault(source, [0, 0, 0])
            row[0] += records
            row[1] += samples
            row[2] += spelled
    return {s: {"examples": r[0], "samples": r[1], "spelled": r[2]} for s, r in sorted(out.items())}


class AlignmentNotes:
    """Note -> {"alignment": [{source, item, facts...}, ...]} sorted by (source, item)."""

    def create(self) -> list[Note]:
        return []

    def add(self, acc: list[Note], note: Note) -> list[Note]:
        acc.append(note)
        return acc

    def merge(self, accs: Iterable[list[Note]]) -> list[Note]:
        return [n for acc in accs for n in acc]

    def extract(self, acc: list[Note]) -> dict[str, Any]:
        return {
            "alignment": [
                {"source": n.source, "item": n.item, **n.facts}
                for n in sorted(acc, key=lambda n: (n.source, n.item))
            ]
        }


class BuildNotes(AlignmentNotes):
    """A build's notes: subtitle and caption alignment (as :class:`AlignmentNotes`), and the
    teacher stage's one note per labelled recording (facts ``{"label": counts}``) summed per
    source into ``{"labels": {source: {recordings, seconds, speech_seconds, heard}}}``: a fixed
    size whatever the corpus's length."""

    def create(self):
        return [], {}

    def add(self, acc, note: Note):
        notes, labels = acc
        counts = note.facts.get("label")
        if isinstance(counts, dict):
            mine = labels.setdefault(note.source, collections.Counter())
            mine.update(counts)
        else:
            notes.append(note)
        return acc

    def merge(self, accs):
        notes: list[Note] = []
        labels: dict[str, collections.Counter] = {}
        for more, counted in accs:
            notes += more
            for source, counts in counted.items():
                labels.setdefault(source, collections.Counter()).update(counts)
        return notes, labels

    def extract(self, acc) -> dict[str, Any]:
        notes, labels = acc
        out = super().extract(notes)
        if labels:
            out["labels"] = {
                source: {
                    k: round(v, 3) if isinstance(v, float) else v for k, v in sorted(c.items())
                }
                for source, c in sorted(labels.items())
            }
        return out


class ScoreHistogram:
    """Verify's Notes (facts: ``scores`` and counts) -> ``{"verify": {**facts, "sources": ...}}``:
    per source the counts and score quantiles, from a histogram of scores in bins of
    1/SCORE_BIN (``facts``: the job's settings and model)."""

    COUNTS = ("kept", "retimed", "rejected", "skipped", "readings", "reread")

    def __init__(self, facts: dict[str, Any] | None = None):
        self.facts = facts or {}

    def create(self) -> dict[str, dict[str, collections.Counter]]:
        return {}

    def add(self, acc, note: Note):
        entry = acc.setdefault(
            note.source, {"counts": collections.Counter(), "bins": collections.Counter()}
        )
        entry["counts"].update({k: note.facts.get(k, 0) for k in self.COUNTS})
        entry["bins"].update(round(s * SCORE_BIN) for s in note.facts.get("scores", ()))
        return acc

    def merge(self, accs):
        out: dict[str, dict[str, collections.Counter]] = {}
        for acc in accs:
            for source, entry in acc.items():
                mine = out.setdefault(
                    source, {"counts": collections.Counter(), "bins": collections.Counter()}
                )
                mine["counts"].update(entry["counts"])
                mine["bins"].update(entry["bins"])
        return out

    def extract(self, acc) -> dict[str, Any]:
        out = {}
        for source in sorted(acc):
            counts, bins = acc[source]["counts"], acc[source]["bins"]
            entry: dict[str, Any] = {k: int(counts.get(k, 0)) for k in self.COUNTS}
            if bins:
                entry["score_quantiles"] = {
                    str(q): round(histogram_quantile(bins, q), 3) for q in QUANTILES
                }
            out[source] = entry
        return {"verify": {**self.facts, "sources": out}}


def histogram_quantile(bins: collections.Counter, q: float) -> float:
    """The ``q`` quantile (linear between order statistics, as numpy's default) of the values
    a histogram of bin -> count stands for (value = bin / SCORE_BIN)."""
    n = sum(bins.values())
    position = q * (n - 1)
    low, high = int(position), min(int(position) + 1, n - 1)
    values: dict[int, float] = {}
    seen = 0
    for b in sorted(bins):
        following = seen + bins[b]
        for k in (low, high):
            if seen <= k < following:
                values[k] = b / SCORE_BIN
        if high < following:
            break
        seen = following
    return values[low] + (values[high] - values[low]) * (position - low)
