"""The job skeleton at scale: the shard plan from part totals, facts by combiners, the ledger
in pieces, units enumerated by workers, and the same bytes on every runner and worker count."""

from __future__ import annotations

import collections
import pickle
import random
from pathlib import Path

import numpy as np
import pytest
from support.jobs import IN_PROCESS, build, many_config, published, read_ledger
from support.speech import tiny_librispeech

from speechmill.corpus.parts import WRITTEN_FORM_RE, PartIndex, PartSummary, UnitResult
from speechmill.corpus.plan import (
    PartRef,
    limit_table,
    order_key,
    place_records,
    plan_split,
    shard_count,
)


@pytest.fixture(scope="module")
def many_units(tmp_path_factory) -> Path:
    return tiny_librispeech(tmp_path_factory.mktemp("many"), chapters=24, per_chapter=6)


# ---------------------------------------------------------------- the plan, as pure functions


def synthetic_parts(rng: random.Random, units: int) -> tuple[list[PartRef], dict[str, PartIndex]]:
    refs, indexes = [], {}
    for u in range(units):
        sizes = [rng.choice([90, 300, 1200, 9000]) for _ in range(rng.randint(1, 12))]
        ends = tuple(int(x) for x in np.cumsum(sizes))
        index = PartIndex(
            ends, tuple(s // 3 for s in sizes), tuple(rng.random() < 0.3 for _ in sizes)
        )
        path = f"/parts/{u:04d}-train.tfrecord"
        part = PartSummary.of("train", path, "src", f"unit/{u:04d}", index)
        refs.append(PartRef(f"{u:020d}", 0, part))
        indexes[path] = index
    return refs, indexes


@pytest.mark.parametrize("units, shard_mb", [(1, 0.001), (40, 0.002), (300, 0.01), (300, 100)])
def test_placing_records_from_part_totals_equals_a_walk_over_every_record(units, shard_mb):
    refs, indexes = synthetic_parts(random.Random(units), units)
    placed = list(plan_split(reversed(refs), seed=9, shard_mb=shard_mb))  # any input order
    got: dict[tuple[str, int], int] = {}
    for p in placed:
        for raw, piece in place_records(p, indexes[p.path]):
            starts = [0, *indexes[p.path].ends]
            for i, end in enumerate(indexes[p.path].ends):
                if piece.begin <= starts[i] and end <= piece.end:
                    got[(p.path, i)] = raw
            assert piece.records == sum(piece.begin <= s < piece.end for s in starts[:-1])
    # the walk the plan replaces: every record of the split in order, one at a time
    ordered = sorted(refs, key=lambda r: order_key(r, 9))
    total = sum(r.part.bytes for r in ordered)
    count = shard_count(total, sum(r.part.records for r in ordered), shard_mb)
    expected, written = {}, 0
    for ref in ordered:
        start = 0
        for i, end in enumerate(indexes[ref.part.path].ends):
            expected[(ref.part.path, i)] = min(count - 1, int(written * count / total))
            written += end - start
            start = end
    assert got == expected and len(got) == sum(r.part.records for r in refs)


def test_a_limit_keeps_the_first_utterances_of_a_table_reading_one_index():
    refs, indexes = synthetic_parts(random.Random(2), 30)
    limit = sum(r.part.records for r in refs[:7]) + 1  # the eighth unit is cut after one record
    read = []

    def read_index(ref):
        read.append(ref.part.path)
        return indexes[ref.part.path]

    kept = list(limit_table(reversed(refs), limit, read_index))
    assert [r.part.key for r in kept] == [r.part.key for r in refs[:8]]
    assert sum(r.part.records for r in kept) == limit and len(read) == 1
    cut = kept[-1].part
    assert cut.bytes == indexes[cut.path].ends[0] and cut.samples == indexes[cut.path].samples[0]


# ---------------------------------------------------------------- whole jobs


def test_combined_facts_equal_a_direct_count_and_the_ledger_comes_in_sorted_pieces(
    tmp_path, many_units, monkeypatch
):
    import speechmill.corpus.shards as shards
    from speechmill.corpus.reader import load_info, rejects, utterances

    monkeypatch.setattr(shards, "LEDGER_LINES", 4)  # in-process runner: a few lines a piece
    out = tmp_path / "corpus"
    info = build(many_config(tmp_path, many_units), out)
    records = {s: list(utterances(str(out), load_info(str(out)), s)) for s in info["splits"]}
    assert sum(len(shard) > 0 for shard in info["splits"]["train"]["shards"]) > 1
    for split, utts in records.items():
        assert info["splits"][split]["examples"] == len(utts) > 0
        assert info["splits"][split]["seconds"] == round(
            sum(u.num_samples for u in utts) / 16000, 3
        )
    every = [u for utts in records.values() for u in utts]
    (source,) = info["sources"]
    assert (
        source["examples"] == len(every) == 24 * 6 - source["cleaning"]["rejects"]["duration:short"]
    )
    assert source["hours"] == round(sum(u.num_samples for u in every) / 16000 / 3600, 4)
    assert (
        source["cleaning"]["spelled_out"]
        == sum(bool(WRITTEN_FORM_RE.search(u.text_raw)) for u in every)
        > 0
    )
    ledger = list(rejects(str(out), info))
    assert info["rejects"]["total"] == len(ledger) == 16  # every ninth of 144 clips
    assert dict(collections.Counter(r["reason"] for r in ledger)) == info["rejects"]["by_reason"]
    pieces = sorted(out.glob("rejects-*-of-*.jsonl"))
    assert [p.name for p in pieces] == info["rejects"]["ledger"] and len(pieces) == 4
    for piece in pieces:
        lines = piece.read_text().splitlines()
        assert lines == sorted(lines)  # (a piece can be empty: lines go by hash)
    assert read_ledger(out) == ledger  # the reader streams the pieces in order


def test_units_enumerated_by_workers_give_the_launcher_listed_build_byte_for_byte(
    tmp_path, many_units
):
    from speechmill.corpus.config import load_config
    from speechmill.pipelines.build_corpus import build_job, configured_sources
    from speechmill.pipelines.job import JobRun, run_corpus_job

    config_path = many_config(tmp_path, many_units)
    by_workers = build(config_path, tmp_path / "workers")
    config = load_config(str(config_path))
    sources, units = configured_sources(config)
    assert len(units) == 1  # the launcher lists the folder, not its 24 chapters
    listed = [(i, u) for i, unit in units for u in sources[i].expand(unit)]  # as it used to
    job = build_job(config, str(tmp_path / "launcher"), sources, listed)
    by_launcher = run_corpus_job(job, JobRun(beam_args=tuple(IN_PROCESS)))
    assert by_workers == by_launcher
    assert published(tmp_path / "workers") == published(tmp_path / "launcher")


@pytest.mark.parametrize("kernel", [True, False])
def test_shard_bytes_are_the_ranges_of_the_parts_with_or_without_copy_file_range(
    tmp_path, monkeypatch, kernel
):
    import errno
    import os

    from speechmill.corpus import storage

    if not kernel:  # a file system without copy_file_range: the user-space path

        def refuse(*_):
            raise OSError(errno.EXDEV, "cross-device")

        monkeypatch.setattr(os, "copy_file_range", refuse)
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(os.urandom(20_000))
    b.write_bytes(os.urandom(9_000))
    ranges = [(str(a), 100, 5_000), (str(b), 0, 9_000), (str(a), 19_000, 20_000)]
    assert storage.copy_ranges(ranges, str(tmp_path / "shard")) == 4_900 + 9_000 + 1_000
    data = {str(a): a.read_bytes(), str(b): b.read_bytes()}
    assert (tmp_path / "shard").read_bytes() == b"".join(data[p][s:e] for p, s, e in ranges)
    with pytest.raises(OSError, match="ends before byte"):
        storage.copy_ranges([(str(b), 0, 9_001)], str(tmp_path / "short"))


@pytest.mark.parametrize(
    "pattern",
    ["*", "a/*", "*/*/*.flac", "a/*/*.trans.txt", "a/b/*", "a/b/c.flac", "a/b", "a/?/*", "z/*"],
)
def test_a_local_match_lists_what_beams_match_lists(tmp_path, pattern):
    """Local patterns within folders are matched by the standard glob (it lists only the
    folders the pattern names): the files, sizes and times are Beam's, hidden files, a FIFO
    and a link to a file included, folders left out (but a folder named without a wildcard),
    nothing found through a link to a folder."""
    import os

    from apache_beam.io.filesystems import FileSystems

    from speechmill.corpus import storage

    for name, size in [("a/b/c.flac", 5), ("a/b/.hidden.flac", 3), ("a/b/x.trans.txt", 7)]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x" * size)
    (tmp_path / "a/b/d").mkdir()
    (tmp_path / "a/top.flac").write_bytes(b"")
    os.mkfifo(tmp_path / "a/b/pipe.flac")
    (tmp_path / "a/b/link.flac").symlink_to(tmp_path / "a/b/c.flac")
    (tmp_path / "a/linked").symlink_to(tmp_path / "a/b", target_is_directory=True)
    full = f"{tmp_path}/{pattern}"
    beams = sorted(
        (m.path, m.size_in_bytes, m.last_updated_in_seconds)
        for m in FileSystems.match([full])[0].metadata_list
    )
    ours = [(m.path, m.size, m.mtime) for m in storage.match(full)]
    assert ours == beams
    assert bool(ours) == (pattern not in ("*", "z/*"))  # the top holds only a folder
    assert not any("/linked/" in path for path, *_ in ours)
    assert storage._globbed_locally(full)


def test_only_records_whose_key_may_repeat_move_to_the_candidate_grouping():
    """The build's one grouping below the unit (repeated ids and sounds) receives only
    candidates: of 60 000 records with three repeated ids, exactly the six occurrences of
    those three, found across units through a sketch merged from two workers' halves."""
    from speechmill.corpus.candidates import Seen
    from speechmill.corpus.repeats import candidates, seen_keys

    indexes, results = {}, []
    for u in range(600):
        ids = [f"src/{u}-{r}" for r in range(100)]
        if u in (17, 301, 599):
            ids[5] = f"src/{u - 1}-7"  # a copy of the unit before's record 7
        path = f"/parts/{u:04d}-train.tfrecord"
        indexes[path] = PartIndex(tuple(range(1, 101)), (1600,) * 100, (False,) * 100, tuple(ids))
        part = PartSummary("train", path, "src", f"unit/{u}", 100, 100, 160_000, 0)
        results.append(UnitResult(f"{u:04d}", f"unit/{u}", (part,)))

    def read_index(_digest, path):
        return indexes[path]

    halves = [Seen(), Seen()]
    for i, result in enumerate(results):
        seen_keys(result, read_index, False, halves[i % 2])
    # They travel as Beam moves a combiner's accumulators: pickled, 3 bytes a key and a table
    # of counts (on the DirectRunner the launcher holds them all for the merge).
    moved_halves = [pickle.dumps(h) for h in halves]
    assert all(len(b) < 3 * 30_000 + 64 * 1024 for b in moved_halves)
    passed_on = pickle.loads(moved_halves[0])  # the launcher's grouping: decoded, encoded again
    assert pickle.dumps(passed_on) == moved_halves[0]
    seen = pickle.loads(moved_halves[0]).merge(pickle.loads(moved_halves[1]))
    side_input = pickle.dumps(seen.repeated_only())  # what every worker reads in pass two
    assert len(side_input) < 4096  # the three repeats and two tables of counts
    seen = pickle.loads(side_input)
    moved = [key for r in results for key, _ in candidates(r, read_index, False, seen)]
    assert sorted(moved) == sorted(f"id:src/{u - 1}-7" for u in (17, 301, 599) for _ in (0, 1))
