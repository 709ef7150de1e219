"""Nothing redone, one writer: a killed build resumes from its finished units, new tables build
only their units, changed inputs rebuild theirs, and a second job on the same OUT is refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.jobs import IN_PROCESS, build, write_config

REPO = Path(__file__).resolve().parent.parent
BOOK = """*** START OF THE PROJECT GUTENBERG EBOOK LAMPS ***

The lamps were lit at six every evening. Martha carried the ladder from post to post.

Nobody in the village remembered a night when she had missed one of them.

*** END OF THE PROJECT GUTENBERG EBOOK LAMPS ***
"""
VOICES = ["en-us", "en", "en-us+f3", "en-gb-scotland", "en-029", "en-us+m3"]


def tts_config(
    tmp_path: Path, voices: list[str], name: str = "tts.toml", extra_table: str = ""
) -> Path:
    book = tmp_path / "lamps.txt"
    if not book.exists():
        book.write_text(BOOK)
    return write_config(
        tmp_path / name,
        f"""
        [[source]]
        type = "gutenberg"
        books = ["{book}"]
        voices = {voices}
        rates = [150, 190]
        split = "train"
        min_words = 4
        {extra_table}
        """,
    )


def manifests(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (out / ".parts").glob("*.json")}


def corpus_files(out: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and not p.name.startswith(".")
    }


@pytest.mark.slow
def test_a_killed_build_resumes_and_ends_byte_identical_to_a_clean_one(tmp_path):
    config = tts_config(tmp_path, VOICES)
    out = tmp_path / "resumed"
    job = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "speechmill.cli",
            "corpus",
            "--config",
            str(config),
            "--output",
            str(out),
            *IN_PROCESS,
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / ".parts").glob("*.json"))) < 4:
        time.sleep(0.05)
    os.kill(job.pid, signal.SIGKILL)
    job.wait()
    finished = manifests(out)
    assert 4 <= len(finished) < 12 and not (out / "info.json").exists()

    info = build(config, out)
    after = manifests(out)
    assert len(after) == 12
    assert {name: after[name] for name in finished} == finished  # finished units were not redone

    clean = build(config, tmp_path / "clean")
    assert info == clean and corpus_files(out) == corpus_files(tmp_path / "clean")


@pytest.mark.slow
def test_new_tables_build_only_their_units_and_changed_inputs_rebuild(tmp_path, librispeech):
    base = tts_config(tmp_path, VOICES[:2])
    out = tmp_path / "corpus"
    build(base, out)
    before = manifests(out)
    assert len(before) == 4

    grown = tts_config(
        tmp_path,
        VOICES[:2],
        "grown.toml",
        extra_table=f"""
        [[source]]
        type = "librispeech"
        path = "{librispeech}"
        """,
    )
    info = build(grown, out)
    after = manifests(out)
    assert len(after) == 4 + 3 and {name: after[name] for name in before} == before
    assert build(grown, tmp_path / "clean") == info and corpus_files(out) == corpus_files(
        tmp_path / "clean"
    )

    (tmp_path / "lamps.txt").write_text(
        BOOK.replace("six", "seven")
    )  # the book changed: its units rebuild
    build(grown, out)
    again = manifests(out)
    assert sum(again[n] != after[n] for n in after) == 4

    build(grown, out, "--fresh", *IN_PROCESS)  # --fresh: everything again
    assert all(mtime != again[name] for name, mtime in manifests(out).items())

    build(base, out)  # a table removed: its files go
    assert len(manifests(out)) == 4 and len(list((out / ".parts").glob("*.tfrecord"))) == 4


def test_a_second_job_on_the_same_output_is_refused_in_one_line(tmp_path, capsys):
    from speechmill.commands.corpus import main
    from speechmill.corpus.workdir import output_lock

    config = tts_config(tmp_path, VOICES[:1])
    out = tmp_path / "corpus"
    with output_lock(str(out)):
        assert main(["--config", str(config), "--output", str(out), *IN_PROCESS]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "is being written by another job (pid" in err[0]
        assert sorted(p.name for p in out.iterdir()) == [".lock"]
    assert main(["--config", str(config), "--output", str(out), *IN_PROCESS]) == 0


def test_augment_reuses_finished_ranges_and_spreads_one_shard_over_units(
    tmp_path, librispeech_corpus
):
    from speechmill.commands.augment import run

    def augment(out: Path, recipe: str, *extra: str) -> dict:
        return run(
            ["--input", str(librispeech_corpus), "--output", str(out), "--recipe", recipe, *extra]
        )

    out = tmp_path / "aug"
    first = augment(out, "speed=0.9,1.1", *IN_PROCESS)
    before = manifests(out)
    assert augment(out, "speed=0.9,1.1", *IN_PROCESS) == first and manifests(out) == before
    other = augment(
        tmp_path / "two",
        "speed=0.9,1.1",
        "--direct_num_workers=2",
        "--direct_running_mode=multi_processing",
    )
    assert other == first and corpus_files(tmp_path / "two") == corpus_files(out)
    augment(out, "speed=1.2", *IN_PROCESS)
    assert all(
        mtime != before.get(name) for name, mtime in manifests(out).items() if name in before
    )


@pytest.mark.parametrize("records, per_unit, units", [(6, 32, 1), (70, 32, 3), (64, 32, 2)])
def test_shards_are_cut_into_record_ranges(tmp_path, records, per_unit, units):
    from speechmill.corpus.reader import shard_ranges
    from speechmill.corpus.tfrecord import frame, read_records

    path = tmp_path / "train-00000-of-00001.tfrecord"
    payloads = [os.urandom(17 + i) for i in range(records)]
    path.write_bytes(b"".join(frame(p) for p in payloads))
    ranges = shard_ranges("train", str(path), per_unit)
    assert len(ranges) == units and ranges[0].start == 0 and ranges[-1].end == path.stat().st_size
    data = path.read_bytes()
    import io

    got = [r for unit in ranges for r in read_records(io.BytesIO(data[unit.start : unit.end]))]
    assert got == payloads
